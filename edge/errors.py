"""One exception tree for shelf-node.

Every error the project raises on purpose derives from `ShelfNodeError`, and mixes in the
built-in it resembles so callers can catch either (the gpiozero pattern). Messages say what
was wrong and how to fix it, in one line.
"""

from __future__ import annotations


class ShelfNodeError(Exception):
    """Root of every deliberate shelf-node error."""


class ConfigError(ShelfNodeError, ValueError):
    """The configuration file (or a section of it) is invalid. `problems` lists one line each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class SecretError(ConfigError):
    """A secret (password, key) could not be read from its file or credentials directory."""


class ProtocolError(ShelfNodeError, ValueError):
    """A line from the load-cell microcontroller could not be decoded."""


class PortError(ShelfNodeError, OSError):
    """The serial port could not be opened or was lost."""


class CalibrationError(ShelfNodeError, ValueError):
    """Calibration input is nonsense, or persisted calibration is corrupt or missing."""


class NotStableError(ShelfNodeError, RuntimeError):
    """An operation that needs a stable plate (tare, calibrate) was asked while it moves."""


class StateError(ShelfNodeError, OSError):
    """A file or directory of the node's state (state_dir) cannot be created or written: disk full,
    read-only, permissions, a mistyped path. Not the request's fault, so commands answer `failed`."""


class CaptureError(ShelfNodeError, ValueError):
    """A capture file is malformed."""


class OutboxError(ShelfNodeError, OSError):
    """The durable outbox could not store or read an event."""


class ModelError(ShelfNodeError, RuntimeError):
    """The detector model, its runtime or its labels could not be loaded."""


class CameraError(ShelfNodeError, OSError):
    """The camera source could not be opened or stopped delivering frames."""


class CommandError(ShelfNodeError, ValueError):
    """An inbound command (MQTT cmd/<name>) was malformed, unknown, refused or failed."""
