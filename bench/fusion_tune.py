"""Re-choose the fused model's auto-accept threshold on the TUNING seeds only (docs/fusion.md, "How the
threshold was chosen"): run the tuning seeds with the tuned calibration map but no threshold, so every
event's calibrated confidence and hard review reasons are recorded, then take the lowest confidence whose
accepted events (no hard reason, camera up) keep the 95 % Wilson upper bound on their error rate <= 0.5 %,
pooled and in each (mix, rate) group; the strictest of those choices is the one to take.
Events with the camera down or absent keep their own, stricter threshold (`auto_accept_without_camera`).

    .venv/bin/python -m bench.fusion_tune                      # both mixes, 10 + 80 SPS, 700 interactions
    .venv/bin/python -m bench.fusion_tune --mixes store --interactions 200
    .venv/bin/python -m bench.fusion_tune --fit-calibration    # first refit the map (identity run), then the above

`--fit-calibration` runs the tuning seeds with the identity map (raw posteriors) and no threshold, fits the
isotonic map of raw posterior -> correct over every item event of every mix and rate
(edge.fusion.confidence.fit_calibration) and prints it for TUNED_CALIBRATION, with the thresholds that map
would give on the same events.

It prints the choice and what it accepts; it writes nothing (the chosen value goes into
edge/fusion/settings.py by hand, with the figures in its comment).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.fusion import run
from edge.fusion.confidence import Threshold, choose_threshold, fit_calibration, wilson_upper
from edge.fusion.review import calibrate
from edge.fusion.settings import TUNED_AUTO_ACCEPT, FusionSettings

Row = tuple[float, bool, bool, bool]  # calibrated confidence, correct, hard-flagged, camera up


def rows_of(runs: Sequence[Any]) -> list[Row]:
    out: list[Row] = []
    for one in runs:
        fused = one["models"]["fused"]
        for (confidence, correct, _), hard, camera in zip(fused["verdicts"], fused["hard_flagged"], fused["camera_ok"],
                                                          strict=True):
            out.append((float(confidence), bool(correct), bool(hard), bool(camera)))
    return out


def accepted(rows: Sequence[Row], threshold: float, without_camera: float) -> tuple[int, int]:
    """(accepted, wrong among them) at these thresholds, as edge.fusion.review.decide accepts."""
    chosen = [r for r in rows if not r[2] and r[0] >= (threshold if r[3] else max(threshold, without_camera))]
    return len(chosen), sum(not r[1] for r in chosen)


def choose(rows: Sequence[Row], bound: float = 0.005) -> Threshold:
    return choose_threshold([(c, ok, hard) for c, ok, hard, camera in rows if camera], bound)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixes", default="store,stress")
    parser.add_argument("--interactions", type=int, default=700)
    parser.add_argument("--rates", default="10,80")
    parser.add_argument("--rows", type=Path, help="also write every event's (mix, SPS, confidence, correct, hard, "
                        "camera up) here as JSON, to try thresholds without rerunning")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a FusionSettings knob (float) to try, on the tuning seeds only")
    parser.add_argument("--fit-calibration", action="store_true",
                        help="refit the confidence map on an identity-map run first and print it")
    args = parser.parse_args(argv)
    base = FusionSettings()
    for item in args.set:
        key, _, value = item.partition("=")
        if not hasattr(base, key):
            parser.error(f"--set {item}: FusionSettings has no {key!r}")
        knobs: dict[str, Any] = {key: float(value)}
        base = replace(base, **knobs)
    open_settings = replace(base, auto_accept=0.0, auto_accept_without_camera=0.0)
    rates = tuple(float(r) for r in args.rates.split(","))
    if args.fit_calibration:
        return fit_map(replace(open_settings, calibration=()), rates, args.interactions, tuple(args.mixes.split(",")))
    result = run("tune", rates, args.interactions, ("fused",), None, tuple(args.mixes.split(",")), open_settings)
    results = [result, *result.others]
    pooled = [row for r in results for row in rows_of(r.runs)]
    if args.rows:
        args.rows.write_text(json.dumps([[r.mix, one["sps"], *row] for r in results for one in r.runs
                                         for row in rows_of([one])]))
    choice = choose(pooled)
    print(f"tuning seeds {result.seeds}, mixes {[r.mix for r in results]}, rates {rates}: {len(pooled)} item events")
    print(f"chosen auto_accept (camera up, pooled): {choice.threshold:.4f} ({choice.accepted} accepted, "
          f"{choice.errors} wrong, upper {choice.error_upper95:.4f})")
    strictest = choice.threshold
    for r in results:
        for sps, models in r.pooled.items():
            fused = models["fused"]
            own = choose(rows_of([one for one in r.runs if one["sps"] == sps]))
            strictest = max(strictest, own.threshold)
            print(f"  {r.mix} {sps:g} SPS: unit F1 {fused.f1:.4f}, event accuracy {fused.event_accuracy:.4f}, "
                  f"its own threshold {own.threshold:.4f}")
    print(f"strictest of the pooled and per-(mix, rate) choices: {strictest:.4f}")
    for threshold in sorted({round(choice.threshold, 3), base.auto_accept, round(strictest, 3)}):
        for r in results:
            for sps in rates:
                rows = rows_of([one for one in r.runs if one["sps"] == sps])
                n, wrong = accepted(rows, threshold, base.auto_accept_without_camera)
                print(f"  at {threshold:.3f}: {r.mix} {sps:g} SPS: {n}/{len(rows)} accepted "
                      f"(review {1 - n / max(1, len(rows)):.3f}), {wrong} wrong, upper {wilson_upper(wrong, n):.4f}")
    return 0


def fit_map(identity: FusionSettings, rates: tuple[float, ...], interactions: int, mixes: tuple[str, ...]) -> int:
    """Step 1 of docs/fusion.md "How the threshold was chosen": the map from an identity-map run, pooled over
    every mix and rate; then step 2 on the same events through the new map (camera up, no hard reason)."""
    result = run("tune", rates, interactions, ("fused",), None, mixes, identity)
    results = [result, *result.others]
    merged: dict[tuple[str, float], list[Row]] = {}
    for r in results:
        for one in r.runs:
            merged.setdefault((r.mix, one["sps"]), []).extend(rows_of([one]))
    pooled = [row for rows in merged.values() for row in rows]
    points = fit_calibration([(raw, ok) for raw, ok, _, _ in pooled])
    print(f"tuning seeds {result.seeds}, mixes {list(mixes)}, rates {rates}: {len(pooled)} item events")
    print(f"TUNED_CALIBRATION = {points}")
    mapped = {key: [(calibrate(raw, points), ok, hard, camera) for raw, ok, hard, camera in rows]
              for key, rows in merged.items()}
    choice = choose([row for rows in mapped.values() for row in rows])
    print(f"with it, auto_accept (camera up, pooled): {choice.threshold:.4f} ({choice.accepted} accepted, "
          f"{choice.errors} wrong, upper {choice.error_upper95:.4f})")
    for (mix, sps), rows in sorted(mapped.items()):
        own = choose(rows)
        n, wrong = accepted(rows, TUNED_AUTO_ACCEPT, FusionSettings().auto_accept_without_camera)
        print(f"  {mix} {sps:g} SPS: its own threshold {own.threshold:.4f}; at {TUNED_AUTO_ACCEPT}: {n}/{len(rows)} "
              f"accepted, {wrong} wrong, upper {wilson_upper(wrong, n):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
