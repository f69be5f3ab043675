"""How a detector sees the rendered frames: per interaction, the evidence the vision service would
build (edge.vision.evidence) from every delivered frame of its window, and per label the hit rate.

Used by `scripts/measure-rendered-camera` (the real model) and its tests; the detector is any object
with `detect(bgr_image) -> list[Detection]`, so the logic runs without a model too.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge.model import Detection, PlateEvidence, PlateRegion
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.scenario import Item
from edge.sim.stat_camera import CameraRates, LookRates
from edge.sim.truth import TruthRecord
from edge.vision.evidence import AnalysedFrame, build_evidence

WINDOW_BEFORE_S, WINDOW_AFTER_S = 1.0, 1.0  # around t_start .. t_settled, as the node's look-back


class FrameDetector(Protocol):
    def detect(self, frame_bgr: npt.NDArray[np.uint8], threshold: float | None = None) -> list[Detection]: ...


@dataclass(frozen=True, slots=True)
class Sighting:
    record_id: int
    kind: str
    sku: str
    label: str | None  # the catalogue label the SKU should show (None: it has none)
    photo: str | None  # the photo composited (relative file), None: a painted pack
    family: str | None  # its photo family
    frames: int
    evidence: PlateEvidence  # on the plate it touched

    @property
    def hit(self) -> bool:
        return self.label is not None and self.label in self.evidence.labels


def regions(camera: RenderedCamera) -> list[PlateRegion]:
    return [PlateRegion(p.name, tuple((float(x), float(y)) for x, y in p.roi())) for p in camera.view.plates]


def sightings(
    camera: RenderedCamera,
    records: Iterable[TruthRecord],
    detector: FrameDetector,
    hand_label: str = "person",
    min_overlap: float = 0.3,
    threshold: float = 0.5,
    crop_scale: float | None = None,
) -> list[Sighting]:
    """For each pick / put of a SKU on a plate the camera sees, its plate's evidence over the window. With
    `crop_scale` the detector also runs on the window around the touched plate (edge.vision.plate_crops, as
    `[detector] crop_scale` does in replay); the detector must then be an edge.vision.detector.Detector."""
    from edge.hw.jpeg import decode_jpeg
    from edge.vision.plate_crops import crop_window, detect_in_window

    catalogue = {item.sku: item for item in camera.items}
    plate_regions = regions(camera)
    handled = {h.record_id: h for h in camera.timeline.handlings if h.record_id is not None}
    found = []
    for record in records:
        handling = handled.get(record.id)
        if record.kind not in ("pick", "put") or record.sku is None or handling is None:
            continue
        analysed = []
        touched = [r for r in plate_regions if r.name == handling.plates[0]]
        for seq, (ms, data) in enumerate(
            camera.frames(record.t_start - WINDOW_BEFORE_S, record.t_settled + WINDOW_AFTER_S)
        ):
            image = decode_jpeg(np.frombuffer(data, np.uint8), f"{ms}.jpg")
            detections = list(detector.detect(image, threshold))
            if crop_scale is not None:
                side = max(detector.input_w, detector.input_h)  # type: ignore[attr-defined]
                for region in touched:
                    window = crop_window(region, image.shape[1], image.shape[0], crop_scale, side)
                    detections += detect_in_window(detector, image, window)  # type: ignore[arg-type]
            analysed.append(AnalysedFrame(ms / 1000, seq, tuple(detections)))
        evidence = build_evidence(analysed, plate_regions, hand_label, min_overlap).evidence
        plate = handling.plates[0]
        item = catalogue[record.sku]
        photo = handling.photos[0] if handling.photos else None
        found.append(
            Sighting(
                record.id,
                record.kind,
                record.sku,
                _label(item),
                photo.file if photo else None,
                photo.family if photo else None,
                len(analysed),
                evidence[plate],
            )
        )
    return found


def _label(item: Item) -> str | None:
    return item.labels[0] if item.labels else None


@dataclass(frozen=True, slots=True)
class LabelRate:
    label: str
    interactions: int
    hits: int
    best_median: float | None
    confusions: dict[str, float]  # other label -> share of interactions showing it on the plate
    hand: float  # share of interactions with a hand box over the plate

    @property
    def hit_rate(self) -> float:
        return self.hits / self.interactions if self.interactions else 0.0


def rates_by(seen: Sequence[Sighting], key: str = "label", hand_label: str = "person") -> dict[str, LabelRate]:
    """Per catalogue label (key="label"), per SKU ("sku") or per photo family ("family")."""
    groups: dict[str, list[Sighting]] = defaultdict(list)
    for s in seen:
        name = {"label": s.label or "(none)", "sku": s.sku, "family": s.family or "(painted)"}[key]
        groups[name].append(s)
    out = {}
    for name, group in sorted(groups.items()):
        best = sorted(s.evidence.labels[s.label][0] for s in group if s.hit and s.label)
        others: Counter[str] = Counter()
        for s in group:
            others.update(label for label in s.evidence.labels if label not in (s.label, hand_label))
        out[name] = LabelRate(
            name,
            len(group),
            sum(s.hit for s in group),
            best[len(best) // 2] if best else None,
            {k: v / len(group) for k, v in sorted(others.items())},
            sum(s.evidence.hand_present for s in group) / len(group),
        )
    return out


def stock_of(planogram: Iterable[tuple[str, str]]) -> Mapping[str, list[str]]:
    """(plate, sku) pairs -> plate -> SKUs, for the painted stock."""
    stock: dict[str, list[str]] = defaultdict(list)
    for plate, sku in planogram:
        if sku not in stock[plate]:
            stock[plate].append(sku)
    return stock


def camera_rates(seen: Sequence[Sighting], base: CameraRates, hand_label: str = "person") -> CameraRates:
    """The statistical camera's rates re-measured on rendered frames: per photo family, the hit rate of its
    label, the best scores of the hits, each other label's share of interactions, and the hand share; the
    families `seen` has no interaction of, the no-look rates and the assumed ones stay as in `base`."""
    looks = dict(base.looks)
    groups: dict[str, list[Sighting]] = defaultdict(list)
    for s in seen:
        if s.family is not None:
            groups[s.family].append(s)
    hands = []
    for family, group in sorted(groups.items()):
        label = group[0].label
        hits = [s.evidence.labels[label][0] for s in group if s.hit and label]
        others: Counter[str] = Counter()
        for s in group:
            others.update(name for name in s.evidence.labels if name not in (label, hand_label))
        looks[family] = LookRates(label, len(hits) / len(group), tuple(sorted(round(b, 4) for b in hits)),
                                  {name: round(n / len(group), 4) for name, n in sorted(others.items())})
        hands += [s.evidence.hand_present for s in group]
    hand_seen = sum(hands) / len(hands) if hands else base.hand_seen
    return dataclasses.replace(base, looks=looks, hand_seen=round(hand_seen, 4))
