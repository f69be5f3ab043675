"""Reviewed outcomes -> a reliability table per confidence bin, and a correction that only ever lowers the
confidence the node publishes (docs/fusion.md, "Reviewer answers").

    record = OutcomeRecord()
    record.add(Outcome("6f0c...", confidence=0.97, agreed=False, flagged=True, hard=False, t=now))
    record.table()                  # BinRow per bin: answers, agreed, accuracy, its one-sided 95 % bound
    record.correct(0.975)           # <= 0.975: lowered where the answers show fusion over-confident

Pure and bounded: the newest `max_outcomes`, one per event (a second answer for an event replaces the
first). `confidence` is fusion's own calibrated confidence, before this correction, so the correction
does not move the events it is learned from into other bins.

The rule: a bin is **over-confident** when it holds at least `min_samples` answers to events no hard
reason flagged (those whose review the confidence decides) and the one-sided 95 % Wilson upper bound on
their accuracy is below their mean confidence. Its cap is that bound; the published confidence is
min(confidence, the lowest cap of its bin and every bin above), so the map stays monotone and never
raises a confidence. Events a hard reason flagged are in the table but not in the rule: they go to review
whatever their confidence, and they are the hard cases.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edge.fusion.confidence import wilson_upper

FORMAT = 1
Z_ONE_SIDED_95 = 1.645


@dataclass(frozen=True, slots=True)
class ReliabilitySettings:
    edges: tuple[float, ...] = (0.0, 0.5, 0.8, 0.9, 0.96, 0.99, 0.999, 1.0)  # bins [lo, hi); the last [lo, 1]
    min_samples: int = 30  # answers (not hard-flagged) a bin needs before it may lower anything
    z: float = Z_ONE_SIDED_95
    max_outcomes: int = 5000


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    confidence: float  # fusion's calibrated confidence, before the correction
    agreed: bool  # the reviewer's answer was fusion's (same action and units per SKU)
    flagged: bool  # the event went to review (False: an audit of an accepted event)
    hard: bool  # ... flagged by a hard reason (twin, no_fit, ...): its confidence did not decide
    t: float  # when the answer came

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "confidence": self.confidence, "agreed": self.agreed,
                "flagged": self.flagged, "hard": self.hard, "t": self.t}


@dataclass(frozen=True, slots=True)
class BinRow:
    low: float
    high: float
    answers: int  # every answer in the bin
    agreed: int
    flagged: int  # ... to flagged events; the rest are audits of accepted ones
    decided: int  # ... to events no hard reason flagged (the rule's sample)
    decided_agreed: int
    mean_confidence: float | None  # of the decided ones
    accuracy_upper95: float | None  # one-sided 95 % upper bound on their accuracy
    cap: float | None  # the bin is over-confident: published confidences are lowered to this

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)
        return {"bin": f"{self.low:g}-{self.high:g}", "answers": self.answers, "agreed": self.agreed,
                "flagged": self.flagged, "decided": self.decided, "decided_agreed": self.decided_agreed,
                "mean_confidence": r(self.mean_confidence), "accuracy_upper95": r(self.accuracy_upper95),
                "cap": r(self.cap)}


class OutcomeRecord:
    def __init__(self, settings: ReliabilitySettings | None = None, outcomes: Iterable[Outcome] = ()) -> None:
        self.settings = settings or ReliabilitySettings()
        self._outcomes: OrderedDict[str, Outcome] = OrderedDict()
        self._caps: tuple[float, ...] | None = None  # worked out again after a change, when asked
        for outcome in outcomes:
            self._put(outcome)

    def add(self, outcome: Outcome) -> bool:
        """Record one answer (replacing an earlier one for the event: True); the caps follow."""
        replaced = self._put(outcome)
        self._caps = None
        return replaced

    def __len__(self) -> int:
        return len(self._outcomes)

    def outcomes(self) -> list[Outcome]:
        return list(self._outcomes.values())

    def correct(self, confidence: float) -> float:
        """The confidence to publish: never above `confidence`."""
        if self._caps is None:
            self._caps = self._envelope()
        return min(confidence, self._caps[self._bin(confidence)])

    def table(self) -> tuple[BinRow, ...]:
        edges = self.settings.edges
        rows: list[list[Outcome]] = [[] for _ in edges[:-1]]
        for outcome in self._outcomes.values():
            rows[self._bin(outcome.confidence)].append(outcome)
        return tuple(self._row(edges[i], edges[i + 1], members) for i, members in enumerate(rows))

    def lowered_bins(self) -> list[str]:
        return [f"{row.low:g}-{row.high:g}" for row in self.table() if row.cap is not None]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "outcomes": [o.to_json() for o in self._outcomes.values()]}

    @classmethod
    def from_json(cls, data: Any, settings: ReliabilitySettings | None = None) -> OutcomeRecord:
        """ValueError naming what is wrong with `data` (the persisted record)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("outcomes"), list):
            raise ValueError(f"expected an object with format {FORMAT} and a list 'outcomes'")
        return cls(settings, [_outcome(raw, i) for i, raw in enumerate(data["outcomes"])])

    # -- internals -----------------------------------------------------------------------------------
    def _put(self, outcome: Outcome) -> bool:
        replaced = self._outcomes.pop(outcome.event_id, None) is not None
        self._outcomes[outcome.event_id] = outcome
        while len(self._outcomes) > self.settings.max_outcomes:
            self._outcomes.popitem(last=False)
        return replaced

    def _bin(self, confidence: float) -> int:
        edges = self.settings.edges
        return min(max(bisect_right(edges, confidence) - 1, 0), len(edges) - 2)

    def _row(self, low: float, high: float, members: list[Outcome]) -> BinRow:
        decided = [o for o in members if not o.hard]
        right = sum(o.agreed for o in decided)
        mean = sum(o.confidence for o in decided) / len(decided) if decided else None
        upper = wilson_upper(right, len(decided), self.settings.z) if decided else None
        over = (len(decided) >= self.settings.min_samples and upper is not None and mean is not None
                and upper < mean)
        return BinRow(low, high, len(members), sum(o.agreed for o in members), sum(o.flagged for o in members),
                      len(decided), right, mean, upper, upper if over else None)

    def _envelope(self) -> tuple[float, ...]:
        caps = [1.0 if row.cap is None else row.cap for row in self.table()]
        for i in range(len(caps) - 2, -1, -1):  # a bin's cap is also every lower bin's: monotone
            caps[i] = min(caps[i], caps[i + 1])
        return tuple(caps)


def _outcome(raw: Any, index: int) -> Outcome:
    where = f"outcomes[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} is not an object")
    event_id, confidence, t = raw.get("event_id"), raw.get("confidence"), raw.get("t")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError(f"{where}.event_id must be a non-empty string")
    for name, value in (("confidence", confidence), ("t", t)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{where}.{name} must be a finite number")
    if not 0.0 <= confidence <= 1.0:  # type: ignore[operator]
        raise ValueError(f"{where}.confidence must be within 0..1")
    agreed, flagged, hard = raw.get("agreed"), raw.get("flagged"), raw.get("hard")
    if not (isinstance(agreed, bool) and isinstance(flagged, bool) and isinstance(hard, bool)):
        raise ValueError(f"{where}: agreed, flagged and hard must be true or false")
    return Outcome(event_id, float(confidence), agreed, flagged, hard, float(t))  # type: ignore[arg-type]
