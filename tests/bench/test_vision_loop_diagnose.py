"""The vision-loop diagnostic: its categories follow the label rule (no label = no information, told apart from a
label read and still flagged), its table counts them per twin pair, and it refuses the report seeds."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from bench import vision_loop_diagnose as diagnose


def judged(flagged: bool, correct: bool = True) -> SimpleNamespace:
    return SimpleNamespace(event=SimpleNamespace(review_required=flagged), correct=correct)


def test_categories_separate_no_information_from_a_label_read_too_weakly() -> None:
    category = diagnose._category
    assert category(judged(False), True, {"orange": 0.7}, "orange", "apple") == "settled"
    assert category(judged(False, correct=False), True, {"carrot": 0.6}, "bottle", "carrot") == "accepted wrong"
    assert category(judged(True), False, {}, "orange", "apple") == "camera down"
    assert category(judged(True), True, {}, "bottle", "carrot") == "no label seen"
    assert category(judged(True), True, {"cup": 0.57}, "bottle", "carrot") == "other label only"
    assert category(judged(True), True, {"carrot": 0.6}, "bottle", "carrot") == "rival label only"
    assert category(judged(True), True, {"apple": 0.6, "orange": 0.6}, "apple", "orange") == "own + rival seen"
    assert category(judged(True), True, {"carrot": 0.7}, "carrot", "bottle") == "own seen, flagged"


def test_the_table_counts_per_pair_and_other_plates_apart() -> None:
    rows = [{"sku": "orange", "rival": "apple-large", "plate": "p1", "category": "settled"},
            {"sku": "apple-large", "rival": "orange", "plate": "p1", "category": "camera down"},
            {"sku": "orange", "rival": "banana-bunch", "plate": "p3", "category": "no label seen"}]
    reading: Counter[tuple[str, str]] = Counter({("orange", "events"): 3, ("orange", "own"): 2})
    text = diagnose.report(rows, reading, events=False)
    assert "| apple-large / orange | 2 | 1 | 1 | 0 |" in text
    assert "| other plates | 1 | 0 | 0 | 1 |" in text
    assert "| orange | 3 | 2 | 0 | 0 | 0 |" in text


def test_it_refuses_the_report_seeds() -> None:
    assert diagnose.main(["--seeds", "401"]) == 2
