"""Stage stamps for the latency benchmark (bench/latency.py): off unless the `edge.timing` logger is at debug.

`shelf-node --log-levels edge.timing=debug run ...` makes the node write one debug line `timing {json}` per
stage of each event: the frame that completed a weight event (when the reader got it, when the weigher
returned), each outbox commit, and (edge/mqtt/link.py, the same logger) when the link took a row and
published it. Times are CLOCK_MONOTONIC seconds, one clock for every process of the machine, so a benchmark
lines them up with its own stamps (the line written to the pty, the hub's receipt).

Off (always, outside a benchmark) the cost is one `isEnabledFor` per event, nothing per frame.
"""

from __future__ import annotations

import json
import logging
import time

from edge.model import WeightFrame

LOGGER = logging.getLogger("edge.timing")  # edge/mqtt/link.py writes to the same one by name
PREFIX = "timing "


def enabled() -> bool:
    return LOGGER.isEnabledFor(logging.DEBUG)


def stamp(stage: str, **fields: object) -> None:
    """One line: the stage, its fields and `at`, the monotonic time now."""
    LOGGER.debug("%s%s", PREFIX, json.dumps({"stage": stage, "at": time.monotonic(), **fields}))


def frame_weighed(frame: WeightFrame) -> None:
    """The frame that completed one or more weight events: its seq, when the reader got it (its wall-clock `t`
    moved to the monotonic clock) and now, when the weigher returned the events."""
    now_mono, now_wall = time.monotonic(), time.time()
    LOGGER.debug("%s%s", PREFIX, json.dumps({"stage": "weighed", "at": now_mono, "frame_seq": frame.seq,
                                             "read": now_mono - (now_wall - frame.t),
                                             "read_wall": frame.t}))
