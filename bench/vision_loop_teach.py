"""The teach phase of bench/vision_loop.py: a gallery learned on the tuning seeds, as a node would gather it.

On each tuning seed (301, 302), rendered with the **measure** photos (never the reported held-out ones), the
same world as the scored seeds (bench/vision_loop_world.py: the capture replayed, the rendered frames through
the real detector as `replay --frames` runs them) goes through the `rendered_crop` mode's fusion, polled every
0.25 s between weight events as the node's loop polls it (a held event comes out ~1.5 s after it settled, not
at the next weight event). Each item event's crops are chosen and cut from the frames the ring holds when it
comes out, by the gallery's code
(edge.gallery.crops: the detection box, else the hand region over the plate), and labelled as the node's
gallery feed and a reviewer would label them (edge/node/gallery_feed.py, bench/gallery.py):

- `auto`: accepted (not flagged), a pick or put of one SKU, calibrated confidence >= `[gallery] min_confidence`
  (0.999), camera up: fusion's SKU, right or wrong (a wrong one is counted: the self-labelling's own error);
- `review`: flagged, camera up, and its truth one pick or put of one SKU: the reviewer's answer is the truth,
  and labels the crop of the plate it names (as `cmd/review_answer` labels the pending crops).

The crops go into a real gallery file (edge.gallery.Gallery, the node's bounds), which the scored seeds then
read through `replay --gallery`'s code (edge.gallery.frozen.FrozenGallery). Simplification against a running
node: the splitter does not grow during the teach phase, so no event of it is settled by appearance and the
admission guard (`PlateSplitter.admits`) never refuses a crop; the flagged events get their labels from the
reviewer instead, so the gallery holds the same crops with at most different sources.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fusion_run import maintenance_windows
from bench.item_scoring import judge, match_items
from bench.vision_loop_world import SeedWorld, seed_world
from edge.gallery import Crop, Gallery
from edge.gallery.crops import choose, cut_all
from edge.gallery.records import Source
from edge.model import ItemEvent, WeightEventRef
from edge.node.replay_vision import evidence_for

WINDOW_MARGIN_S = 1.0  # as the gallery feed's crops
POLL_S = 0.25  # how often the teach loop polls fusion for held events between weight events


@dataclass(frozen=True)
class TeachResult:
    seeds: tuple[int, ...]
    split: str  # the photos the teach frames showed
    interactions: int
    item_events: int
    labelled: Mapping[str, int]  # source ("auto", "review") -> crops stored
    wrong_labels: int  # `auto` crops whose SKU is not the truth's
    not_seen: int  # labelled events with no crop (the camera saw neither the item nor a hand over the plate)
    examples: Mapping[str, int]  # per SKU in the gallery at the end
    wall_s: float


def teach(seeds: Sequence[int], interactions: int, workdir: Path, model: Path, images: Path, sps: float,
          crop_scale: float, split: str = "measure") -> tuple[Path, TeachResult]:
    """The gallery file learned on `seeds` and what went into it."""
    from edge.fusion import FusionSettings, FusionStage

    started = time.perf_counter()
    path = workdir / "teach-gallery.sqlite3"
    labelled = {"auto": 0, "review": 0}
    wrong = not_seen = shopper = count = 0
    gallery: Gallery | None = None
    for seed in seeds:
        world = seed_world(seed, interactions, workdir, model, images, split, sps, crop_scale)
        if gallery is None:
            gallery = Gallery(path, world.config.gallery)
        stage = FusionStage(world.plates, world.planogram, FusionSettings())
        seen: list[tuple[ItemEvent, dict[str, Crop]]] = []
        maintenance = maintenance_windows(world.truth)
        last = world.events[0][0] if world.events else 0.0
        for index, (t_emit, event) in enumerate(world.events):
            for now in _poll_times(last, t_emit):  # held events come out when the node's loop would poll them
                world.recorded.advance(now)
                seen += [(item, _crops(world, item)) for item in stage.poll(now)]
            last = t_emit
            stage.set_maintenance(any(t0 <= event.t_start <= t1 for t0, t1 in maintenance))
            camera_ok, cropped = evidence_for(world.recorded, event, t_emit)
            out = stage.on_weight_event(event, cropped, camera_ok, t_emit, WeightEventRef(None, index))
            seen += [(item, _crops(world, item)) for item in out + stage.poll(t_emit)]
        seen += [(item, _crops(world, item)) for item in stage.flush()]
        truths = {id(j.event): j for j in judge(match_items([item for item, _ in seen], world.truth))}
        for index, (item, crops) in enumerate(seen):
            label = _label(item, truths.get(id(item)), world.config.gallery.min_confidence)
            if label is None:
                continue
            sku, plate, source, right = label
            crop = crops.get(plate)
            if crop is None:
                not_seen += 1
                continue
            gallery.add(sku, crop, source, item.confidence if source == "auto" else None, f"{seed}-{index}")
            labelled[source] += 1
            wrong += not right
        shopper += sum(r.expect_event for r in world.truth)
        count += len(seen)
    assert gallery is not None
    examples = {s.sku: s.count for s in gallery.summaries()}
    gallery.close()
    return path, TeachResult(tuple(seeds), split, shopper, count, labelled, wrong, not_seen, examples,
                             time.perf_counter() - started)


def _poll_times(t0: float, t1: float) -> list[float]:
    """Times in (t0, t1) at POLL_S steps: the node polls fusion between weight events, so an event held for
    its neighbour window comes out ~1.5 s after it settled, while the ring still holds its frames."""
    steps = int((t1 - t0) / POLL_S)
    return [t0 + POLL_S * k for k in range(1, steps) if t0 + POLL_S * k < t1]


def _crops(world: SeedWorld, item: ItemEvent) -> dict[str, Crop]:
    """Plate -> the crop the gallery feed would cut for this item event now (camera up, a pick or put)."""
    if item.vision.get("camera") != "ok" or item.action not in ("pick", "put"):
        return {}
    camera = world.recorded
    plates = {c.plate for c in item.changes} | {line.plate for line in item.lines}
    labels: dict[str, tuple[str, ...]] = {}
    for line in item.lines:  # the detections to prefer: the labels of the SKU the node named there
        try:
            labels[line.plate] = tuple(world.planogram.item(line.sku).labels)
        except KeyError:
            labels[line.plate] = ()
    frames = camera.ring.frames_between(item.t_start - WINDOW_MARGIN_S, item.t_end + WINDOW_MARGIN_S)
    choices = choose(frames, camera.regions, plates, labels, camera.hand_label, camera.min_overlap)
    return {crop.plate: crop for crop in cut_all(choices, world.config.gallery)}


def _label(item: ItemEvent, judged: Any, min_confidence: float) -> tuple[str, str, Source, bool] | None:
    """(SKU, plate, source, label right) for an event whose crop the node (or its reviewer) labels, else None."""
    if item.vision.get("camera") != "ok" or item.action not in ("pick", "put"):
        return None
    if not item.review_required:
        skus = {line.sku for line in item.lines}
        if len(skus) != 1 or item.confidence < min_confidence or len({line.plate for line in item.lines}) != 1:
            return None
        right = judged is not None and judged.correct
        return item.lines[0].sku, item.lines[0].plate, "auto", right
    if judged is None or len(judged.truths) != 1:
        return None  # the reviewer's answer spans several interactions (or none): no one-SKU label
    truth = judged.truths[0]
    if truth.kind not in ("pick", "put") or truth.sku is None or len(truth.plates) != 1:
        return None
    plate = next(iter(truth.plates))
    if plate not in {c.plate for c in item.changes}:
        return None  # the node kept no crop of that plate for this event
    return truth.sku, plate, "review", True
