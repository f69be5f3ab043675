"""Raw channel counts -> grams, and per-channel fault bookkeeping (silent or at the ADC rail)."""

from __future__ import annotations

from dataclasses import dataclass

# A channel is reported faulty while it faulted within this many seconds.
FAULT_HOLD_S = 5.0


@dataclass(slots=True)
class ChannelHealth:
    silent: int = 0  # frames where the channel did not answer (None)
    saturated: int = 0  # frames at or beyond the ADC rail
    invalid: int = 0  # frames with a value that is not a number (NaN)
    consecutive: int = 0
    last_fault_t: float | None = None
    last_kind: str | None = None

    def record(self, t: float, kind: str | None) -> None:
        if kind is None:
            self.consecutive = 0
            return
        if kind == "silent":
            self.silent += 1
        elif kind == "saturated":
            self.saturated += 1
        else:
            self.invalid += 1
        self.consecutive += 1
        self.last_fault_t = t
        self.last_kind = kind

    def faulty_at(self, t: float) -> bool:
        return self.consecutive > 0 or (self.last_fault_t is not None and t - self.last_fault_t < FAULT_HOLD_S)

    def as_dict(self, t: float) -> dict[str, object]:
        return {
            "faulty": self.faulty_at(t),
            "last_fault": self.last_kind,
            "silent_frames": self.silent,
            "saturated_frames": self.saturated,
            "invalid_frames": self.invalid,
        }


def fault_kind(counts: float | None, saturation: float) -> str | None:
    """None when the value is usable, else 'silent', 'saturated' or 'invalid' (NaN)."""
    if counts is None:
        return "silent"
    if counts != counts:
        return "invalid"
    if counts >= saturation or counts <= -saturation:
        return "saturated"
    return None
