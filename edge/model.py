"""Frozen records passed between pipeline stages.

Data flows one way: hardware backends -> weighing / vision -> fusion -> outbox -> MQTT.
Stages exchange only these records, so each stage can be tested by feeding it records.
Times are unix seconds (float, host clock) unless a field name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class WeightFrame:
    """One decoded sample line from the load-cell microcontroller.

    `counts[i]` is channel i's raw ADC count (or grams for a plain-protocol source configured
    in grams), or None when that channel's ADC did not answer in this frame.
    `seq` and `mcu_ms` are None for the plain protocol.
    """

    t: float
    counts: tuple[float | None, ...]
    seq: int | None = None
    mcu_ms: int | None = None


@dataclass(frozen=True, slots=True)
class InfoFrame:
    """The microcontroller's self-description, sent at boot and on request ($Q)."""

    t: float
    firmware: str
    channels: int
    sps: float
    uid: str


@dataclass(frozen=True, slots=True)
class PlateReading:
    """Calibrated grams per plate at one instant (None where a plate has a faulty channel)."""

    t: float
    grams: tuple[float | None, ...]


Quality = Literal["settled", "forced", "noisy", "faulty_channel"]


@dataclass(frozen=True, slots=True)
class WeightEvent:
    """A change of stable level on one or more plates: stable -> active -> stable.

    `plate_deltas` maps plate name -> grams (negative = weight left the plate).
    `sigma_g` is the 1-sigma uncertainty of `delta_g` from the measured noise.
    """

    t_start: float
    t_end: float
    plate_deltas: dict[str, float]
    delta_g: float
    sigma_g: float
    quality: Quality = "settled"
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Detection:
    """One detector output mapped back to frame pixels."""

    label: str
    class_id: int
    score: float
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels


@dataclass(frozen=True, slots=True)
class PlateEvidence:
    """What the camera saw on one plate during a time window."""

    plate: str
    labels: dict[str, tuple[float, float]] = field(default_factory=dict)  # label -> (best, mean) score
    frames: int = 0
    hand_present: bool = False
    snapshot: str | None = None  # path/id of the best frame's JPEG, if kept
