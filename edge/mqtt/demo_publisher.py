"""Append synthetic weight events to the outbox and publish them: the smallest real producer.

    python -m edge.mqtt.demo_publisher --config node.toml --count 200 --rate 100 --until-drained 30

Used by the kill -9 tests and the benchmark; the daemon (edge/node.py) does the same with real
weight events. Prints `appended <seq>` per event (flushed), then `drained` when the outbox is empty.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from edge.config.loader import load_config
from edge.errors import ShelfNodeError
from edge.model import WeightEvent
from edge.mqtt.link import MqttLink
from edge.outbox import open_outbox
from edge.weighing.events import weight_event_to_dict


def weight_body(index: int, plates: list[str]) -> dict[str, Any]:
    """A plausible weight event, serialised exactly as the weighing stage does it."""
    now = time.time()
    plate = plates[index % len(plates)]
    delta = -round(100.0 + index % 7 * 12.5, 1)
    event = WeightEvent(t_start=now - 1.2, t_end=now, plate_deltas={plate: delta}, delta_g=delta, sigma_g=1.5)
    return weight_event_to_dict(event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--count", type=int, default=0, help="events to append (0 = only drain the backlog)")
    parser.add_argument("--rate", type=float, default=0.0, help="events/s to append; 0 = as fast as possible")
    parser.add_argument("--until-drained", type=float, default=None, metavar="S",
                        help="after appending, wait up to S seconds for an empty outbox, then stop cleanly")
    parser.add_argument("--no-link", action="store_true", help="only append (broker 'down' for the node)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        outbox = open_outbox(config)
        link = None if args.no_link else MqttLink(config, outbox)
    except ShelfNodeError as exc:
        print(f"demo_publisher: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    if link is not None:
        link.start()
    try:
        plates = config.plate_names()
        for index in range(args.count):
            info = outbox.append("weight", weight_body(index, plates), produced_at=time.time())
            print(f"appended {info.seq}", flush=True)
            if args.rate > 0:
                time.sleep(1.0 / args.rate)
        if args.until_drained is not None:
            deadline = time.monotonic() + args.until_drained
            while outbox.depth > 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            print("drained" if outbox.depth == 0 else f"not drained: {outbox.depth} left", flush=True)
            print(f"elapsed {time.monotonic() - started:.3f} s since the link started", flush=True)
    finally:
        if link is not None:
            link.stop()
        outbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
