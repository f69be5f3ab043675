"""What bench/fusion_learned.py adds to a fusion benchmark run: product appearance for each weight event, and
the node that has learned its shelf (an appearance splitter per plate) as further fused models.

- **Pools** (`Pools`, one per process): for every photo family (`Item.look`) a run needs, `teach` descriptors
  of jittered crops of its *teach* photos (the gallery's self-labelled examples) and `held_out` descriptors of
  jittered crops of its *held-out* photos (what events show), each crop described by the real descriptor code
  (edge.vision.appearance_embed.CropEmbedder: colour + the detector backbone), with the jitter of
  bench/gallery_world.py (`Looks`, one crop per descriptor, as the daemon describes one crop per plate).
  Pools are described once per process and look, from a fixed seed (`POOL_SEED`), so the N = 25 gallery is
  the first 25 of the N = 100 one.
- **Which events carry a descriptor** (`Appearance.attach`): an event's plate gets
  `PlateEvidence.appearance` only when the camera was up (the statistical camera gave evidence) and saw the
  handled item on that plate: one of its sightings there (edge.sim.stat_camera.Sighting) of a shopper
  interaction overlapping the evidence window has a hand box or a detection of the item, which is the
  gallery's crop rule (the detection box, else the hand region; docs/gallery.md "What a crop is"). A
  sighting spilled onto a neighbouring plate counts there too (the node would crop that detection); with
  several, the plate's own interaction first, then the longest overlap with the weight event. The
  descriptor is one of the *true* handled SKU's held-out pool, drawn from (seed, record id). A SKU without a
  look (pasta, gum: COCO has no class, no photo family) gives no descriptor. Only the weight event's own
  plates are described (the factor only votes on single-plate answers, on the answer's plate).
- **The learned node** (`Appearance.models`): the fused stage with `stage.appearance =
  AppearanceSplitter({plate: {sku: first N teach descriptors}})` over the SKUs the planogram puts on each
  plate (nothing else; SKUs without a look have no examples), shipped `SplitterSettings()`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from bench.fusion_run import make_model, run_models
from bench.gallery_world import IMAGES, MODEL, Looks
from bench.item_scoring import judge, match_items
from edge.sim.camera.photos import TEACH, TEST
from edge.sim.scenario import Item, Scenario
from edge.sim.stat_camera import StatisticalCamera
from edge.sim.truth import TruthRecord
from edge.vision.appearance import Descriptor
from edge.vision.appearance_embed import DESCRIPTOR_KIND
from edge.vision.appearance_splitter import AppearanceSplitter, PlateSplitter, SplitterSettings

POOL_SEED = 15  # the pools' jitter: fixed, neither a tuning nor a report seed of the fusion benchmark
EVIDENCE_MARGIN_S = 1.0  # bench.fusion_run's window around each weight event
PREFIX = "fused_learned_"


def learned_name(n: int) -> str:
    return f"{PREFIX}{n}"


class Pools:
    """Teach and held-out descriptors per photo family, described on first use and kept for the process."""

    def __init__(self, teach: int, held_out: int, backbone: bool = True) -> None:
        self.teach_size, self.held_out_size = teach, held_out
        self.looks = Looks(IMAGES, MODEL if backbone else None, crops_per_event=1)
        self.build_s = 0.0  # seconds spent describing the pools so far
        self._pools: dict[tuple[str, str], list[Descriptor]] = {}

    @property
    def families(self) -> list[str]:
        return sorted({look for (look, _split), pool in self._pools.items() if pool})

    def _pool(self, look: str, split: str, count: int) -> list[Descriptor]:
        if (look, split) not in self._pools:
            key = Item(sku=look, unit_g=1.0, look=look)
            started = time.perf_counter()
            if self.looks.libraries[split].photos_for(key):  # type: ignore[index]
                examples = self.looks.examples(key, split, count, POOL_SEED)
                self._pools[(look, split)] = [e.descriptor for e in examples]
            else:
                self._pools[(look, split)] = []
            self.build_s += time.perf_counter() - started
        return self._pools[(look, split)]

    def teach(self, look: str | None) -> list[Descriptor]:
        return self._pool(look, TEACH, self.teach_size) if look else []

    def held_out(self, look: str | None) -> list[Descriptor]:
        return self._pool(look, TEST, self.held_out_size) if look else []

    def kind(self) -> str:
        """The descriptor's kind (edge.vision.appearance_embed) and length, from a pool already described."""
        size = next((len(pool[0]) for pool in self._pools.values() if pool), 0)
        return f"{DESCRIPTOR_KIND}, {size} floats" if self.looks.backbone else f"colour only, {size} floats"

    def embed_ms(self) -> float:
        """Median milliseconds to describe one crop (colour + one detector invoke on the crop)."""
        return float(np.median(self.looks.embed_ms)) if self.looks.embed_ms else 0.0


@lru_cache(maxsize=2)
def pools(teach: int, held_out: int, backbone: bool = True) -> Pools:
    """The process's pools (described once; a second run in the process reuses them)."""
    return Pools(teach, held_out, backbone)


@dataclass(frozen=True, slots=True)
class Handled:
    record: TruthRecord
    own: bool  # the interaction touched this plate (not a spill of its detections)
    seen: bool  # a hand box or a detection of the item
    t0: float
    t1: float


def handled_by_plate(camera: StatisticalCamera, truth: Sequence[TruthRecord]) -> dict[str, list[Handled]]:
    """Per plate, the shopper interactions the camera recorded there, with whether it saw the item."""
    by_times: dict[tuple[float, float], list[TruthRecord]] = {}
    for record in truth:
        if record.sku is not None and record.kind in ("pick", "put", "restock"):
            by_times.setdefault((record.t_start, record.t_settled), []).append(record)
    out: dict[str, list[Handled]] = {plate: [] for plate in camera.sightings}
    for plate, sightings in camera.sightings.items():
        for s in sightings:
            records = by_times.get((s.t0, s.t1), [])
            own = [r for r in records if plate in r.plates]
            chosen = (own or records)[:1]
            for record in chosen:
                out[plate].append(Handled(record, bool(own), s.hand or bool(s.labels), s.t0, s.t1))
    return out


@dataclass
class Appearance:
    """The learned-node models of one benchmark run (one instance per run(), hooked into every one_run)."""

    examples: tuple[int, ...]
    pools: Pools
    settings: SplitterSettings = field(default_factory=SplitterSettings)
    stats: dict[tuple[str, float, int], dict[str, Any]] = field(default_factory=dict)  # (mix, sps, seed) -> ...
    split_ms: list[float] = field(default_factory=list)
    _pairs: dict[tuple[tuple[str, int], ...], bool] = field(default_factory=dict)

    def galleries(self, scenario: Scenario, plates: Sequence[str], n: int) -> dict[str, dict[str, list[Descriptor]]]:
        items = {item.sku: item for item in scenario.items}
        out: dict[str, dict[str, list[Descriptor]]] = {}
        for plate in plates:
            out[plate] = {}
            for slot in scenario.slots(plate):
                teach = self.pools.teach(items[slot.sku].look)
                if teach:
                    out[plate][slot.sku] = teach[:n]
        return out

    def attach(self, seed: int, events: list, seen: list, scenario: Scenario, truth: Sequence[TruthRecord],
               camera: StatisticalCamera) -> tuple[list, Counter[str]]:
        """`seen` with a held-out descriptor of the handled SKU on each plate where the camera saw it."""
        items = {item.sku: item for item in scenario.items}
        handled = handled_by_plate(camera, truth)
        counts: Counter[str] = Counter()
        out: list[Any] = []
        for (_, event), found in zip(events, seen, strict=True):
            if found is None:
                counts["camera_down"] += 1
                out.append(found)
                continue
            t0, t1 = event.t_start - EVIDENCE_MARGIN_S, event.t_end + EVIDENCE_MARGIN_S
            updated = dict(found)
            for plate in event.plate_deltas:
                here = [h for h in handled.get(plate, []) if h.t0 <= t1 and h.t1 >= t0]
                if not here:
                    counts["nothing_handled"] += 1
                    continue
                visible = [h for h in here if h.seen]
                if not visible:
                    counts["not_seen"] += 1
                    continue
                best = max(visible, key=lambda h: (h.own, _overlap(h, event.t_start, event.t_end), -h.record.id))
                pool = self.pools.held_out(items[best.record.sku].look) if best.record.sku else []
                if not pool or plate not in updated:
                    counts["no_look"] += 1
                    continue
                pick = int(np.random.default_rng([seed, 0xA99, best.record.id]).integers(len(pool)))
                updated[plate] = replace(updated[plate], appearance=tuple(float(v) for v in pool[pick]))
                counts["described"] += 1
            out.append(updated)
        return out, counts

    def models(self, *, seed: int, sps: float, mix: str, events: list, seen: list, plates: list[str],
               planogram: Any, maintenance: Sequence[tuple[float, float]], settings: Any, scenario: Scenario,
               truth: list[TruthRecord], camera: StatisticalCamera, **_: Any) -> dict[str, dict[str, Any]]:
        """bench.fusion_run.one_run's `more_models` hook: every learned model on the same events, with the
        descriptors added to the same camera evidence."""
        with_looks, counts = self.attach(seed, events, seen, scenario, truth, camera)
        splitters = {}
        for n in self.examples:
            galleries = self.galleries(scenario, plates, n)  # describes the pools on first use
            started = time.perf_counter()
            splitters[learned_name(n)] = AppearanceSplitter(galleries, self.settings)
            self.split_ms.append((time.perf_counter() - started) * 1000)

        def make(name: str, plates_: list[str], planogram_: Any, settings_: Any) -> Any:
            stage = make_model("fused", plates_, planogram_, settings_)
            stage.appearance = splitters[name]
            return stage

        names = tuple(learned_name(n) for n in self.examples)
        outputs = run_models(events, with_looks, plates, planogram, names, maintenance, settings, make=make)
        per_model = {name: self._votes(outputs[name]["items"], splitters[name], truth) for name in names}
        self.stats[(mix, sps, seed)] = {"appearance": dict(counts), "models": per_model}
        return outputs

    def _votes(self, items: list, splitter: AppearanceSplitter, truth: list[TruthRecord]) -> dict[str, Any]:
        """Votes (item events carrying `vision.appearance`), whether each vote's own check had passed, and what
        happened to the same-label-twin events of trusted plates."""
        trusted = sorted(p for p, s in splitter.plates.items() if s.report.trusted)
        votes = untrusted_plate = unchecked = cross_plate = 0
        for item in items:
            vote = item.vision.get("appearance")
            if not vote:
                continue
            votes += 1
            plate, sku, candidates = vote["plate"], vote["sku"], tuple(vote["candidates"])
            own = splitter.plates[plate]
            untrusted_plate += not own.report.trusted
            if set(candidates) <= set(own.gallery):
                unchecked += not own.report.trusted
            else:
                cross_plate += 1
                unchecked += not all(self._pair_trusted(splitter, plate, sku, other)
                                     for other in candidates if other != sku)
        twins = [j for j in judge(match_items(items, truth))
                 if any("same_label_twin" in t.tags for t in j.truths)]
        on_trusted = [j for j in twins if any(set(t.plates) & set(trusted) for t in j.truths)]
        accepted = [j for j in twins if not j.event.review_required]
        return {
            "votes": votes, "votes_untrusted_plate": untrusted_plate, "votes_unchecked": unchecked,
            "votes_cross_plate": cross_plate, "trusted_plates": trusted,
            "plates": [r.to_json() for r in splitter.reports() if len(r.skus) >= 2],
            "same_label": {
                "events": len(twins), "on_trusted": len(on_trusted),
                "voted": sum(bool(j.event.vision.get("appearance")) for j in twins),
                "unflagged": len(accepted),
                "unflagged_voted": sum(bool(j.event.vision.get("appearance")) for j in accepted),
                "unflagged_wrong": sum(not j.correct for j in accepted),
            },
        }

    def _pair_trusted(self, splitter: AppearanceSplitter, plate: str, a: str, b: str) -> bool:
        """The leave-one-out check of the pair a vote across plates rested on, rebuilt here (as the splitter
        builds it: each SKU's examples from this plate's gallery, else from wherever it has them). A SKU lives
        on one plate and its N examples are its pool's first N, so the check depends only on the two SKUs and
        their examples: kept per (SKUs, example counts) for the run."""
        own = splitter.plates[plate].gallery
        anywhere: dict[str, list[Descriptor]] = {}
        for s in splitter.plates.values():
            for sku, examples in s.gallery.items():
                anywhere.setdefault(sku, []).extend(examples)
        pair = {sku: list(own[sku]) if sku in own else anywhere.get(sku, []) for sku in sorted((a, b))}
        key = tuple((sku, len(examples)) for sku, examples in pair.items())
        if key not in self._pairs:
            self._pairs[key] = PlateSplitter(plate, pair, self.settings).report.trusted
        return self._pairs[key]


def _overlap(h: Handled, t0: float, t1: float) -> float:
    return max(0.0, min(t1, h.t1) - max(t0, h.t0))
