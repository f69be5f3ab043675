"""The node's typed status records: what `stats` and `birth` carry on MQTT, and what the control
socket and `shelf-node status` read. Each part is its producer's own record (the serial reader's,
the weigher's, the vision service's); the node adds its pipeline counters and its identity. JSON is
made once, by `to_json()`, where it leaves the process."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge.loadcell.serial_status import SerialStatus
from edge.node.line_recorder import RecordingStatus
from edge.weighing.status import BoardChange, WeigherStatus

if TYPE_CHECKING:  # the vision package pulls numpy and OpenCV; a node without a camera never imports it
    from edge.fusion.stage import FusionStatus
    from edge.gallery import GalleryStatus
    from edge.node.answers import ReliabilityStatus
    from edge.node.review import ReviewStatus
    from edge.vision.service import VisionStatus


@dataclass(slots=True)
class PipelineCounters:
    """Counted by the node's threads (the reader thread only touches `frames_dropped`)."""

    frames: int = 0  # weight frames processed
    events: int = 0  # weight events handed to the outbox
    frames_dropped: int = 0  # frames the reader could not queue (the processing thread was wedged)
    info_frames: int = 0  # the MCU's identity lines
    outbox_errors: int = 0  # events the outbox could not store at once (held in memory; stats.outbox.held/lost)
    evidence_errors: int = 0  # events whose camera evidence could not be gathered
    reloads: int = 0  # re-reads of the config (SIGHUP, `shelf-node reload`), refused ones included
    reloads_refused: int = 0  # ... refused (did not validate): the daemon runs on with the config it has


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """`stats.parts.node`: the processing pipeline's counters and health."""

    frames: int
    events: int
    frames_dropped: int
    info_frames: int
    outbox_errors: int
    evidence_errors: int
    reloads: int
    reloads_refused: int
    frame_queue: int  # frames waiting for the processing thread
    healthy: bool  # every worker alive and its heartbeat fresh (gates the systemd watchdog)

    @classmethod
    def of(cls, counters: PipelineCounters, frame_queue: int, healthy: bool) -> PipelineStatus:
        return cls(**dataclasses.asdict(counters), frame_queue=frame_queue, healthy=healthy)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """Everything the node's parts report now: `stats.parts` on MQTT (`to_json()`), and what the control
    socket's `status` shows. Each part is its producer's own record."""

    pipeline: PipelineStatus  # "node" in the JSON
    serial: SerialStatus
    weighing: WeigherStatus
    vision: VisionStatus | None  # None without a [camera]
    recording: RecordingStatus | None = None  # None unless `run --record`
    gallery: GalleryStatus | None = None  # labelled crops and review answers (docs/gallery.md)
    review: ReviewStatus | None = None  # flagged item events kept for review and their pictures (docs/vision.md)
    reliability: ReliabilityStatus | None = None  # reviewers' answers: table per confidence bin (docs/fusion.md)
    fusion: FusionStatus | None = None  # item events, reasons, stock and learned unit spreads (docs/fusion.md)

    @property
    def healthy(self) -> bool:
        return self.pipeline.healthy

    def to_json(self) -> dict[str, Any]:
        parts: dict[str, Any] = {"node": self.pipeline.to_json(), "serial": self.serial.to_json(),
                                 "weighing": self.weighing.to_json()}
        if self.vision is not None:
            parts["vision"] = self.vision.to_json()
        if self.recording is not None:
            parts["recording"] = self.recording.to_json()
        if self.gallery is not None:
            parts["gallery"] = self.gallery.to_json()
        if self.review is not None:
            parts["review"] = self.review.to_json()
        if self.reliability is not None:
            parts["reliability"] = self.reliability.to_json()
        if self.fusion is not None:
            parts["fusion"] = self.fusion.to_json()
        return parts


@dataclass(frozen=True, slots=True)
class PlateWiring:
    name: str
    channels: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "channels": list(self.channels)}


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    name: str  # the model file's name
    digest: str  # its sha256

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": self.digest}


@dataclass(frozen=True, slots=True)
class McuIdentity:
    """What the microcontroller said about itself in its last info line."""

    firmware: str
    channels: int
    sps: float
    uid: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class CalibrationSummary:
    source: str  # "defaults" or the calibration file's path
    calibrated_plates: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "calibrated_plates": list(self.calibrated_plates)}


@dataclass(frozen=True, slots=True)
class NodeBirth:
    """`birth` (retained, on every connection): what this node is, runs and is wired to."""

    software_version: str
    config_digest: str
    model: ModelIdentity | None  # None without a [detector]
    plates: tuple[PlateWiring, ...]
    calibration: CalibrationSummary
    mcu: McuIdentity | None  # None until the MCU has said who it is
    board_changed: BoardChange | None  # the MCU is not the board the calibration was made with

    def to_json(self) -> dict[str, Any]:
        return {
            "software_version": self.software_version,
            "config_digest": self.config_digest,
            "model": None if self.model is None else self.model.to_json(),
            "plates": [plate.to_json() for plate in self.plates],
            "calibration": self.calibration.to_json(),
            "mcu": None if self.mcu is None else self.mcu.to_json(),
            "board_changed": None if self.board_changed is None else self.board_changed.to_json(),
        }
