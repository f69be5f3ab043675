"""Camera evidence for replay from recorded frames (`shelf-node replay --frames DIR`).

The node's evidence step (`Node._evidence_for`) over a `RecordedCamera`: for each weight event, the
frames the live ring would have held when it was emitted (the capture's clock), the real detector on
those of the event's window (`EVIDENCE_MARGIN_S` either side, as the node), the touched plates'
evidence, and `camera_ok` as the grabber would have said, and False as well when the frames stop for
more than a second during the event (`RecordedCamera.lost_during`). Config: `[camera]` (buffer,
drop-out; its `source` is not opened), `[detector]` (the model) and the plates' `roi`.
"""

from __future__ import annotations

from pathlib import Path

from edge.config import NodeConfig
from edge.config.camera import CameraSection
from edge.errors import ConfigError
from edge.model import PlateEvidence, WeightEvent
from edge.node.node import EVIDENCE_MARGIN_S
from edge.vision.recorded import FrameDirectory, RecordedCamera, RecordedFrames
from edge.vision.regions import regions_from_config


def recorded_camera(config: NodeConfig, frames: Path | RecordedFrames) -> RecordedCamera:
    """The replay camera for `config` over a frame directory (or any RecordedFrames); ConfigError when the
    config cannot say what the camera saw (no [detector], no plate roi). CameraError for a bad directory."""
    from edge.vision.detector import Detector

    if config.detector is None:
        raise ConfigError("replay --frames needs a [detector] section (model, labels) in the config to run on the "
                          "frames; add the one the node uses")
    regions = regions_from_config(config.plates)
    if not regions:
        raise ConfigError("replay --frames needs the plates' roi in the config (which part of the frame each plate "
                          "is); `shelf-node sim frames --print-roi` prints them for simulated frames")
    source = frames if not isinstance(frames, Path) else FrameDirectory(frames)
    settings = config.camera or CameraSection(source=str(frames))
    detector = Detector.load(config.detector)
    return RecordedCamera(source, settings, detector, regions, config.detector.hand_label,
                          config.detector.roi_min_overlap, config.detector.crop_scale)


def evidence_for(camera: RecordedCamera, event: WeightEvent, now: float) -> tuple[bool, dict[str, PlateEvidence]]:
    """(camera_ok, the touched plates' evidence) for a weight event emitted at capture time `now`."""
    camera.advance(now)
    t0, t1 = event.t_start - EVIDENCE_MARGIN_S, event.t_end + EVIDENCE_MARGIN_S
    if not camera.camera_ok(now) or camera.lost_during(event.t_start, min(now, event.t_end)):
        return False, {}
    touched = set(event.plate_deltas)
    evidence = camera.evidence(t0, t1, touched)
    return True, {plate: ev for plate, ev in evidence.items() if plate in touched}
