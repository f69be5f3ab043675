"""The per-plate splitter: abstains until its leave-one-out check passes, votes only between the candidates
it is given, cleans likely wrong labels, refuses contradicting examples once trusted."""

from __future__ import annotations

import numpy as np
import pytest

from edge.vision.appearance_splitter import AppearanceSplitter, PlateSplitter, SplitterSettings

DIM = 16


def _cloud(centre: int, n: int, spread: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM)
    base[centre] = 1.0
    rows = base + rng.normal(0, spread, (n, DIM))
    return [(r / np.linalg.norm(r)).astype(np.float32) for r in rows]


def _probe(centre: int, seed: int = 99) -> np.ndarray:
    return _cloud(centre, 1, 0.1, seed)[0]


def test_separable_plate_is_trusted_and_votes_right() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)})
    report = splitter.report
    assert report.trusted and report.accuracy == pytest.approx(1.0) and report.needed_more == 0
    assert report.examples == {"A": 30, "B": 30}
    vote = splitter.vote(_probe(1), ["A", "B"])
    assert vote is not None and vote.sku == "B" and vote.candidates == ("A", "B")
    assert 0.9 < vote.accuracy < 1.0  # Laplace-smoothed: never a certainty
    assert report.to_json()["trusted"] is True


def test_abstains_below_its_trust_threshold() -> None:
    # the same cloud under two names: leave-one-out is a coin toss, far below 0.98
    same = _cloud(0, 40, 0.3, 5)
    splitter = PlateSplitter("p1", {"A": same[:20], "B": same[20:]})
    assert not splitter.report.trusted
    assert splitter.report.accuracy is not None and splitter.report.accuracy < 0.98
    assert splitter.vote(_probe(0), ["A", "B"]) is None
    # a stricter threshold turns a trusted plate into an abstaining one
    clean = {"A": _cloud(0, 20, 0.45, 1), "B": _cloud(1, 20, 0.45, 2)}
    loose = PlateSplitter("p1", clean, SplitterSettings(min_accuracy=0.5))
    strict = PlateSplitter("p1", clean, SplitterSettings(min_accuracy=1.01))
    assert loose.report.trusted and loose.vote(_probe(0), ["A", "B"]) is not None
    assert not strict.report.trusted and strict.vote(_probe(0), ["A", "B"]) is None


def test_too_few_examples_says_how_many_more() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 4, 0.1, 1), "B": _cloud(1, 12, 0.1, 2)})
    assert not splitter.report.trusted and splitter.report.accuracy is None
    assert splitter.report.needed_more == 6
    assert "A needs 6 more" in splitter.report.reason
    assert splitter.vote(_probe(0), ["A", "B"]) is None
    lonely = PlateSplitter("p2", {"A": _cloud(0, 30, 0.1, 1)})
    assert not lonely.report.trusted and "fewer than two" in lonely.report.reason


def test_a_perfect_but_short_record_is_not_trusted_yet() -> None:
    # 20 + 20 leave-one-out trials without an error: smoothed 41/42 = 0.976 < 0.98, so a lucky start cannot pass
    splitter = PlateSplitter("p1", {"A": _cloud(0, 20, 0.1, 1), "B": _cloud(1, 20, 0.1, 2)})
    report = splitter.report
    assert report.accuracy == pytest.approx(1.0) and not report.trusted
    assert report.needed_more == 4  # (0.98 * 42 - 41) / 0.02 = 8 more trials: 4 per SKU (49/50 = 0.98)
    assert splitter.vote(_probe(0), ["A", "B"]) is None
    grown = PlateSplitter("p1", {"A": _cloud(0, 25, 0.1, 1), "B": _cloud(1, 25, 0.1, 2)})
    assert grown.report.trusted


def test_votes_only_between_known_candidates() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2),
                                    "C": _cloud(2, 30, 0.1, 3)})
    assert splitter.report.trusted
    vote = splitter.vote(_probe(2), ["A", "B"])  # C is not plausible by weight: the vote stays within A, B
    assert vote is None or vote.sku in ("A", "B")
    assert splitter.vote(_probe(0), ["A", "UNKNOWN"]) is None  # a candidate it has never seen
    assert splitter.vote(_probe(0), ["A"]) is None             # nothing to split


def test_ambiguous_crop_abstains_on_margin() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
                             SplitterSettings(min_margin=0.1))
    assert splitter.vote(_probe(0), ["A", "B"]) is not None
    middle = np.zeros(DIM, np.float32)
    middle[0] = middle[1] = np.sqrt(0.5)
    assert splitter.vote(middle, ["A", "B"]) is None


def test_cleaning_removes_wrong_labels_and_keeps_trust() -> None:
    a, b = _cloud(0, 50, 0.1, 1), _cloud(1, 50, 0.1, 2)
    poisoned = {"A": a + b[:2], "B": b[2:]}  # two B crops labelled A
    guarded = PlateSplitter("p1", poisoned)
    naive = PlateSplitter("p1", poisoned, SplitterSettings(clean=False, trim=1.0))
    assert guarded.report.cleaned == {"A": 2}
    assert guarded.report.trusted and guarded.report.accuracy == pytest.approx(1.0)
    assert naive.report.accuracy is not None and naive.report.accuracy < 0.99


def test_a_trusted_plate_refuses_examples_it_confidently_contradicts() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)})
    assert splitter.admits("A", _probe(0))
    assert not splitter.admits("A", _probe(1))
    assert splitter.admits("NEW", _probe(1))  # a SKU it knows nothing of: nothing to contradict
    untrusted = PlateSplitter("p1", {"A": _cloud(0, 3, 0.1, 1), "B": _cloud(1, 3, 0.1, 2)})
    assert untrusted.admits("A", _probe(1))   # before trust, the weight's or the human's label stands


def test_all_plates_and_reports() -> None:
    splitter = AppearanceSplitter({"p2": {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
                                   "p1": {"C": _cloud(2, 5, 0.1, 3)}})
    assert [r.plate for r in splitter.reports()] == ["p1", "p2"]
    assert splitter.vote("p2", _probe(0), ["A", "B"]) is not None
    assert splitter.vote("p9", _probe(0), ["A", "B"]) is None


def test_bad_gallery_is_refused() -> None:
    with pytest.raises(ValueError, match="equal-length"):
        PlateSplitter("p1", {"A": [np.ones(4, np.float32), np.ones(5, np.float32)], "B": _cloud(1, 3, 0.1, 2)})


def test_a_candidate_from_another_plate_is_voted_on_with_its_own_examples() -> None:
    splitter = AppearanceSplitter({"p1": {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
                                   "p2": {"C": _cloud(2, 30, 0.1, 3), "D": _cloud(3, 30, 0.1, 4)}})
    vote = splitter.vote("p1", _probe(2), ["A", "B", "C"])  # C lives on p2: an unseen put-back, picked here
    assert vote is not None and vote.sku == "C" and vote.candidates == ("A", "B", "C")
    partial = splitter.vote("p1", _probe(1), ["A", "B", "NEVER-SEEN"])  # no examples anywhere: left out
    assert partial is not None and partial.sku == "B" and partial.candidates == ("A", "B")
    assert splitter.vote("p1", _probe(1), ["A", "NEVER-SEEN"]) is None
