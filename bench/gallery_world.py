"""The simulated shelf of bench/gallery.py: plates of same-label twins, the same SKUs' facings on plates where
they live alone (or beside a SKU of a clearly different weight), product photos per SKU, item crops with
per-event jitter, and item events through fusion with the statistical camera and the appearance vote.

Fast in-process path (no daemon, no load-cell physics): each interaction becomes one settled weight event
(the unit's true weight, drawn from its spread, plus 0.8 g of noise), its label evidence comes from the
statistical camera (edge.sim.stat_camera, measured rates) and its appearance from crops of the SKU's photos
(edge.sim.camera.photos.jittered_crop) described by edge.vision.appearance_embed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.config.gallery import GallerySection
from edge.fusion import FusionSettings, FusionStage
from edge.fusion.appearance_factor import AppearanceVoter
from edge.model import ItemEvent, WeightEvent, WeightEventRef
from edge.node.gallery_feed import auto_label
from edge.planogram import Planogram, parse_planogram
from edge.sim.camera.photos import TEACH, TEST, PhotoLibrary, jittered_crop
from edge.sim.planogram_doc import SPREAD_FLOOR_G
from edge.sim.scenario import Item
from edge.sim.stat_camera import StatisticalCamera
from edge.sim.truth import TruthRecord
from edge.vision.appearance import Descriptor
from edge.vision.appearance_embed import DESCRIPTOR_KIND, DESCRIPTOR_KINDS, CropEmbedder

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MODEL = SHARED / "models" / "coco_ssd_mobilenet_v1_1.0_quant" / "detect.tflite"
IMAGES = SHARED / "images"
EVENT_SIGMA_G = 0.8
STOCK = 400
MIN_CONFIDENCE = GallerySection().min_confidence  # [gallery] min_confidence: 0.999
CACHE = Path(__file__).resolve().parents[1] / "build" / "gallery-descriptors"  # descriptors of jittered crops

# Twin plates. Products picked on the teach photos only (leave-one-photo-out over the 10 teach photos of
# each pair, docs/vision.md "Appearance"): p1-p3 split there, p4 (two milks of one brand) does not, and is
# here to show that the splitter never votes where its own check fails.
PLATES: tuple[tuple[str, tuple[Item, Item]], ...] = (
    ("p1", (Item(sku="golden-182", unit_g=182.0, variation=0.008, labels=["apple"], look="Golden-Delicious"),
            Item(sku="pink-lady-185", unit_g=185.0, variation=0.008, labels=["apple"], look="Pink-Lady"))),
    ("p2", (Item(sku="bravo-apple-1l", unit_g=1078.0, variation=0.004, labels=["bottle"], look="Bravo-Apple-Juice"),
            Item(sku="god-morgon-orange-1l", unit_g=1078.0, variation=0.004, labels=["bottle"],
                 look="God-Morgon-Orange-Juice"))),
    ("p3", (Item(sku="arla-yoghurt-1kg", unit_g=1060.0, variation=0.004, labels=["bottle"],
                 look="Arla-Natural-Yoghurt"),
            Item(sku="yoggi-yoghurt-1kg", unit_g=1060.0, variation=0.004, labels=["bottle"],
                 look="Yoggi-Strawberry-Yoghurt"))),
    ("p4", (Item(sku="arla-medium-1l", unit_g=1052.0, variation=0.004, labels=["bottle"], look="Arla-Medium-Fat-Milk"),
            Item(sku="arla-standard-1l", unit_g=1052.0, variation=0.004, labels=["bottle"],
                 look="Arla-Standard-Milk"))),
)
ITEMS: tuple[Item, ...] = tuple(item for _, pair in PLATES for item in pair)
PLATE_OF: dict[str, str] = {item.sku: plate for plate, pair in PLATES for item in pair}  # the SKU's twin plate
TWIN_OF: dict[str, str] = {a.sku: b.sku for _, (a, b) in PLATES} | {b.sku: a.sku for _, (a, b) in PLATES}
# A second facing of every SKU, where no look-alike shares the plate: alone, or beside a SKU of a clearly
# different weight (an apple of 182-185 g beside a 1078 g carton). Their picks are the self-labelled crops the
# issue counts on, when fusion settles them at >= MIN_CONFIDENCE.
SOLO: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("p5", ("golden-182", "bravo-apple-1l")), ("p6", ("pink-lady-185", "god-morgon-orange-1l")),
    ("p7", ("arla-yoghurt-1kg",)), ("p8", ("yoggi-yoghurt-1kg",)), ("p9", ("arla-medium-1l",)),
    ("p10", ("arla-standard-1l",)))
SOLO_OF: dict[str, str] = {sku: plate for plate, skus in SOLO for sku in skus}
SHELF: tuple[tuple[str, tuple[str, ...]], ...] = tuple((p, tuple(i.sku for i in pair)) for p, pair in PLATES) + SOLO


@dataclass(frozen=True, slots=True)
class Example:
    """One event's look of one unit: its descriptor, the photo it came from, and the JPEG size of its crop."""

    sku: str
    descriptor: Descriptor
    photo: str
    jpeg_bytes: int


@dataclass(frozen=True, slots=True)
class Interaction:
    sku: str
    example: Example
    plate: str = ""  # where it was picked; "" = the SKU's twin plate (PLATE_OF)

    @property
    def where(self) -> str:
        return self.plate or PLATE_OF[self.sku]


@dataclass(frozen=True, slots=True)
class Outcome:
    sku: str
    plate: str
    answer: str | None
    correct: bool
    review: bool
    reasons: tuple[str, ...]
    confidence: float
    voted: bool
    fusion_ms: float  # CPU time of on_weight_event + flush
    auto: str | None = None  # the SKU the node's gallery would label the crop with by itself (auto_label)


def planogram() -> Planogram:
    catalogue = [{"sku": i.sku, "name": i.sku, "unit_weight_g": i.unit_g,
                  "unit_sigma_g": round(max(i.unit_g * i.variation, SPREAD_FLOOR_G), 3), "labels": list(i.labels)}
                 for i in ITEMS]
    plates = {plate: [{"sku": sku, "stock": STOCK, "facings": 1} for sku in skus] for plate, skus in SHELF}
    document = {"format": 2, "id": "gallery-bench", "version": 2, "catalogue": catalogue, "plates": plates}
    return parse_planogram(json.dumps(document), [p for p, _ in SHELF])


class Looks:
    """Crops of each SKU's teach or test photos, jittered per event, and their descriptors (cached)."""

    def __init__(self, images: Path = IMAGES, model: Path | None = MODEL, crops_per_event: int = 2,
                 descriptor: str = DESCRIPTOR_KIND, cache: Path | None = None) -> None:
        self.libraries = {TEACH: PhotoLibrary(images, TEACH), TEST: PhotoLibrary(images, TEST)}
        self.backbone = model is not None and model.is_file()
        self.model = model if self.backbone else None
        self.embedder = CropEmbedder(self.model, descriptor=descriptor)
        self.crops_per_event = crops_per_event
        self.embed_ms: list[float] = []  # per crop, of the crops described in this run (not read from `cache`)
        self.cached = 0  # examples read from `cache`
        self.disk = cache
        self._digest = _code_digest(self.model, descriptor, crops_per_event) if cache is not None else ""
        self._cache: dict[tuple[str, str, int, int], list[Example]] = {}

    def examples(self, item: Item, split: str, count: int, seed: int) -> list[Example]:
        """`count` events' looks of `item` from the `split` photos; the same arguments give the same looks (the
        disk `cache`, when set, is keyed by them and by the descriptor's code, model and photos)."""
        key = (item.sku, split, count, seed)
        if key not in self._cache:
            self._cache[key] = self._load(item, split, count, seed) or self._examples(item, split, count, seed)
        return self._cache[key]

    def _file(self, item: Item, split: str, count: int, seed: int) -> Path | None:
        if self.disk is None:
            return None
        return self.disk / f"{self._digest}-{item.sku}-{item.look}-{split}-{count}-{seed}.npz"

    def _load(self, item: Item, split: str, count: int, seed: int) -> list[Example] | None:
        path = self._file(item, split, count, seed)
        if path is None or not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            out = [Example(item.sku, row, str(photo), int(size))
                   for row, photo, size in zip(data["descriptors"], data["photos"], data["jpeg_bytes"], strict=True)]
        self.cached += len(out)
        return out

    def _save(self, item: Item, split: str, count: int, seed: int, examples: list[Example]) -> None:
        path = self._file(item, split, count, seed)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.npz")
        np.savez(part, descriptors=np.stack([e.descriptor for e in examples]),
                 photos=np.array([e.photo for e in examples]), jpeg_bytes=np.array([e.jpeg_bytes for e in examples]))
        part.replace(path)

    def _examples(self, item: Item, split: str, count: int, seed: int) -> list[Example]:
        from edge.hw.draw import encode_jpeg

        library = self.libraries[split]  # type: ignore[index]
        photos = library.photos_for(item)
        if not photos:
            raise RuntimeError(f"no {split} photos for {item.sku} (family {item.look}) under {library.root}")
        rng = np.random.default_rng([seed, sum(item.sku.encode()), len(item.sku), split == TEACH])
        out = []
        for _ in range(count):
            photo = photos[int(rng.integers(len(photos)))]
            image = library.image(photo)
            crops = [jittered_crop(image, rng) for _ in range(self.crops_per_event)]
            start = time.perf_counter()
            descriptor = self.embedder.describe(crops)
            self.embed_ms.append((time.perf_counter() - start) * 1000 / len(crops))
            out.append(Example(item.sku, descriptor, photo.file, len(encode_jpeg(crops[0], 85))))
        self._save(item, split, count, seed, out)
        return out


def _code_digest(model: Path | None, descriptor: str, crops_per_event: int) -> str:
    """What a cached descriptor depends on besides its arguments: the descriptor kind, the model file, the
    source of the embedder, the jitter and the photo split, and the crops per event."""
    import edge.sim.camera.photos
    import edge.sim.photo_rates
    import edge.vision.appearance
    import edge.vision.appearance_embed

    digest = hashlib.sha256(f"{descriptor}:{crops_per_event}".encode())
    for module in (edge.vision.appearance_embed, edge.vision.appearance, edge.sim.camera.photos, edge.sim.photo_rates):
        digest.update(Path(module.__file__ or "").read_bytes())
    if model is not None:
        digest.update(model.read_bytes())
    return digest.hexdigest()[:16]


def describe_cost(looks: Looks, rounds: int = 40, seed: int = 7) -> dict[str, float]:
    """Median ms per crop to describe the same teach crops with each descriptor kind, interleaved (one
    embedder per kind, loaded before timing), so a shared machine's load weighs on each alike."""
    embedders = {kind: CropEmbedder(looks.model, descriptor=kind) for kind in DESCRIPTOR_KINDS}
    library = looks.libraries[TEACH]
    rng = np.random.default_rng([seed, 0xC057])
    photos = [p for item in ITEMS for p in library.photos_for(item)]
    times: dict[str, list[float]] = {kind: [] for kind in embedders}
    for n in range(rounds):
        crop = jittered_crop(library.image(photos[n % len(photos)]), rng)
        for kind in (DESCRIPTOR_KINDS if n % 2 else DESCRIPTOR_KINDS[::-1]):
            start = time.perf_counter()
            embedders[kind].describe([crop])
            times[kind].append((time.perf_counter() - start) * 1000)
    return {kind: float(np.median(t)) for kind, t in times.items()}


def day_order(per_sku: dict[str, list[Example]], seed: int) -> list[Interaction]:
    """Every SKU's examples interleaved at random (shoppers pick what they pick), each SKU's in its order."""
    queues = {sku: list(examples) for sku, examples in per_sku.items()}
    rng = np.random.default_rng([seed, 0xDA7])
    out = []
    while any(queues.values()):
        skus = sorted(s for s, q in queues.items() if q)
        sku = skus[int(rng.integers(len(skus)))]
        out.append(Interaction(sku, queues[sku].pop(0)))
    return out


def facings(order: Sequence[Interaction], seed: int, twin_share: float) -> list[Interaction]:
    """Each pick from its SKU's twin plate with probability `twin_share`, else from its solo facing (SOLO)."""
    rng = np.random.default_rng([seed, 0xFACE])
    return [dataclasses.replace(i, plate=PLATE_OF[i.sku] if rng.random() < twin_share else SOLO_OF[i.sku])
            for i in order]


def run_fusion(interactions: Sequence[Interaction], voter: AppearanceVoter | None, seed: int,
               camera_seed: int) -> list[Outcome]:
    """Each interaction as a pick through one FusionStage (10 s apart), with the statistical camera's label
    evidence and the crop descriptor on the plate; judged against the truth."""
    items = {i.sku: i for i in ITEMS}
    plate_names = [p for p, _ in SHELF]
    rng = np.random.default_rng([seed, 0xE7])
    truth, events = [], []
    for n, interaction in enumerate(interactions):
        item = items[interaction.sku]
        t0 = 1000.0 + 10.0 * n
        grams = -(item.unit_g * (1 + item.variation * rng.standard_normal())) + EVENT_SIGMA_G * rng.standard_normal()
        plate = interaction.where
        truth.append(TruthRecord(n + 1, "pick", t0, t0 + 1.5, {plate: round(grams, 3)}, item.sku, 1, True, ""))
        events.append(WeightEvent(t0, t0 + 1.5, {plate: grams}, grams, EVENT_SIGMA_G))
    camera = StatisticalCamera(truth, list(ITEMS), plate_names, camera_seed)
    stage = FusionStage(plate_names, planogram(), FusionSettings())
    stage.appearance = voter
    out = []
    for n, (interaction, event) in enumerate(zip(interactions, events, strict=True)):
        plate = interaction.where
        evidence = camera.evidence(event.t_start - 1.0, event.t_end + 1.0) or {}
        if plate in evidence:
            evidence = {**evidence, plate: dataclasses.replace(
                evidence[plate], appearance=tuple(float(v) for v in interaction.example.descriptor))}
        start = time.thread_time_ns()  # CPU time of this thread: the machine is shared, wall time drifts with load
        items_out = stage.on_weight_event(event, evidence, True, event.t_end + 0.1, WeightEventRef(None, n))
        items_out += stage.flush()
        elapsed = (time.thread_time_ns() - start) / 1e6
        out.append(judge(interaction, plate, items_out, elapsed))
    return out


def judge(interaction: Interaction, plate: str, items: list[ItemEvent], elapsed_ms: float) -> Outcome:
    """Fusion's item events for one pick against the truth, and the label the node's gallery would give its
    crop by itself (edge.node.gallery_feed.auto_label at [gallery] min_confidence)."""
    if len(items) != 1:
        return Outcome(interaction.sku, plate, None, False, True, ("no_item",), 0.0, False, elapsed_ms)
    item = items[0]
    answer = item.lines[0].sku if len(item.lines) == 1 else None
    correct = (item.action == "pick" and len(item.lines) == 1 and item.lines[0].sku == interaction.sku
               and item.lines[0].count == 1)
    return Outcome(interaction.sku, plate, answer, correct, item.review_required, item.review_reasons,
                   item.confidence, "appearance" in item.vision, elapsed_ms, auto_label(item, MIN_CONFIDENCE))
