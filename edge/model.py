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
class PlateTrace:
    """One plate's grams around a change, downsampled (edge/weighing/trace.py): (unix s, grams) in time
    order, from one settle window before the change began to the window that settled it."""

    plate: str
    points: tuple[tuple[float, float], ...]


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
    # per plate, for the item event's evidence (not part of the weight event's JSON, nor of its equality)
    traces: tuple[PlateTrace, ...] = field(default=(), compare=False, repr=False)


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
    # descriptor of the handled item's crop(s) over the window (edge.vision.appearance, unit norm); () = none
    appearance: tuple[float, ...] = ()
    # label -> frames (of `frames`) in which it was seen; {} = not counted (each seen label then counts once)
    label_frames: dict[str, int] = field(default_factory=dict)


ItemAction = Literal["pick", "put", "unknown", "restock"]


@dataclass(frozen=True, slots=True)
class WeightEventRef:
    """How an item event names a weight event it rests on: the outbox's event_id and seq, when it has them
    (replay without an outbox passes the event's index as `seq`)."""

    event_id: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class ItemLine:
    """`count` units of `sku` left (pick) or arrived on (put, restock) `plate`. An item lying across plates
    names the plate that took most of its weight and lists all in `plates`."""

    sku: str
    count: int
    plate: str
    plates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemAlternative:
    """A hypothesis fusion did not choose, with its calibrated probability."""

    action: ItemAction
    lines: tuple[ItemLine, ...]
    probability: float
    misplaced: bool = False


@dataclass(frozen=True, slots=True)
class PlateChange:
    """One plate's part of the evidence: grams (negative = left the plate) and their 1-sigma."""

    plate: str
    delta_g: float
    sigma_g: float


@dataclass(frozen=True, slots=True)
class ItemEvent:
    """Fusion's answer for one weight event, or for neighbouring weight events scored as one item.

    `confidence` is the calibrated probability that action and lines are right; `review_reasons` are
    codes (docs/fusion.md). `vision` summarises what the camera contributed (JSON-ready)."""

    t_start: float
    t_end: float
    action: ItemAction
    lines: tuple[ItemLine, ...]
    confidence: float
    misplaced: bool
    review_required: bool
    review_reasons: tuple[str, ...]
    alternatives: tuple[ItemAlternative, ...]
    weight_events: tuple[WeightEventRef, ...]
    changes: tuple[PlateChange, ...]
    residual_g: float
    quality: Quality = "settled"
    flags: tuple[str, ...] = ()
    vision: dict[str, object] = field(default_factory=dict)
    snapshot: str | None = None
    trace: tuple[PlateTrace, ...] | None = None  # per plate, grams before/during/after, when weighing gives one
    stock: dict[str, dict[str, int]] = field(default_factory=dict)  # plate -> sku -> units after this event


@dataclass(frozen=True, slots=True)
class PlateRegion:
    """Where a plate lies in the camera's view: a polygon in camera pixels (from `[[plates]] roi`)."""

    name: str
    polygon: tuple[tuple[float, float], ...]
