"""bench/fleet_truth.py: interactions while a node was up, matched to the item events the hub received."""

from __future__ import annotations

from pathlib import Path

from bench.fleet_truth import MARGIN_S, WARM_S, check, windows
from edge.sim.truth import TruthRecord, write_truth


def _truth(path: Path, starts: list[float]) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for index, start in enumerate(starts):
            write_truth(file, TruthRecord(index, "pick", start, start + 1.5, {"p1": -50.0}, "gum", 1, True, ""))
    return path


def test_windows_run_from_each_online_to_the_next_end() -> None:
    assert windows([100.0, 300.0], [200.0, 500.0]) == [(100.0 + WARM_S, 200.0 - MARGIN_S),
                                                       (300.0 + WARM_S, 500.0 - MARGIN_S)]


def test_interactions_while_up_are_matched_once_each(tmp_path: Path) -> None:
    truth = _truth(tmp_path / "truth.jsonl", [105.0, 150.0, 160.0, 190.0, 250.0])  # 105: warming; 250: down
    up = windows([100.0], [199.0])  # up 110..196: 150, 160 and 190 count
    result = check(truth, up, item_starts=[150.4, 190.2, 105.1, 170.0])
    assert (result.interactions, result.matched) == (3, 2)  # 160 has no item event
    assert result.extra_items == 1  # 170 matches no interaction; 105.1 is the warming one's, not extra


def test_no_truth_file_counts_nothing(tmp_path: Path) -> None:
    assert check(tmp_path / "missing.jsonl", [(0.0, 10.0)], [5.0]).interactions == 0
