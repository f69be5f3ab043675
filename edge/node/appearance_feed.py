"""The node's appearance loop: the gallery's examples -> per-plate splitters -> fusion's appearance factor
(docs/gallery.md "Appearance in the daemon", docs/fusion.md "Appearance factor").

    feed = AppearanceFeed.for_node(config, vision, items.stage, gallery_feed, planogram=lambda: items.planogram)
    evidence = feed.describe(event, evidence)   # processing thread, before fusion: PlateEvidence.appearance
    feed.start() ... feed.stop()                # the refresh thread
    gallery_feed.admit = feed.admits            # the poisoning guard (gallery worker thread)

Only on a node with a [camera], a [detector] and `[gallery] enabled` and `appearance` (for_node returns
None otherwise: nothing changes). The descriptor is `CropEmbedder`'s (edge/vision/appearance_embed.py): colour
statistics of the crop plus the detector backbone's `Conv2d_13_pointwise` pooled over the crop, from a second
interpreter of the same model run on the crop; the same descriptor `shelf-node gallery check` and
bench/gallery.py measure, and one that a stored crop can be given again (a full frame's feature map is not
kept with the crop). The second interpreter is loaded at the first crop to describe (`LazyEmbedder`).

- **Refresh thread**: after `refresh_examples` new examples or review answers (or `refresh_s` after any
  change, or a new planogram), the examples of each plate's look-alike SKUs (the planogram's weight twins
  the camera's labels cannot split, as `gallery check` lists them) taken on that plate, or on any plate
  (`[gallery] examples_from`: edge/gallery/scope.py), are described, each once (cached in the gallery:
  `put_descriptor`), a new `AppearanceSplitter` is built, its cross-plate pair checks prepared
  (`AppearanceSplitter.prepare`: here, not at an event's first vote), and set as `stage.appearance` in one
  assignment (fusion reads the old one or the new one, never a half-built one). After the hand-over only
  fusion's votes (processing thread) change it, building a pair not prepared; other threads only read its
  per-plate splitters, which never change.
- **describe** (processing thread, after the weight event is in the outbox, before fusion): only for
  touched plates whose current splitter is *trusted* (elsewhere the vote would abstain), one crop per plate
  over the event's window (the gallery's choice: the detection box, else the hand region), cut as the
  gallery cuts it, described: one invoke of ~20-30 ms per such plate, nothing for any other event.
- **admits** (gallery worker thread): an `auto` crop that will teach a trusted plate (its own, or with
  `any_plate` every plate where its SKU is a look-alike) is described and refused when one such plate's
  confident vote calls it another SKU (`PlateSplitter.admits`); its descriptor is kept for the refresh.

One lock serialises the embedder's interpreter; the refresh takes it per crop, so `describe` waits at most
one crop's invoke for it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from edge.config import NodeConfig
from edge.config.detector import DetectorSection
from edge.errors import CameraError, ModelError, StateError
from edge.gallery import Crop, GalleryExample
from edge.gallery.check import look_alikes
from edge.gallery.crops import Frame, choose, cut_all
from edge.gallery.scope import plate_examples, plates_taught
from edge.model import PlateEvidence, PlateRegion, WeightEvent
from edge.planogram import Planogram
from edge.vision.appearance_splitter import AppearanceSplitter, SplitterSettings

if TYPE_CHECKING:
    from edge.fusion import FusionStage
    from edge.node.gallery_feed import GalleryFeed
    from edge.vision.service import VisionService

log = logging.getLogger(__name__)

WINDOW_MARGIN_S = 1.0  # as the evidence and the gallery's crops
POLL_S = 2.0  # how often the refresh thread looks at the gallery's counters
CACHE = 256  # descriptors of admitted crops kept for the refresh (by plate, time, box)
COUNTERS = ("described", "not_seen", "errors", "refreshes", "refresh_errors", "embedded", "admit_checks",
            "refused")


class Embedder(Protocol):
    """edge.vision.appearance_embed.CropEmbedder: `describe([crop_bgr]) -> unit float32 vector`."""

    def describe(self, crops: list[Any]) -> np.ndarray: ...


class Frames(Protocol):
    """What the loop reads of the camera: the vision service's look-back ring, plate regions, hand label and
    overlap (VisionService; in replay, the recorded frames' ring: edge/node/replay_appearance.py)."""

    @property
    def regions(self) -> Sequence[PlateRegion]: ...
    @property
    def hand_label(self) -> str: ...
    @property
    def min_overlap(self) -> float: ...
    def frames_between(self, t0: float, t1: float) -> Sequence[Frame]: ...


class Examples(Protocol):
    """What the loop reads of the gallery (edge.gallery.Gallery; in replay a read-only copy,
    edge/gallery/frozen.py): labelled examples, their JPEGs, the descriptor cache."""

    def examples(self, skus: Iterable[str] | None = None, plate: str | None = None) -> list[GalleryExample]: ...
    def image(self, example_id: int) -> bytes | None: ...
    def descriptors(self, kind: str, skus: Iterable[str] | None = None) -> dict[str, list[tuple[int, Any]]]: ...
    def put_descriptor(self, example_id: int, kind: str, vector: Any) -> None: ...


def descriptor_kind(detector: DetectorSection) -> str:
    """The descriptor cache's kind: the embedder and the model it ran (a new model describes them again).
    OSError when the model file cannot be read."""
    from edge.hw.runtime import sha256_of
    from edge.vision.appearance_embed import DESCRIPTOR_KIND

    return f"{DESCRIPTOR_KIND}:{(detector.model_sha256 or sha256_of(detector.model))[:12]}"


class LazyEmbedder:
    """A `CropEmbedder` of `model` loaded at its first crop: a node whose planogram has no look-alikes (or
    whose gallery has nothing to describe yet) never pays for the second interpreter (~20 MB)."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self._embedder: Embedder | None = None

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def describe(self, crops: list[Any]) -> np.ndarray:
        if self._embedder is None:
            from edge.vision.appearance_embed import CropEmbedder

            self._embedder = CropEmbedder(self.model, threads=1)  # ModelError when it cannot be loaded
            log.info("appearance: loaded %s a second time for crop descriptors", self.model)
        return self._embedder.describe(crops)


class AppearanceFeed:
    def __init__(self, config: NodeConfig, vision: Frames, stage: FusionStage, gallery: Examples,
                 planogram: Callable[[], Planogram | None], embedder: Embedder, kind: str,
                 changes: Callable[[], int] = lambda: 0) -> None:
        """`changes`: a number that grows with every new example or review answer (the gallery feed's counters)."""
        self.settings = config.gallery
        self.vision = vision
        self.stage = stage
        self.gallery = gallery
        self.planogram = planogram
        self.embedder = embedder
        self.kind = kind  # the descriptor cache's kind: embedder and model
        self.changes = changes
        self.splitter_settings = SplitterSettings(min_accuracy=self.settings.min_accuracy,
                                                  min_examples=self.settings.min_examples)
        self.splitter = AppearanceSplitter({}, self.splitter_settings)
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.describe_ms: list[float] = []  # the last few describe() costs (status: mean, max)
        self.refresh_ms = 0.0
        self.refreshed_at: float | None = None
        self._embed_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, float, tuple[int, ...]], np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[int, Any] | None = None  # (changes, planogram identity) at the last refresh
        self._changed_at: float | None = None
        self._look_alikes: dict[str, tuple[str, ...]] = {}  # plate -> its look-alike SKUs, at the last refresh

    @classmethod
    def for_node(cls, config: NodeConfig, vision: VisionService | None, stage: FusionStage, feed: GalleryFeed,
                 planogram: Callable[[], Planogram | None]) -> AppearanceFeed | None:
        """The daemon's loop, or None when the node has no camera, detector or gallery (or appearance is off),
        or the model cannot be loaded a second time (logged: the node runs without appearance)."""
        gallery = config.gallery
        if vision is None or config.detector is None or not (gallery.enabled and gallery.appearance):
            return None
        try:
            kind = descriptor_kind(config.detector)
        except OSError as exc:
            log.error("appearance: the model %s cannot be read (%s); look-alikes stay in review",
                      config.detector.model, exc.strerror or exc)
            return None
        embedder = LazyEmbedder(config.detector.model)
        counters = feed.counters
        self = cls(config, vision, stage, feed.gallery, planogram, embedder, kind,
                   changes=lambda: counters["stored"] + counters["review_answers"])
        feed.admit = self.admits
        feed.appearance_status = self.status
        return self

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.stage.appearance = self.splitter
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="appearance", daemon=True)
            self._thread.start()
            self._wake.set()  # the first splitter at once, from what the gallery already holds

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def poke(self) -> None:
        """Refresh now (tests, a reviewer's batch of answers)."""
        self._seen = None
        self._wake.set()

    # -- processing thread -----------------------------------------------------------------------------
    def describe(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence]) -> dict[str, PlateEvidence]:
        """`evidence` with `appearance` filled for the plates whose splitter is trusted. Never raises (the
        processing thread must live on): a fault leaves the evidence as it was, so look-alikes stay twins."""
        try:
            return self._describe(event, evidence)
        except Exception:  # a bug or a model fault: counted, logged with the traceback; fusion goes on without
            self.counters["errors"] += 1
            log.exception("appearance: no crop descriptor for the event at %.3f (error %d)", event.t_end,
                          self.counters["errors"])
            return dict(evidence)

    def _describe(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence]) -> dict[str, PlateEvidence]:
        out = dict(evidence)
        splitter = self.splitter
        plates = sorted(p for p in evidence if p in splitter.plates and splitter.plates[p].report.trusted)
        if not plates:
            return out
        started = time.perf_counter()
        frames = self.vision.frames_between(event.t_start - WINDOW_MARGIN_S, event.t_end + WINDOW_MARGIN_S)
        choices = choose(frames, self.vision.regions, plates, self._labels(plates), self.vision.hand_label,
                         self.vision.min_overlap)
        for crop in cut_all(choices, self.settings):
            vector = self._embed(crop.jpeg, f"the {crop.plate} crop of an event")
            if vector is not None:
                out[crop.plate] = dataclasses.replace(out[crop.plate], appearance=tuple(float(v) for v in vector))
                self.counters["described"] += 1
        self.counters["not_seen"] += len(plates) - sum(1 for p in plates if out[p].appearance)
        self.describe_ms = [*self.describe_ms[-49:], (time.perf_counter() - started) * 1000.0]
        return out

    def _labels(self, plates: list[str]) -> dict[str, tuple[str, ...]]:
        planogram = self.planogram()
        if planogram is None:
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for plate in plates:
            labels: list[str] = []
            for slot in planogram.plates.get(plate, []):
                try:
                    labels.extend(planogram.item(slot.sku).labels)
                except KeyError:
                    continue
            out[plate] = tuple(dict.fromkeys(labels))
        return out

    # -- gallery worker thread -------------------------------------------------------------------------
    def admits(self, sku: str, crop: Crop) -> bool:
        """GalleryFeed.admit: False when a trusted plate the crop will teach (its own, or with `examples_from =
        "any_plate"` any plate where the SKU is a look-alike: `plates_taught`) confidently calls it another SKU."""
        splitter = self.splitter  # one snapshot: the refresh thread may hand over a new one meanwhile
        taught = plates_taught(sku, crop.plate, {p: s.report.skus for p, s in splitter.plates.items()},
                               self.settings.examples_from)
        judges = [splitter.plates[p] for p in taught if splitter.plates[p].report.trusted]
        if not judges:
            return True
        self.counters["admit_checks"] += 1
        vector = self._embed(crop.jpeg, f"a new {sku} crop")
        if vector is None:
            return True
        with self._cache_lock:
            self._cache[(crop.plate, crop.t, tuple(crop.box))] = vector
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        admitted = all(judge.admits(sku, vector) for judge in judges)
        self.counters["refused"] += not admitted
        return admitted

    # -- refresh thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._due(time.monotonic()):
                try:
                    self.refresh()
                except StateError as exc:  # the gallery file refuses (disk full): the old splitter stays
                    self.counters["refresh_errors"] += 1
                    log.warning("appearance: refresh failed: %s; the splitter in use stays", exc)
                except Exception:  # a bug: logged with the traceback; the node and the old splitter go on
                    self.counters["refresh_errors"] += 1
                    log.exception("appearance: refresh failed; the splitter in use stays")

    def _due(self, now: float) -> bool:
        changes, planogram = self.changes(), self.planogram()
        identity = None if planogram is None else (planogram.id, planogram.version)
        if self._seen is None or self._seen[1] != identity:
            return True
        new = changes - self._seen[0]
        if new <= 0:
            return False
        if self._changed_at is None:
            self._changed_at = now
        return new >= self.settings.refresh_examples or now - self._changed_at >= self.settings.refresh_s

    def refresh(self) -> AppearanceSplitter:
        """Describe the examples not described yet, build the splitters, hand them to fusion (refresh thread)."""
        started = time.perf_counter()
        changes, planogram = self.changes(), self.planogram()
        galleries: dict[str, dict[str, list[np.ndarray]]] = {}
        plates = {} if planogram is None else look_alikes(planogram)
        vectors = self._cached({sku for skus in plates.values() for sku in skus})
        for plate, skus in plates.items():
            galleries[plate] = self._plate_gallery(plate, skus, vectors)
        splitter = AppearanceSplitter(galleries, self.splitter_settings)
        self._prepare(splitter, planogram)
        self.splitter, self._look_alikes = splitter, plates
        self.stage.appearance = splitter  # one assignment: fusion sees the old splitter or this one
        self._seen = (changes, None if planogram is None else (planogram.id, planogram.version))
        self._changed_at = None
        self.counters["refreshes"] += 1
        self.refresh_ms = (time.perf_counter() - started) * 1000.0
        self.refreshed_at = time.time()
        trusted = [r.plate for r in splitter.reports() if r.trusted]
        log.info("appearance: splitter rebuilt in %.0f ms: %d plate(s) with look-alikes, trusted: %s",
                 self.refresh_ms, len(galleries), ", ".join(trusted) or "none")
        return splitter

    def _prepare(self, splitter: AppearanceSplitter, planogram: Planogram | None) -> None:
        """Build here the pair checks a vote across plates may ask for (the planogram's plausible rivals by
        unit weight), not at that vote on the processing thread (~0.6 s a pair at 100 examples per SKU). Done
        before the hand-over: `prepare` must not run beside fusion's votes (which build, lazily, the rest)."""
        if planogram is None or not splitter.plates:
            return
        started = time.perf_counter()
        weights = {item.sku: (item.unit_weight_g, item.unit_sigma_g) for item in planogram.catalogue}
        pairs = splitter.pairs(weights)
        built = splitter.prepare(pairs, cancelled=self._stop.is_set)
        log.info("appearance: %d pair check(s) built for %d plausible pair(s) across plates in %.0f ms", built,
                 len(pairs), (time.perf_counter() - started) * 1000.0)

    def _cached(self, skus: set[str]) -> dict[int, np.ndarray]:
        """Example id -> its cached descriptor, for the SKUs' examples (one read per refresh)."""
        rows = self.gallery.descriptors(self.kind, sorted(skus)).values() if skus else ()
        return {example_id: vector for found in rows for example_id, vector in found}

    def _plate_gallery(self, plate: str, skus: tuple[str, ...],
                       vectors: dict[int, np.ndarray]) -> dict[str, list[np.ndarray]]:
        """The plate's splitter's examples (`[gallery] examples_from`), described; `vectors` (this refresh's
        descriptors by example id) gains the new ones, so an example teaching two plates is described once."""
        out: dict[str, list[np.ndarray]] = {sku: [] for sku in skus}
        for example in plate_examples(self.gallery, plate, skus, self.settings.examples_from):
            if self._stop.is_set():
                break
            vector = vectors.get(example.id)
            if vector is None:
                with self._cache_lock:
                    vector = self._cache.pop((example.plate, example.t, tuple(example.box)), None)
                if vector is None:
                    jpeg = self.gallery.image(example.id)
                    vector = None if jpeg is None else self._embed(jpeg, f"gallery example {example.id}")
                if vector is None:
                    continue
                self.gallery.put_descriptor(example.id, self.kind, vector)
                vectors[example.id] = vector
            out[example.sku].append(vector)
        return out

    def _embed(self, jpeg: bytes, what: str) -> np.ndarray | None:
        from edge.hw.jpeg import decode_jpeg

        try:
            image = decode_jpeg(np.frombuffer(jpeg, np.uint8), what)
        except CameraError as exc:
            log.warning("appearance: %s", exc)
            return None
        try:
            with self._embed_lock:
                vector = self.embedder.describe([image])
        except ModelError as exc:  # the second interpreter cannot be loaded or read: no descriptor, logged
            self.counters["errors"] += 1
            if self.counters["errors"] == 1 or self.counters["errors"] % 100 == 0:
                log.error("appearance: %s (error %d); look-alikes stay in review", exc, self.counters["errors"])
            return None
        self.counters["embedded"] += 1
        return np.asarray(vector, np.float32)

    # -- status ----------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """`stats.parts.gallery.appearance`: per plate with look-alikes, trusted or not, its examples."""
        reports, look_alikes, recent = self.splitter.reports(), self._look_alikes, self.describe_ms
        plates = []
        for r in reports:
            skus = look_alikes.get(r.plate, r.skus)
            examples = {sku: r.examples.get(sku, 0) for sku in skus}
            needed, fewest = r.needed_more, min(examples.values(), default=0)
            if needed is None and fewest < self.splitter_settings.min_examples:  # as `gallery check` says it
                needed = self.splitter_settings.min_examples - fewest
            plates.append({"plate": r.plate, "skus": list(skus), "trusted": r.trusted, "examples": examples,
                           "accuracy": None if r.smoothed_accuracy is None else round(r.smoothed_accuracy, 4),
                           "needed_more": needed})
        return {"kind": self.kind, "trusted_plates": [r.plate for r in reports if r.trusted], "plates": plates,
                "refreshed_at": self.refreshed_at, "refresh_ms": round(self.refresh_ms, 1),
                "describe_ms": {"mean": round(float(np.mean(recent)), 1) if recent else None,
                                "max": round(max(recent), 1) if recent else None},
                "counters": dict(self.counters)}
