"""The appearance factor for replay from recorded frames (`shelf-node replay --frames DIR --gallery PATH`).

    appearance = ReplayAppearance.build(config, camera, items.stage, lambda: items.planogram, FrozenGallery.open(path))
    camera_ok, evidence = evidence_for(camera, event, t_emit)
    if evidence:
        evidence = appearance.describe(event, evidence)     # as the daemon, after the evidence, before fusion

The daemon's loop (edge/node/appearance_feed.py `AppearanceFeed`) over a replay: the per-plate splitters are
built once, before the first event, from a gallery that is never written (edge/gallery/frozen.py: a copy or
export of a node's gallery, or the node's own file read-only), by the same `refresh` the daemon's thread
runs (the examples chosen by the config's `[gallery] examples_from` as there, edge/gallery/scope.py; the
cross-plate pair checks prepared there too, so no event pays for them); each item event's crop
is chosen, cut and described by the same `describe`, from the frames the recorded ring holds
(`RecordedCamera`), on the whole-frame detections the evidence ran (as the live ring's).
The splitter does not learn during the replay (no crop of the replayed events joins it), so the answers
depend on the capture, the frames and the gallery only: the same inputs give the same item events.
Plates whose splitter is not trusted get no descriptor, and fusion then decides as without a gallery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge.config import NodeConfig
from edge.errors import ConfigError
from edge.gallery.frozen import FrozenGallery
from edge.model import PlateEvidence, PlateRegion, WeightEvent
from edge.node.appearance_feed import AppearanceFeed, Embedder, LazyEmbedder, descriptor_kind
from edge.planogram import Planogram
from edge.vision.recorded import RecordedCamera

if TYPE_CHECKING:
    from edge.fusion import FusionStage


class RingView:
    """What the appearance loop reads of a camera, over the recorded frames' ring."""

    def __init__(self, camera: RecordedCamera) -> None:
        self.camera = camera

    @property
    def regions(self) -> Sequence[PlateRegion]:
        return self.camera.regions

    @property
    def hand_label(self) -> str:
        return self.camera.hand_label

    @property
    def min_overlap(self) -> float:
        return self.camera.min_overlap

    def frames_between(self, t0: float, t1: float) -> list[Any]:
        return self.camera.ring.frames_between(t0, t1)


@dataclass
class ReplayAppearance:
    feed: AppearanceFeed
    gallery: FrozenGallery

    @classmethod
    def build(cls, config: NodeConfig, camera: RecordedCamera, stage: FusionStage,
              planogram: Callable[[], Planogram | None], gallery: FrozenGallery,
              embedder: Embedder | None = None) -> ReplayAppearance:
        """The splitters from `gallery` for `planogram`'s look-alike plates, set in `stage` (the replay's
        ItemStep.stage). ConfigError without a [detector] or with `[gallery] appearance = false`. A model that
        cannot describe crops is counted (`errors`) and logged, as in the daemon: then nothing is trusted."""
        if config.detector is None:
            raise ConfigError("replay --gallery needs a [detector] section (the model describes the crops)")
        if not config.gallery.appearance:
            raise ConfigError("replay --gallery: the config has [gallery] appearance = false, so the node would not "
                              "use its gallery either; set it to true or replay without --gallery")
        try:
            kind = descriptor_kind(config.detector)
        except OSError as exc:
            raise ConfigError(f"[detector] model {config.detector.model}: cannot be read "
                              f"({exc.strerror or exc})") from None
        feed = AppearanceFeed(config, RingView(camera), stage, gallery, planogram,
                              embedder or LazyEmbedder(config.detector.model), kind)
        feed.refresh()  # the daemon's refresh, once: every example described, the splitters set in fusion
        return cls(feed, gallery)

    def describe(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence]) -> dict[str, PlateEvidence]:
        """`evidence` with the crop descriptors of the plates whose splitter is trusted (the daemon's describe)."""
        return self.feed.describe(event, evidence)

    def summary(self) -> dict[str, Any]:
        """What `replay --json` says under `appearance`: the source, its examples, each plate's trust, counters."""
        status = self.feed.status()
        return {"gallery": self.gallery.source, "examples": self.gallery.counts(),
                "trusted_plates": status["trusted_plates"], "plates": status["plates"],
                "counters": {k: status["counters"][k] for k in ("described", "not_seen", "errors", "embedded")},
                "describe_ms": status["describe_ms"]}

    def close(self) -> None:
        self.gallery.close()
