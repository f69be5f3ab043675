"""A short scripts/bench-fusion run: simulator -> real parser + Weigher -> statistical camera ->
every model -> scorer. Asserts the pipeline and the metrics work (not timing, not the targets)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def bench() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("bench_fusion", str(REPO / "scripts" / "bench-fusion"))
    spec = importlib.util.spec_from_loader("bench_fusion", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_short_benchmark_scores_every_model(tmp_path: Path) -> None:
    script = bench()
    run = script.one_run(101, 10.0, 60, tmp_path, script.MODELS)
    assert run["interactions"] >= 60 and run["weight_events"] >= 50
    for name in script.MODELS:
        scored = run["models"][name]
        units = scored["units"]
        assert units["tp"] + units["fn"] >= 60  # every true unit is counted once, found or missed
        assert 0.0 <= units["f1"] <= 1.0 and 0.0 <= scored["ece"] <= 1.0
        assert scored["review"]["events"] > 0 and len(scored["times_ms"]) == run["weight_events"]
        assert [p["coverage"] for p in scored["risk_coverage"]] == [0.5, 0.8, 0.9, 0.95, 0.98, 1.0]
        assert sum(row["events"] for row in scored["reliability"]) == scored["review"]["events"]
    baselines = [run["models"][n]["review"]["flagged"] for n in ("aim3s", "autocheckout2020", "vision_only")]
    assert baselines == [0, 0, 0]  # the comparators never abstain
    assert run["models"]["fused"]["units"]["f1"] > run["models"]["vision_only"]["units"]["f1"]
    report = {"machine": "test", "command": "test", "seeds": [101], "seed_set": "tune", "wall_s": 0.0,
              "runs": [run], "pooled": {10.0: {m: script.pooled([run], m) for m in script.MODELS}}}  # fmt: skip
    text = script.render_markdown(report)
    assert "| fused |" in text and "ECE <= 0.02" in text and "| same_label_twin |" in text
