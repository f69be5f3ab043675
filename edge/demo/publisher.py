"""Append synthetic weight events to the outbox and publish them: the smallest real producer.

    shelf-node demo publish --config node.toml --count 200 --rate 100 --until-drained 30

Used by the kill -9 tests and the outbox benchmark, and by hub developers who want events from a
real `MqttLink` without a shelf; the daemon (edge/node/) does the same with real weight events.
Prints `appended <seq>` per event (flushed), then `drained` when the outbox is empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from edge.config.root import NodeConfig
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


def publish(config: NodeConfig, count: int, rate: float, until_drained: float | None, with_link: bool,
            say: Callable[[str], None]) -> None:
    """Append `count` events (at `rate`/s, 0 = as fast as possible), optionally wait for an empty outbox.

    Raises ShelfNodeError (OutboxError, SecretError) when the outbox or the link cannot be set up.
    """
    outbox = open_outbox(config)
    try:
        link = MqttLink(config, outbox) if with_link else None
    except BaseException:
        outbox.close()
        raise
    started = time.monotonic()
    if link is not None:
        link.start()
    try:
        plates = config.plate_names()
        for index in range(count):
            info = outbox.append("weight", weight_body(index, plates), produced_at=time.time())
            say(f"appended {info.seq}")
            if rate > 0:
                time.sleep(1.0 / rate)
        if until_drained is not None:
            deadline = time.monotonic() + until_drained
            while outbox.depth > 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            say("drained" if outbox.depth == 0 else f"not drained: {outbox.depth} left")
            say(f"elapsed {time.monotonic() - started:.3f} s since the link started")
    finally:
        if link is not None:
            link.stop()
        outbox.close()
