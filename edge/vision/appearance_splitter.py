"""The per-plate appearance splitter: which of a plate's look-alike SKUs a crop shows, and whether to trust
that answer at all (pure numpy).

Input is a gallery per plate, `{sku: [descriptor, ...]}` (unit vectors from edge.vision.appearance), so
the splitter does not depend on how the gallery is stored (edge/gallery). Per plate it

1. **cleans** the gallery (the poisoning guard, part 1): an example of whose `CLEAN_K` (7) nearest neighbours
   at least `CLEAN_AGREE` (6) carry one other SKU of the plate is most likely a wrong label (a self-labelled
   event that was wrong) and is left out;
2. builds a **robust centre** per SKU (part 2): the mean of the examples nearest the SKU's coordinate-wise
   median (`trim`), renormalised, so a few stray examples barely move it;
3. checks itself by **leave-one-out** on the cleaned gallery: each example classified by the centres
   computed without it. The plate is trusted when every SKU has `min_examples` and the Laplace-smoothed LOO
   accuracy (right + 1) / (trials + 2) is at least `min_accuracy` (0.98): a few lucky trials cannot pass it
   (0.98 needs 49 trials without an error, 25 examples per SKU on a plate of two);
4. **votes** on an event only when trusted (a vote across plates, below, needs the plate's own check too),
   only between the candidate SKUs fusion names (those the
   weight left plausible) and only when the crop's relative margin between the two nearest centres is at
   least the plate's vote margin: above `min_margin` and above the margin of every wrong LOO vote, as long
   as that keeps half the LOO votes (else `min_margin`); otherwise it abstains (None). The vote's
   reliability is the Laplace-smoothed LOO accuracy of the votes at that margin, which fusion turns into
   its factor (edge.fusion.appearance_factor).

`admits` (part 3 of the guard) lets a trusted plate refuse a new self-labelled example its own confident
vote contradicts. How the guard holds up with 2 % wrong labels: bench/gallery.py, docs/fusion.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.vision.appearance import Descriptor

CLEAN_K = 7      # neighbours looked at when cleaning
MIN_COVERAGE = 0.5  # a vote margin raised past the LOO errors must still keep this share of the LOO votes
CLEAN_AGREE = 6  # of them carrying one other SKU make an example a likely wrong label (two wrong ones may be close)
RIVAL_SIGMAS = 12.0   # AppearanceSplitter.pairs: n units of one SKU this close to m of another are rivals
# (fusion's heavy-tailed weight keeps candidates 6-12 sigma apart plausible: on the fusion tuning seeds
# 101-103, bench.fusion_learned's votes asked 819 pairs, 83 % within 6 sigma, all within 12)
RIVAL_NOISE_G = 2.0   # the plate's own noise in that sigma, grams
RIVAL_MAX_COUNT = 6   # fusion's max_count
PREPARE_LIMIT = 64    # pair checks one prepare() builds at most (~0.6 s each at 100 examples per SKU)


@dataclass(frozen=True, slots=True)
class SplitterSettings:
    min_accuracy: float = 0.98   # leave-one-out accuracy a plate needs before the splitter votes there
    min_examples: int = 10       # per SKU, before a leave-one-out check means anything
    max_examples: int = 200      # per SKU, the newest this many are used (bounded cost)
    min_margin: float = 0.04     # relative margin (d2 - d1) / (d2 + d1) an event needs for a vote
    trim: float = 0.8            # share of a SKU's examples, nearest its median, that make its centre
    clean: bool = True           # leave out examples whose neighbours all carry one other SKU


@dataclass(frozen=True, slots=True)
class TrustReport:
    """One plate's leave-one-out check, for fusion (does the splitter vote?) and `gallery check`."""

    plate: str
    skus: tuple[str, ...]
    trusted: bool
    accuracy: float | None          # LOO accuracy on the cleaned gallery (None: too few examples to check)
    smoothed_accuracy: float | None  # (right + 1) / (trials + 2): what must reach min_accuracy
    vote_margin: float | None       # relative margin an event needs for a vote on this plate
    vote_accuracy: float | None     # LOO accuracy of the votes with that margin (Laplace smoothed)
    coverage: float | None          # share of LOO examples with that margin
    examples: dict[str, int]        # per SKU, as given
    cleaned: dict[str, int]         # per SKU, left out as likely wrong labels
    needed_more: int | None         # more examples per SKU likely needed (0 when trusted; None: unknown)
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"plate": self.plate, "skus": list(self.skus), "trusted": self.trusted,
                "accuracy": _round(self.accuracy), "smoothed_accuracy": _round(self.smoothed_accuracy),
                "vote_margin": _round(self.vote_margin), "vote_accuracy": _round(self.vote_accuracy),
                "coverage": _round(self.coverage), "examples": dict(self.examples), "cleaned": dict(self.cleaned),
                "needed_more": self.needed_more, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Vote:
    """The splitter's answer for one event: `sku` among `candidates`, right with probability `accuracy`."""

    plate: str
    sku: str
    candidates: tuple[str, ...]
    accuracy: float
    margin: float


@dataclass(slots=True)
class PlateSplitter:
    plate: str
    gallery: Mapping[str, Sequence[Descriptor]]
    settings: SplitterSettings = field(default_factory=SplitterSettings)
    report: TrustReport = field(init=False)
    _skus: tuple[str, ...] = field(init=False)
    _centres: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self._skus = tuple(sorted(s for s, examples in self.gallery.items() if len(examples)))
        examples = {s: _stack(self.gallery[s], self.settings.max_examples) for s in self._skus}
        kept, cleaned = _clean(examples, self.settings) if self.settings.clean else (examples, {})
        self._centres = np.stack([robust_centre(kept[s], self.settings.trim) for s in self._skus]) if self._skus \
            else np.zeros((0, 1), np.float32)
        self.report = self._check(kept, cleaned)

    def vote(self, descriptor: Descriptor, candidates: Sequence[str]) -> Vote | None:
        """The candidate the crop is nearest to, or None (not trusted, a candidate has no examples here,
        fewer than two candidates, or the margin is too small)."""
        if not self.report.trusted or self.report.vote_accuracy is None or self.report.vote_margin is None:
            return None
        wanted = tuple(sorted(set(candidates)))
        if len(wanted) < 2 or any(c not in self._skus for c in wanted):
            return None
        rows = [self._skus.index(c) for c in wanted]
        best, margin = _nearest(np.asarray(descriptor, np.float32), self._centres[rows])
        if margin < self.report.vote_margin:
            return None
        return Vote(self.plate, wanted[best], wanted, self.report.vote_accuracy, margin)

    def admits(self, sku: str, descriptor: Descriptor) -> bool:
        """Whether a new self-labelled example may join the gallery: always while the plate is not trusted
        (the label rests on weight or a human); once trusted, not when its own confident vote says another
        SKU of the plate."""
        vote = self.vote(descriptor, self._skus) if sku in self._skus else None
        return vote is None or vote.sku == sku

    # -- the leave-one-out check ------------------------------------------------------------------------
    def _check(self, kept: dict[str, np.ndarray], cleaned: dict[str, int]) -> TrustReport:
        s = self.settings
        counts = {sku: len(self.gallery[sku]) for sku in self._skus}
        short = {sku: s.min_examples - len(kept[sku]) for sku in self._skus if len(kept[sku]) < s.min_examples}
        if len(self._skus) < 2:
            return TrustReport(self.plate, self._skus, False, None, None, None, None, None, counts, cleaned,
                               None, "fewer than two SKUs with examples: nothing to split")
        if short:
            needs = ", ".join(f"{k} needs {v} more" for k, v in sorted(short.items()))
            return TrustReport(self.plate, self._skus, False, None, None, None, None, None, counts, cleaned,
                               max(short.values()), f"too few examples: {needs}")
        correct, margins = _leave_one_out(kept, self._skus, s.trim)
        right, trials = int(correct.sum()), len(correct)
        accuracy, smoothed = right / trials, (right + 1.0) / (trials + 2.0)
        vote_margin = s.min_margin
        if not correct.all():
            above_errors = float(margins[~correct].max()) + 1e-6
            if (margins >= above_errors).mean() >= MIN_COVERAGE:
                vote_margin = max(vote_margin, above_errors)
        voted = margins >= vote_margin
        vote_accuracy = (float(correct[voted].sum()) + 1.0) / (float(voted.sum()) + 2.0)
        trusted = smoothed >= s.min_accuracy
        needed = 0 if trusted else _needed_more(kept, self._skus, s, right, trials)
        verdict = ">=" if trusted else "<"
        reason = (f"leave-one-out {right}/{trials} right, smoothed accuracy {smoothed:.3f} {verdict} "
                  f"{s.min_accuracy}")
        return TrustReport(self.plate, self._skus, trusted, accuracy, smoothed, vote_margin, vote_accuracy,
                           float(voted.mean()), counts, cleaned, needed, reason)


class AppearanceSplitter:
    """Every plate's splitter, built from `{plate: {sku: [descriptor, ...]}}`; what fusion's appearance
    factor calls (edge.fusion.appearance_factor.AppearanceVoter).

    It never votes on a plate whose own leave-one-out check has not passed (issue 15), whatever the
    candidates: a plate with one SKU with examples, or with too few, or failing its check, abstains.

    When the candidates of an event are not all SKUs of the plate (a SKU from another plate, picked after an
    unseen put-back, is plausible by weight), the vote on a trusted plate is between the candidates with
    examples anywhere (the others' from their plates' galleries), one pair at a time: the answer is the
    candidate that wins its pair against every other, each pair judged by its own splitter and leave-one-out
    check (built once per pair, at its first vote unless `prepare` built it before); if none does (a pair
    abstains or is lost), the vote abstains. So such a vote needs the plate's own check and every pair's.
    Its reliability is
    1 - (K - 1)(1 - a), a the weakest pair's: the chance that none of the K - 1 comparisons went wrong.
    Candidates with no examples at all are left out of the vote (fusion then cannot rule them out)."""

    def __init__(self, galleries: Mapping[str, Mapping[str, Sequence[Descriptor]]],
                 settings: SplitterSettings | None = None) -> None:
        self.settings = settings or SplitterSettings()
        self.plates = {plate: PlateSplitter(plate, gallery, self.settings) for plate, gallery in galleries.items()}
        self._by_sku: dict[str, list[Descriptor]] = {}
        for gallery in galleries.values():
            for sku, examples in gallery.items():
                self._by_sku.setdefault(sku, []).extend(examples)
        self._pairs: dict[tuple[str, str, str], PlateSplitter] = {}  # (plate, a, b) -> its pair's check
        self._checks: dict[tuple[str, str | None, str, str | None], PlateSplitter] = {}  # by examples' source
        self.pair_builds = 0  # pair checks built (by prepare, or lazily by a vote)

    def vote(self, plate: str, descriptor: Descriptor, candidates: Sequence[str]) -> Vote | None:
        splitter = self.plates.get(plate)
        if splitter is None or not splitter.report.trusted:
            return None  # the plate's own check first, whatever the candidates (pairs below add theirs)
        known = tuple(sorted({c for c in candidates if self._by_sku.get(c)}))
        if set(known) <= set(splitter.gallery) and len(known) == len(set(candidates)):
            return splitter.vote(descriptor, known)
        if len(known) < 2:
            return None
        for winner in known:
            duels = [self._pair(plate, *sorted((winner, other))).vote(descriptor, (winner, other))
                     for other in known if other != winner]
            won = [v for v in duels if v is not None and v.sku == winner]
            if len(won) == len(duels):  # it beats every other candidate, each pair sure enough to vote
                weakest = min(v.accuracy for v in won)
                accuracy = max(1.0 - (len(known) - 1) * (1.0 - weakest), 1.0 / len(known))
                return Vote(plate, winner, known, accuracy, min(v.margin for v in won))
        return None

    def pairs(self, unit_weights: Mapping[str, tuple[float, float]] | None = None) -> list[tuple[str, str, str]]:
        """Every (plate, a, b), a < b, a vote may judge one pair at a time: per plate whose own check passed
        (no vote is cast elsewhere), two SKUs with examples (on it or anywhere). With `unit_weights` ({sku:
        (unit grams, unit sigma)}, the catalogue's), only the plausible rivals, nearest first: some n units of
        one within RIVAL_SIGMAS of m of the other (n, m up to RIVAL_MAX_COUNT, fusion's max_count); others are
        never both plausible by weight in one event. A SKU without a weight is kept against any."""
        skus = sorted(s for s, examples in self._by_sku.items() if examples)
        gaps = {(a, b): _rivalry(unit_weights, a, b) for i, a in enumerate(skus) for b in skus[i + 1:]}
        trusted = sorted(plate for plate, splitter in self.plates.items() if splitter.report.trusted)
        found = [(gap, plate, a, b) for plate in trusted for (a, b), gap in gaps.items() if gap < RIVAL_SIGMAS]
        return [(plate, a, b) for _, plate, a, b in sorted(found)]

    def prepare(self, pairs: Iterable[tuple[str, str, str]] | None = None, limit: int = PREPARE_LIMIT,
                cancelled: Callable[[], bool] = lambda: False) -> int:
        """Build the checks of `pairs` (default: all of `pairs()`) now, at most `limit` new ones, so that a
        vote on them builds nothing (a pair at 100 examples per SKU costs ~0.6 s, on the event's thread when
        built lazily). Returns how many were built. Votes are the same whether a pair was prepared or not.

        Not thread safe (nor is `vote`, which builds lazily what was not prepared): prepare a splitter before
        handing it to the thread that votes, then only that thread may use it (edge/node/appearance_feed.py)."""
        built = self.pair_builds
        for plate, a, b in self.pairs() if pairs is None else pairs:
            if self.pair_builds - built >= limit or cancelled():
                break
            splitter = self.plates.get(plate)
            if splitter is not None and splitter.report.trusted and self._by_sku.get(a) and self._by_sku.get(b) \
                    and a != b:
                self._pair(plate, *sorted((a, b)))
        return self.pair_builds - built

    def _pair(self, plate: str, a: str, b: str) -> PlateSplitter:
        key = (plate, a, b)
        if key not in self._pairs:
            self._pairs[key] = self._check_of(plate, a, b)
        return self._pairs[key]

    def _check_of(self, plate: str, a: str, b: str) -> PlateSplitter:
        """The pair's check: each SKU's examples from `plate`'s gallery, else from wherever it has them. Built
        once per such source (the same examples give the same check, whichever plate asks); the plate's own
        splitter when that is a plate of exactly these two SKUs."""
        (sa, sb) = sources = (self._source(plate, a), self._source(plate, b))
        key = (a, sa, b, sb)
        if key not in self._checks:
            home = self.plates.get(sa) if sa is not None and sa == sb else None
            if home is not None and home._skus == (a, b):
                self._checks[key] = home
            else:
                self._checks[key] = PlateSplitter(plate, {sku: self._examples(sku, source)
                                                          for sku, source in zip((a, b), sources, strict=True)},
                                                  self.settings)
                self.pair_builds += 1
        return self._checks[key]

    def _source(self, plate: str, sku: str) -> str | None:
        """Where a pair on `plate` takes `sku`'s examples: the plate's gallery when it lists the SKU, else the
        one plate holding examples of it, else None (all of them, in the galleries' order)."""
        if sku in self.plates[plate].gallery:
            return plate
        holders = [p for p, s in self.plates.items() if len(s.gallery.get(sku, ()))]
        return holders[0] if len(holders) == 1 else None

    def _examples(self, sku: str, source: str | None) -> Sequence[Descriptor]:
        return self._by_sku[sku] if source is None else self.plates[source].gallery[sku]

    def reports(self) -> list[TrustReport]:
        return [self.plates[p].report for p in sorted(self.plates)]


def _stack(examples: Sequence[Descriptor], limit: int) -> np.ndarray:
    try:
        rows = np.asarray(examples[-limit:], dtype=np.float32)
    except ValueError:
        rows = np.zeros((0,), np.float32)
    if rows.ndim != 2 or not np.isfinite(rows).all():
        raise ValueError(f"gallery examples must be equal-length finite vectors, got shape {rows.shape}")
    return rows


def robust_centre(rows: np.ndarray, trim: float) -> np.ndarray:
    """The unit mean of the `trim` share of `rows` nearest their coordinate-wise median."""
    median = np.median(rows, axis=0)
    keep = max(1, math.ceil(trim * len(rows)))
    nearest = np.argsort(((rows - median) ** 2).sum(axis=1), kind="stable")[:keep]
    centre = rows[nearest].mean(axis=0)
    norm = float(np.linalg.norm(centre))
    return centre / norm if norm > 0 else centre


def _nearest(x: np.ndarray, centres: np.ndarray) -> tuple[int, float]:
    distances = np.sqrt(np.maximum(((centres - x) ** 2).sum(axis=1), 0.0))
    order = np.argsort(distances, kind="stable")
    d1, d2 = float(distances[order[0]]), float(distances[order[1]])
    return int(order[0]), (d2 - d1) / (d2 + d1) if d2 + d1 > 0 else 0.0


def _clean(examples: dict[str, np.ndarray], settings: SplitterSettings) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    skus = sorted(examples)
    if len(skus) < 2 or sum(len(rows) for rows in examples.values()) <= CLEAN_K:
        return examples, {}
    rows = np.concatenate([examples[s] for s in skus])
    labels = np.concatenate([np.full(len(examples[s]), i) for i, s in enumerate(skus)])
    gram = rows @ rows.T
    np.fill_diagonal(gram, -np.inf)  # unit vectors: largest dot product = nearest
    neighbours = np.argsort(-gram, axis=1, kind="stable")[:, :CLEAN_K]
    their = labels[neighbours]
    votes = np.stack([(their == i).sum(axis=1) for i in range(len(skus))], axis=1)
    votes[np.arange(len(labels)), labels] = 0  # only other SKUs count
    outlier = votes.max(axis=1) >= CLEAN_AGREE
    kept = {s: examples[s][~outlier[labels == i]] for i, s in enumerate(skus)}
    for s in skus:  # never clean a SKU below half its examples: then its labels are not the problem
        if len(kept[s]) < len(examples[s]) / 2:
            kept[s] = examples[s]
    return kept, {s: len(examples[s]) - len(kept[s]) for s in skus if len(kept[s]) < len(examples[s])}


def _leave_one_out(kept: dict[str, np.ndarray], skus: tuple[str, ...], trim: float) -> tuple[np.ndarray, np.ndarray]:
    """Per example: classified right by the centres without it, and its vote's relative margin."""
    centres = np.stack([robust_centre(kept[s], trim) for s in skus])
    correct: list[bool] = []
    margins: list[float] = []
    for i, sku in enumerate(skus):
        rows = kept[sku]
        for j in range(len(rows)):
            own = robust_centre(np.delete(rows, j, axis=0), trim)
            trial = centres.copy()
            trial[i] = own
            best, margin = _nearest(rows[j], trial)
            correct.append(best == i)
            margins.append(margin)
    return np.array(correct), np.array(margins)


def _needed_more(kept: dict[str, np.ndarray], skus: tuple[str, ...], settings: SplitterSettings, right: int,
                 trials: int) -> int | None:
    """More examples per SKU likely needed. When the raw LOO accuracy already reaches the threshold, the
    trials the smoothing still needs (assuming no new error); else the LOO error extrapolated from half the
    examples to all (error ~ n^-b); None when it does not fall (more of the same examples will not help:
    check the crops or re-slot the plate)."""
    t = settings.min_accuracy
    if t < 1 and right >= t * trials:
        extra = (t * (trials + 2) - right - 1) / (1 - t)
        return max(1, math.ceil(extra / len(skus)))
    n = min(len(kept[s]) for s in skus)
    half = max(settings.min_examples // 2, n // 2)
    if half < 3 or half >= n:
        return None
    err_n = 1.0 - float(_leave_one_out({s: kept[s][-n:] for s in skus}, skus, settings.trim)[0].mean())
    err_h = 1.0 - float(_leave_one_out({s: kept[s][-half:] for s in skus}, skus, settings.trim)[0].mean())
    target = 1.0 - settings.min_accuracy
    if err_n <= 0 or err_h <= err_n or target <= 0:
        return None
    slope = math.log(err_h / err_n) / math.log(n / half)
    total = n * (err_n / target) ** (1.0 / slope)
    return math.ceil(max(total - n, 1))


def _rivalry(unit_weights: Mapping[str, tuple[float, float]] | None, a: str, b: str) -> float:
    """How far apart, in sigmas, the nearest counts of two SKUs weigh (0 when a weight is not known)."""
    if unit_weights is None or a not in unit_weights or b not in unit_weights:
        return 0.0
    (wa, sa), (wb, sb) = unit_weights[a], unit_weights[b]
    n = np.arange(1, RIVAL_MAX_COUNT + 1, dtype=float)
    gap = np.abs(n[:, None] * wa - n[None, :] * wb)
    sd = np.sqrt(n[:, None] * sa ** 2 + n[None, :] * sb ** 2 + RIVAL_NOISE_G ** 2)
    return float((gap / sd).min())


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
