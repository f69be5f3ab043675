"""The reviewed outcomes' reliability table and the correction (edge/fusion/reliability.py): bounded, one
answer per event, a bin lowered only when the one-sided 95 % bound says fusion is over-confident there with
enough answers, never raised, monotone, hard-flagged answers left out of the rule; garbage refused."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest

from edge.fusion.reliability import Outcome, OutcomeRecord, ReliabilitySettings


def _answers(record: OutcomeRecord, n: int, wrong: int, confidence: float, hard: bool = False,
             prefix: str = "e") -> None:
    for i in range(n):
        record.add(Outcome(f"{prefix}{i}", confidence, i >= wrong, True, hard, float(i)))


def test_a_bin_shown_over_confident_is_lowered_to_its_bound() -> None:
    record = OutcomeRecord()
    _answers(record, 40, wrong=6, confidence=0.975)  # 85 % right where fusion said 97.5 %
    row = next(r for r in record.table() if r.low == 0.96)
    assert (row.answers, row.decided, row.decided_agreed) == (40, 40, 34)
    assert row.accuracy_upper95 is not None and row.cap == row.accuracy_upper95 < 0.96
    assert record.correct(0.975) == pytest.approx(row.cap)
    assert record.correct(0.95) == pytest.approx(row.cap)  # a lower bin follows: monotone
    assert record.correct(0.5) == 0.5 and record.correct(0.9995) == 0.9995  # other bins as they were
    assert record.lowered_bins() == ["0.96-0.99"]


def test_no_correction_without_enough_answers_or_without_the_bound() -> None:
    few = OutcomeRecord()
    _answers(few, 29, wrong=10, confidence=0.975)  # badly wrong, but 29 < min_samples
    assert few.correct(0.975) == 0.975 and few.lowered_bins() == []
    honest = OutcomeRecord()
    _answers(honest, 200, wrong=3, confidence=0.975)  # 98.5 % right: the bound is above 0.975
    assert honest.correct(0.975) == 0.975
    hard = OutcomeRecord()
    _answers(hard, 60, wrong=30, confidence=0.975, hard=True)  # twins: reviewed whatever their confidence
    assert hard.correct(0.975) == 0.975 and hard.table()[4].answers == 60 and hard.table()[4].decided == 0


def test_the_correction_never_raises_and_stays_monotone() -> None:
    rng = random.Random(7)
    record = OutcomeRecord()
    for i in range(3000):
        confidence = rng.uniform(0.3, 1.0)
        record.add(Outcome(f"e{i}", confidence, rng.random() < confidence - 0.15, rng.random() < 0.5,
                           rng.random() < 0.2, float(i)))
    assert record.lowered_bins()  # 15 points over-confident everywhere: the bound shows it
    grid = [i / 1000 for i in range(1001)]
    published = [record.correct(c) for c in grid]
    assert all(p <= c for p, c in zip(published, grid, strict=True))
    assert all(a <= b for a, b in itertools.pairwise(published))


def test_the_record_is_bounded_and_keeps_one_answer_per_event() -> None:
    record = OutcomeRecord(ReliabilitySettings(max_outcomes=50))
    _answers(record, 80, wrong=0, confidence=0.7)
    assert len(record) == 50 and record.outcomes()[0].event_id == "e30"
    assert record.add(Outcome("e79", 0.7, False, True, False, 99.0))  # replaced, not added
    assert len(record) == 50 and record.outcomes()[-1].agreed is False


def test_the_record_round_trips_and_refuses_garbage_by_name() -> None:
    record = OutcomeRecord()
    _answers(record, 40, wrong=6, confidence=0.975)
    again = OutcomeRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert again.outcomes() == record.outcomes() and again.correct(0.975) == record.correct(0.975)
    bad = record.to_json()
    bad["outcomes"][3]["confidence"] = "high"
    with pytest.raises(ValueError, match=r"outcomes\[3\]\.confidence must be a finite number"):
        OutcomeRecord.from_json(bad)
    garbage: Any
    for garbage in ([], {"format": 9, "outcomes": []}, {"format": 1}):
        with pytest.raises(ValueError, match="format 1"):
            OutcomeRecord.from_json(garbage)
