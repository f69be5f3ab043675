"""Why the vision loop's label-distinct twins are not settled: per twin event of bench/vision_loop.py, what the
real detector saw on the touched plate and what fusion made of it (issue 13). A diagnostic, not a benchmark:
run it on the tuning seeds (301, 302) and the measure photos, never to choose on the report seeds.

    .venv/bin/python -m bench.vision_loop_diagnose [--seeds 301 302] [--interactions 160] [--events]

For every event weight alone flags `twin` between label-distinct SKUs (bench.vision_loop._twin_truth_ids), with
the rendered_crop mode's evidence (the same world, detector and plate windows): the truth's catalogue label and
its rival's on the truth's plate (best score, frames seen in / frames analysed), the labels fusion reads after
the score floor and the flicker rule (edge.fusion.factors.seen_labels), the camera, fusion's calibrated
confidence and reasons, and one category:

* `settled` (right, unflagged), `accepted wrong`;
* `camera down`: no frames or lost during the event (rests on weight: `camera_unavailable`);
* `no label seen`: no catalogue label survived, so no information by the rule; only detection can help;
* `other label only`: a catalogue label of neither SKU (a juice carton called `cup`, a neighbour's banana);
* `own + rival seen`: both labels survived the flicker rule (the label factor ties them);
* `own seen, flagged`: the truth's label alone, and still flagged (low confidence, or a multi-unit twin).

Also, per SKU of the twin plates, how often fusion reads its label and the rival's on single picks and puts
with the camera up: the rates the label factor's hit / confusion stand for on this camera.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.fusion_run import maintenance_windows
from bench.item_scoring import judge, match_items
from bench.vision_loop import CROP_SCALE, IMAGES, MODEL, _twin_truth_ids
from bench.vision_loop_world import seed_world
from edge.fusion.factors import seen_labels
from edge.model import WeightEventRef
from edge.node.replay_vision import evidence_for

TWIN_PLATES = ("p1", "p2")


def _label_of(labels: dict[str, frozenset[str]], sku: str | None) -> str | None:
    found = sorted(labels.get(sku or "", frozenset()))
    return found[0] if found else None


def one_seed(seed: int, interactions: int, workdir: Path, split: str) -> tuple[list[dict[str, Any]], Counter[Any]]:
    """(a row per twin event, label reading counts per (SKU, what was read)) on one seed."""
    from edge.fusion import FusionSettings, FusionStage

    settings = FusionSettings()
    world = seed_world(seed, interactions, workdir, MODEL, IMAGES, split, 80.0, CROP_SCALE)
    stages = {m: FusionStage(world.plates, world.planogram, settings) for m in ("weight_planogram", "rendered_crop")}
    outputs: dict[str, list[Any]] = {m: [] for m in stages}
    per_event: dict[int, tuple[bool, dict[str, Any]]] = {}
    maintenance = maintenance_windows(world.truth)
    for index, (t_emit, event) in enumerate(world.events):
        camera_ok, cropped = evidence_for(world.recorded, event, t_emit)
        per_event[index] = (camera_ok, cropped)
        for mode, stage in stages.items():
            stage.set_maintenance(any(t0 <= event.t_start <= t1 for t0, t1 in maintenance))
            evidence, ok = ((None, None) if mode == "weight_planogram" else (cropped, camera_ok))
            outputs[mode] += stage.on_weight_event(event, evidence, ok, t_emit, WeightEventRef(None, index))
            outputs[mode] += stage.poll(t_emit)
    for mode, stage in stages.items():
        outputs[mode] += stage.flush()
    labels = world.labels()
    vocabulary = frozenset().union(*labels.values())
    by_truth = {m: {j.truths[0].id: j for j in judge(match_items(out, world.truth)) if len(j.truths) == 1}
                for m, out in outputs.items()}
    rows = []
    for truth_id in sorted(_twin_truth_ids(list(by_truth["weight_planogram"].values()), labels)):
        weight_only, judged = by_truth["weight_planogram"][truth_id], by_truth["rendered_crop"].get(truth_id)
        truth = weight_only.truths[0]
        answers = [line.sku for line in weight_only.event.lines] + \
            [line.sku for line in weight_only.event.alternatives[0].lines]
        rival = next((sku for sku in answers if sku != truth.sku), None)
        plate: str = next(iter(truth.plates), "")
        item = (judged or weight_only).event
        camera_ok, evidence = per_event[item.weight_events[0].seq or 0]
        seen = seen_labels(evidence, (plate,), vocabulary, settings.vision_min_score,
                           settings.vision_flicker_share) if camera_ok else {}
        own, other = _label_of(labels, truth.sku), _label_of(labels, rival)
        rows.append({"seed": seed, "truth": truth.id, "sku": truth.sku, "rival": rival, "kind": truth.kind,
                     "plate": plate, "camera": camera_ok, "own": _sighting(evidence.get(plate), own),
                     "rival_label": _sighting(evidence.get(plate), other), "seen": sorted(seen),
                     "confidence": judged.event.confidence if judged else None,
                     "reasons": judged.event.review_reasons if judged else ("unmatched",),
                     "category": _category(judged, camera_ok, seen, own, other)})
    return rows, _label_reading(world, per_event, labels, vocabulary, settings)


def _sighting(evidence: Any, label: str | None) -> str:
    if evidence is None or label is None or label not in evidence.labels:
        return "-"
    return f"{label} {evidence.labels[label][0]:.2f} ({evidence.label_frames.get(label, 0)}/{evidence.frames})"


def _category(judged: Any, camera_ok: bool, seen: dict[str, float], own: str | None, rival: str | None) -> str:
    if judged is not None and not judged.event.review_required:
        return "settled" if judged.correct else "accepted wrong"
    if not camera_ok:
        return "camera down"
    if not seen:
        return "no label seen"
    if own in seen:
        return "own + rival seen" if rival in seen else "own seen, flagged"
    return "rival label only" if rival in seen else "other label only"


def _label_reading(world: Any, per_event: dict[int, tuple[bool, dict[str, Any]]], labels: dict[str, frozenset[str]],
                   vocabulary: frozenset[str], settings: Any) -> Counter[Any]:
    """(SKU, 'events' | 'own' | 'rival' | 'rival alone' | 'nothing') over single picks / puts on the twin plates."""
    counts: Counter[Any] = Counter()
    plates = world.planogram.plates
    for index, (_t, event) in enumerate(world.events):
        camera_ok, evidence = per_event[index]
        if not camera_ok or len(event.plate_deltas) != 1:
            continue
        plate = next(iter(event.plate_deltas))
        truths = [r for r in world.truth if plate in r.plates and r.kind in ("pick", "put") and r.count == 1
                  and abs(r.t_start - event.t_start) < 3.0]
        if plate not in TWIN_PLATES or len(truths) != 1:
            continue
        sku = truths[0].sku
        rivals = {slot.sku for slot in plates.get(plate, [])} - {sku}
        own = labels.get(sku or "", frozenset())
        rival = frozenset().union(*(labels.get(s, frozenset()) for s in rivals)) - own
        seen = seen_labels(evidence, (plate,), vocabulary, settings.vision_min_score, settings.vision_flicker_share)
        counts[(sku, "events")] += 1
        counts[(sku, "own")] += bool(own & seen.keys())
        counts[(sku, "rival")] += bool(rival & seen.keys())
        counts[(sku, "rival alone")] += bool(rival & seen.keys()) and not own & seen.keys()
        counts[(sku, "nothing")] += not seen
    return counts


def report(rows: Sequence[dict[str, Any]], reading: Counter[Any], events: bool) -> str:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        pair = " / ".join(sorted(s for s in (row["sku"], row["rival"]) if s)) if row["plate"] in TWIN_PLATES \
            else "other plates"
        table[pair][row["category"]] += 1
    categories = ("settled", "camera down", "no label seen", "other label only", "rival label only",
                  "own + rival seen", "own seen, flagged", "accepted wrong")
    lines = ["| pair | events | " + " | ".join(categories) + " |", "|---" * (len(categories) + 2) + "|"]
    for pair, counts in sorted(table.items()):
        lines.append(f"| {pair} | {sum(counts.values())} | " + " | ".join(str(counts[c]) for c in categories) + " |")
    lines += ["", "| SKU | single picks/puts, camera up | own label read | rival's read | rival's alone | nothing |",
              "|---|---|---|---|---|---|"]
    for sku in sorted({k[0] for k in reading}):
        lines.append(f"| {sku} | {reading[(sku, 'events')]} | {reading[(sku, 'own')]} | {reading[(sku, 'rival')]} | "
                     f"{reading[(sku, 'rival alone')]} | {reading[(sku, 'nothing')]} |")
    if events:
        lines += ["", "| seed | truth | SKU | kind | camera | own label | rival label | read | confidence | reasons "
                  "| category |", "|---" * 11 + "|"]
        for r in rows:
            confidence = "-" if r["confidence"] is None else f"{r['confidence']:.3f}"
            lines.append(f"| {r['seed']} | {r['truth']} | {r['sku']} | {r['kind']} | {'up' if r['camera'] else 'down'} "
                         f"| {r['own']} | {r['rival_label']} | {', '.join(r['seen']) or '-'} | {confidence} | "
                         f"{', '.join(r['reasons']) or '-'} | {r['category']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[301, 302])
    parser.add_argument("--interactions", type=int, default=160)
    parser.add_argument("--split", choices=["measure", "held_out"], default="measure")
    parser.add_argument("--events", action="store_true", help="also one line per twin event")
    args = parser.parse_args(argv)
    if set(args.seeds) & {401, 402}:
        print("vision_loop_diagnose: 401/402 are the report seeds; diagnose on the tuning seeds", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    reading: Counter[Any] = Counter()
    with tempfile.TemporaryDirectory(prefix="vision-diagnose-") as tmp:
        for seed in args.seeds:
            more, counts = one_seed(seed, args.interactions, Path(tmp), args.split)
            rows += more
            reading += counts
    print(report(rows, reading, args.events), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
