"""One way for a test to wait for something a thread or another process does: poll a condition."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 5.0, step: float = 0.05) -> bool:
    """True as soon as `condition()` is truthy, False if it is not within `timeout` seconds (checked once more
    at the end, so a condition met just at the deadline counts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())
