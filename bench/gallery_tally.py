"""The gallery benchmark's curve points: twin events scored per plate, summed over plates and seeds, with the
one-sided 95 % upper bound on the error rate of the accepted ones (Clopper-Pearson)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.gallery_world import PLATES, Outcome
from edge.vision.appearance_splitter import AppearanceSplitter


def error_bound(wrong: int, accepted: int, level: float = 0.95) -> float | None:
    """The one-sided `level` upper bound on the error rate after `wrong` of `accepted` (Clopper-Pearson: the
    rate p at which P(X <= wrong) = 1 - level); None when nothing was accepted. 0 of N gives 1 - 0.05^(1/N)."""
    if accepted <= 0:
        return None
    if wrong >= accepted:
        return 1.0

    def cdf(p: float) -> float:
        return sum(math.exp(math.lgamma(accepted + 1) - math.lgamma(k + 1) - math.lgamma(accepted - k + 1)
                            + k * math.log(p) + (accepted - k) * math.log1p(-p)) for k in range(wrong + 1))

    low, high = wrong / accepted, 1.0 - 1e-12
    for _ in range(80):
        mid = (low + high) / 2
        if cdf(mid) > 1 - level:
            low = mid
        else:
            high = mid
    return high


@dataclass(frozen=True, slots=True)
class Tally:
    events: int = 0
    reviews: int = 0
    accepted: int = 0
    wrong: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.events + other.events, self.reviews + other.reviews, self.accepted + other.accepted,
                     self.wrong + other.wrong)

    @property
    def review_rate(self) -> float | None:
        return None if not self.events else self.reviews / self.events

    @property
    def precision(self) -> float | None:
        return None if not self.accepted else 1 - self.wrong / self.accepted

    @property
    def bound(self) -> float | None:
        return error_bound(self.wrong, self.accepted)


@dataclass(frozen=True, slots=True)
class PlatePoint:
    plate: str
    trusted: bool
    loo_accuracy: float | None
    tally: Tally

    @property
    def review_rate(self) -> float | None:
        return self.tally.review_rate


@dataclass(frozen=True, slots=True)
class CurvePoint:
    examples: int            # usable labelled examples per SKU in each twin plate's gallery
    reached: bool            # the day gave every SKU that many (else nothing was scored)
    reached_at: int | None   # the day's event after which every SKU had them
    auto: int                # of those examples (all SKUs together), self-labelled
    review: int              # ... labelled by the reviewer
    votes: int
    votes_untrusted: int     # votes on a plate whose leave-one-out check had not passed (must be 0)
    plates: tuple[PlatePoint, ...]

    @staticmethod
    def not_reached(examples: int) -> CurvePoint:
        return CurvePoint(examples, False, None, 0, 0, 0, 0, ())

    def tally(self, plates: Sequence[str] | None = None) -> Tally:
        """Summed over `plates` (default all four twin plates)."""
        return sum((p.tally for p in self.plates if plates is None or p.plate in plates), Tally())

    @property
    def events(self) -> int:
        return self.tally().events

    @property
    def review_rate(self) -> float | None:
        return self.tally().review_rate

    @property
    def accepted(self) -> int:
        return self.tally().accepted

    @property
    def accepted_wrong(self) -> int:
        return self.tally().wrong


def point_of(n: int, reached_at: int, auto: int, review: int, outcomes: Sequence[Outcome],
             splitter: AppearanceSplitter | None) -> CurvePoint:
    plates = []
    for plate, _ in PLATES:
        rows = [o for o in outcomes if o.plate == plate]
        report = splitter.plates[plate].report if splitter else None
        accepted = [o for o in rows if not o.review]
        plates.append(PlatePoint(plate, bool(report and report.trusted), report.accuracy if report else None,
                                 Tally(len(rows), sum(o.review for o in rows), len(accepted),
                                       sum(not o.correct for o in accepted))))
    trusted = {p.plate for p in plates if p.trusted}
    return CurvePoint(n, True, reached_at, auto, review, sum(o.voted for o in outcomes),
                      sum(o.voted and o.plate not in trusted for o in outcomes), tuple(plates))
