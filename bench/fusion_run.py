"""One run of the fusion benchmark: one planogram seed at one sample rate, every model on the same weight
events and the same camera evidence, scored against the truth (bench.item_scoring). bench/fusion.py pools
the runs."""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.item_scoring import (
    by_tag,
    judge,
    match_items,
    reliability,
    review_summary,
    risk_coverage,
    same_label_alternative,
    tag_f1,
    unit_f1,
)
from bench.weighing_replay import write_true_calibration  # the simulated shelf's own calibration
from edge.config import NodeConfig, parse_config
from edge.fusion.review import HARD_REASONS
from edge.model import WeightEventRef
from edge.node.replay import Replay
from edge.planogram import parse_planogram
from edge.sim.fusion_mix import generate_mixed_scenario
from edge.sim.offline import simulate_to_capture
from edge.sim.planogram_doc import planogram_document
from edge.sim.scenario import Scenario
from edge.sim.stat_camera import StatisticalCamera
from edge.sim.tags import TAGS, WEIGHT_TWIN_TAGS
from edge.sim.truth import TruthRecord
from edge.weighing import CalibrationStore

HARD = frozenset(TAGS) - {"mixed_plate"}  # an interaction with none of these is a plain one
HARD_REVIEW_REASONS = frozenset(HARD_REASONS)
WEIGHT_TWINS_ANY = "weight_twin or count_twin"  # the "weight twins" share (a derived mix row)
PLATES = 5
EVIDENCE_MARGIN_S = 1.0  # as edge.node.node: look this far before the change and after it settled
MODELS = ("fused", "aim3s", "autocheckout2020", "weight_planogram", "vision_only", "fused_camera_off")
# fused_camera_off: the fused model with the camera down for the whole run (camera_ok False, no evidence)
# Fusion time per event: wall clock (perf_counter) and this thread's CPU time (thread_time), so a
# host shared with other jobs shows as wall > CPU; the target is judged on wall time. It is measured in a
# timing pass of its own after scoring (time_models): TIMING_PASSES passes over the same events with fresh
# models, every model timed on each event in turn (the order rotating), per event the median of the passes.
TIMING_PASSES = 3
CONFIG = f"""
[node]
store_id = "bench"
node_id = "fusion1"
[serial]
port = "loop://"
channels = {2 * PLATES}
""" + "".join(f'[[plates]]\nname = "p{i + 1}"\nchannels = [{2 * i}, {2 * i + 1}]\n' for i in range(PLATES))


def make_model(name: str, plates: list[str], planogram: Any, settings: Any = None) -> Any:
    """`settings`: FusionSettings for the fused models (default: the tuned ones; bench.fusion_tune passes
    others to refit the threshold)."""
    from bench.fusion_baselines import BASELINES
    from edge.fusion import FusionSettings, FusionStage

    if name in ("fused", "fused_camera_off"):
        return FusionStage(plates, planogram, settings or FusionSettings())
    return BASELINES[name](plates, planogram, FusionSettings())


def maintenance_windows(truth: list[TruthRecord]) -> list[tuple[float, float]]:
    """A clerk restocks in maintenance mode (docs/fusion.md): on from 1 s before the first unit to 2 s after
    the last one settled."""
    return [(r.t_start - 1.0, r.t_settled + 2.0) for r in truth if r.kind == "restock"]


def run_models(events: list, seen: list, plates: list[str], planogram: Any,
               models: tuple[str, ...], maintenance: Sequence[tuple[float, float]] = (),
               settings: Any = None, make: Callable[..., Any] = make_model) -> dict[str, dict[str, Any]]:
    """Every model on the same weight events and the same evidence (`seen`: the camera's, one per event);
    item events + fusion time per event (from the separate timing pass, time_models; the scoring pass's own
    wall times per event are kept as `scoring_times_ms`). Maintenance mode is switched (where a model has it)
    as the clerk would, around each restock. `make(name, plates, planogram, settings)` builds each model (default
    make_model; bench/fusion_learned.py passes one that gives the fused stage an appearance splitter)."""
    evidence = []
    for (t_emit, event), found in zip(events, seen, strict=True):
        on = any(t0 <= event.t_start <= t1 for t0, t1 in maintenance)
        evidence.append((t_emit, event, found, found is not None, on))
    results: dict[str, dict[str, Any]] = {}
    for name in models:
        model = make(name, plates, planogram, settings)
        items: list[Any] = []
        times_ms: list[float] = []
        for index, step in enumerate(evidence):
            start = time.perf_counter_ns()
            items += _feed(model, name, index, step)
            times_ms.append((time.perf_counter_ns() - start) / 1e6)
        items += model.flush()
        results[name] = {"items": items, "scoring_times_ms": times_ms}
    timing = time_models(evidence, plates, planogram, models, settings, make)
    for name in models:
        results[name].update(timing[name])
    return results


def _feed(model: Any, name: str, index: int, step: tuple[float, Any, Any, bool, bool]) -> list[Any]:
    """One weight event into one model, as the node would give it (maintenance switched, camera as seen)."""
    t_emit, event, found, camera_ok, on = step
    if name.endswith("_camera_off"):
        found, camera_ok = None, False
    switch = getattr(model, "set_maintenance", None)
    if switch is not None:
        switch(on)
    return [*model.on_weight_event(event, found, camera_ok, t_emit, WeightEventRef(None, index)), *model.poll(t_emit)]


def time_models(evidence: Sequence[tuple[float, Any, Any, bool, bool]], plates: list[str], planogram: Any,
                models: tuple[str, ...], settings: Any = None, make: Callable[..., Any] = make_model,
                passes: int = TIMING_PASSES) -> dict[str, dict[str, Any]]:
    """The timing pass, after scoring and apart from it: fresh models on the same events; each event goes to
    every model in turn (the order rotating per event and pass), so the fused model and the comparators are
    timed under the same load at the same moment; `passes` passes, per event and model the median wall and
    thread CPU time (a pass another job preempted at that moment is outvoted, a slow event is slow in every
    pass). The 1-minute load average before and after goes with it."""
    wall = {name: [[0.0] * len(evidence) for _ in range(passes)] for name in models}
    cpu = {name: [[0.0] * len(evidence) for _ in range(passes)] for name in models}
    load_before = os.getloadavg()[0]
    for run in range(passes):
        built = {name: make(name, plates, planogram, settings) for name in models}
        gc.collect()
        for index, step in enumerate(evidence):
            turn = (index + run) % len(models)
            for name in (*models[turn:], *models[:turn]):
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                _feed(built[name], name, index, step)
                cpu[name][run][index] = (time.thread_time_ns() - start_cpu) / 1e6
                wall[name][run][index] = (time.perf_counter_ns() - start) / 1e6
        for model in built.values():
            model.flush()
    load = (round(load_before, 2), round(os.getloadavg()[0], 2), os.cpu_count() or 1)
    return {name: {"times_ms": [statistics.median(t) for t in zip(*wall[name], strict=True)],
                   "cpu_ms": [statistics.median(t) for t in zip(*cpu[name], strict=True)],
                   "timing_load": load, "timing_passes": passes} for name in models}


def dump_judged(path: Path, judged: list) -> None:
    """One JSON line per item event: the verdict, the answer and the truth it matched (for debugging)."""
    with path.open("w", encoding="utf-8") as file:
        for j in judged:
            e = j.event
            file.write(json.dumps({
                "right": j.correct, "review": e.review_required, "reasons": list(e.review_reasons),
                "confidence": round(e.confidence, 6), "t": [round(e.t_start, 3), round(e.t_end, 3)], "action": e.action,
                "lines": [[line.sku, line.count, line.plate] for line in e.lines],
                "changes": [[c.plate, round(c.delta_g, 1), round(c.sigma_g, 2)] for c in e.changes],
                "alternatives": [[a.action, [[line.sku, line.count] for line in a.lines], round(a.probability, 4)]
                                 for a in e.alternatives[:3]],
                "vision": e.vision, "quality": e.quality, "flags": list(e.flags), "residual_g": e.residual_g,
                "truth": [{"id": t.id, "kind": t.kind, "sku": t.sku, "count": t.count, "plates": t.plates,
                           "tags": list(t.tags)} for t in j.truths],
            }, default=str) + "\n")  # fmt: skip


def score(items: list, truth: list[TruthRecord], labels: dict[str, frozenset[str]],
          dump: Path | None = None) -> dict[str, Any]:
    groups = match_items(items, truth)
    judged = judge(groups)
    if dump is not None:
        dump_judged(dump, judged)
    bins, ece = reliability(judged)
    plain = [j for j in judged if not same_label_alternative(j.event, labels)]
    same_label_truth = [j for j in judged if any("same_label_twin" in t.tags for t in j.truths)]
    return {
        "units": unit_f1(groups),
        "review": review_summary(judged),
        "review_without_same_label_alternative": review_summary(plain),
        "truth_without_event": sum(len(g.truths) for g in groups if not g.events),
        "events_without_truth": sum(len(g.events) for g in groups if not g.truths),
        "same_label_truth_flagged": sum(j.event.review_required for j in same_label_truth),
        "same_label_truth_events": len(same_label_truth),
        "risk_coverage": risk_coverage(judged),
        "reliability": bins,
        "ece": ece,
        "tags": {tag: {**by_tag(judged, [tag])[tag], "f1": tag_f1(groups, tag)["f1"]} for tag in TAGS},
        "plain": review_summary([j for j in judged if j.truths and not any(set(t.tags) & HARD for t in j.truths)]),
        "reasons": dict(Counter(r for j in judged for r in j.event.review_reasons)),
        "verdicts": [[round(j.event.confidence, 6), j.correct, j.event.review_required] for j in judged],
        "hard_flagged": [bool(set(j.event.review_reasons) & HARD_REVIEW_REASONS) for j in judged],  # same order
        "camera_ok": [j.event.vision.get("camera") == "ok" for j in judged],  # same order
    }


def one_run(seed: int, sps: float, interactions: int, workdir: Path, models: tuple[str, ...],
            dump: Path | None = None, mix: str = "stress", settings: Any = None,
            more_models: Callable[..., dict[str, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """`mix`: the interaction mix preset (edge.sim.fusion_mix.PRESETS: "stress" or "store"); `settings`:
    FusionSettings for the fused models (default: the tuned ones). `more_models(**inputs)`: further models
    on the same weight events and camera evidence (bench/fusion_learned.py), returning run_models' outputs
    ({name: {items, times_ms, cpu_ms}}), scored alike."""
    config: NodeConfig = parse_config(CONFIG)
    plates = config.plate_names()
    scenario: Scenario = generate_mixed_scenario(seed, plates, interactions, preset=mix)
    stem = f"{seed}-{sps:g}" + ("" if mix == "stress" else f"-{mix}")
    capture, truth_path = workdir / f"{stem}.cap", workdir / f"{stem}.jsonl"
    result = simulate_to_capture(scenario, capture, truth_path, sps=sps, config=config)
    calibration = workdir / f"{stem}.calibration.json"
    write_true_calibration(capture, calibration)
    events = list(Replay(config, capture, CalibrationStore(calibration, read_only=True)).events())
    started = time.perf_counter()
    camera = StatisticalCamera(result.truth, scenario.items, plates, seed)
    seen = [camera.event_evidence(event, EVIDENCE_MARGIN_S) for _, event in events]  # as replay --stat-camera
    camera_s = time.perf_counter() - started
    planogram = parse_planogram(json.dumps(planogram_document(scenario)), plates)
    maintenance = maintenance_windows(result.truth)
    outputs = run_models(events, seen, plates, planogram, models, maintenance, settings)
    if more_models is not None:
        outputs.update(more_models(seed=seed, sps=sps, mix=mix, events=events, seen=seen, plates=plates,
                                   planogram=planogram, maintenance=maintenance, settings=settings,
                                   scenario=scenario, truth=result.truth, camera=camera))
    labels = {item.sku: frozenset(item.labels) for item in scenario.items}
    shopper = [r for r in result.truth if r.expect_event]
    mix_counts = Counter(t for r in shopper for t in r.tags)
    mix_counts[WEIGHT_TWINS_ANY] = sum(1 for r in shopper if set(r.tags) & set(WEIGHT_TWIN_TAGS))
    return {
        "seed": seed, "sps": sps, "mix_preset": mix,
        "planogram": {p: [s.sku for s in scenario.slots(p)] for p in plates},
        "interactions": len(shopper), "weight_events": len(events),
        "camera_ms_per_event": round(1000 * camera_s / max(1, len(events)), 3),
        "mix": dict(mix_counts),
        "kinds": dict(Counter(r.kind for r in result.truth)),
        "models": {name: {**score(out["items"], result.truth, labels,
                                  dump / f"{name}-{stem}.jsonl" if dump else None),
                          "times_ms": out["times_ms"], "cpu_ms": out["cpu_ms"],
                          **{k: out[k] for k in ("scoring_times_ms", "timing_load", "timing_passes") if k in out}}
                   for name, out in outputs.items()},
    }  # fmt: skip
