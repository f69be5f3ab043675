"""The typed result of bench/fusion_learned.py and its markdown (the cold node against the learned node)."""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS: tuple[str | None, ...] = ("weight_twin", "same_label_twin", "count_twin", "misplaced", "camera_down", None)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What bench.item_scoring.reliability needs of an item event."""

    confidence: float
    review_required: bool


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    tag: str  # a truth tag (edge.sim.tags), or "none of these" (no hard tag)
    events: int
    flagged: int
    unflagged: int
    unflagged_wrong: int

    @property
    def review_rate(self) -> float:
        return self.flagged / self.events if self.events else 0.0

    @property
    def precision_unflagged(self) -> float:
        return 1 - self.unflagged_wrong / self.unflagged if self.unflagged else 1.0


@dataclass(frozen=True, slots=True)
class ModelFigures:
    """One model at one mix and rate, pooled over the seeds."""

    model: str
    f1: float
    precision: float
    recall: float
    events: int
    flagged: int
    review_rate: float
    plain_events: int  # events without a same-label alternative (p >= 0.01)
    plain_flagged: int
    review_rate_plain: float
    unflagged: int
    unflagged_wrong: int
    precision_unflagged: float
    error_upper95: float  # Wilson 95 % upper bound on the error rate of unflagged events
    ece: float
    twin_flagged: int  # events flagged with the reason `twin`
    same_label_truth_flagged: int
    same_label_truth_events: int
    scenarios: tuple[ScenarioRow, ...]
    reasons: tuple[tuple[str, int], ...]
    votes: int  # item events carrying vision.appearance
    votes_untrusted_plate: int  # ... on a plate whose own leave-one-out check had not passed (cross-plate votes)
    votes_unchecked: int  # ... whose governing check (the plate's, or every pair's across plates) had not passed
    votes_cross_plate: int  # ... between candidates not all of the plate (a put-back from elsewhere)
    same_label_on_trusted: int  # same-label-twin truth events on plates whose splitter was trusted
    same_label_voted: int  # same-label-twin truth events whose item event carries a vote
    same_label_split: int  # ... accepted (not flagged) with a vote
    same_label_accepted: int  # same-label-twin truth events accepted, vote or not
    same_label_split_wrong: int  # accepted and wrong
    time_p95_ms: float  # fusion wall time per event, bench.fusion_run's timing pass (median of its passes)
    cpu_p95_ms: float
    first_p95_ms: float  # the scoring pass (one pass; a fresh splitter builds its cross-plate pairs on first use)
    first_max_ms: float

    def scenario(self, tag: str) -> ScenarioRow:
        return next(row for row in self.scenarios if row.tag == tag)


@dataclass(frozen=True, slots=True)
class Block:
    mix: str
    sps: float
    interactions: int
    weight_events: int
    models: tuple[ModelFigures, ...]  # fused first, then fused_learned_N
    appearance: tuple[tuple[str, int], ...]  # what the events' plates got: described, not_seen, no_look, ...

    def model(self, name: str) -> ModelFigures:
        return next(m for m in self.models if m.model == name)


@dataclass(frozen=True)
class FusionLearnedResult:
    seeds: tuple[int, ...]
    seed_set: str
    rates: tuple[float, ...]
    interactions: int
    mixes: tuple[str, ...]
    examples: tuple[int, ...]  # N self-labelled examples per SKU of each learned model
    backbone: bool
    descriptor: str  # kind and length
    blocks: tuple[Block, ...]
    planograms: tuple[tuple[int, str, tuple[tuple[str, tuple[str, ...]], ...]], ...]  # seed, mix, plates
    trusted: tuple[tuple[int, str, str, tuple[str, ...]], ...]  # seed, mix, model, trusted plates
    families: tuple[str, ...]  # photo families described
    teach_pool: int
    held_out_pool: int
    pool_build_s: float  # describing the pools in this run (0 when the process had them already)
    embed_ms: float  # median per crop
    splitter_build_ms: float  # median per run and N
    load: tuple[float, float, float]
    load_end: tuple[float, float, float]
    wall_s: float
    commit: str

    def block(self, mix: str, sps: float) -> Block:
        return next(b for b in self.blocks if b.mix == mix and b.sps == sps)


def _f(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render_markdown(r: FusionLearnedResult) -> str:
    load = " / ".join(f"{v:.2f}" for v in r.load)
    lines = [
        f"Seeds {', '.join(map(str, r.seeds))} ({r.seed_set}), {r.interactions} interactions per seed and rate, "
        f"mixes {', '.join(r.mixes)}; learned nodes with {', '.join(map(str, r.examples))} self-labelled examples "
        f"per SKU; at {r.commit}, {r.wall_s:.0f} s, load average {load} at the start, {r.load_end[0]:.2f} at the end.",
        "",
        f"Appearance: {r.descriptor} descriptors ({'colour + backbone' if r.backbone else 'colour only'}) of one "
        "jittered crop each, "
        f"{r.teach_pool} teach and {r.held_out_pool} held-out per photo family ({len(r.families)} families), "
        f"{r.embed_ms:.1f} ms per crop, pools described in {r.pool_build_s:.0f} s; an appearance splitter built in "
        f"{r.splitter_build_ms:.0f} ms (median per run and N).", ""]
    for block in r.blocks:
        lines += _block(block)
    lines += ["", "Trusted plates (the splitter's own leave-one-out check passed), per seed and N:", ""]
    for seed, mix, model, plates in r.trusted:
        lines.append(f"- {mix} seed {seed}, {model}: {', '.join(plates) or 'none'}")
    lines += ["", "Planograms: " + "; ".join(
        f"{mix} {seed}: " + ", ".join(f"{p} {'+'.join(skus)}" for p, skus in plates)
        for seed, mix, plates in r.planograms)]
    return "\n".join(lines) + "\n"


def _block(b: Block) -> list[str]:
    lines = [f"### {b.mix} mix, {b.sps:g} SPS: {b.interactions} interactions, {b.weight_events} weight events", "",
             "| model | unit F1 | events | review rate | review rate without a same-label alternative | precision "
             "unflagged | wrong unflagged | error 95 % upper | ECE | flagged `twin` | votes | votes without a passed "
             "check | votes on untrusted plates (cross-plate) | fusion p95 ms wall / CPU | first pass p95 / max ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for m in b.models:
        lines.append(
            f"| {m.model} | {_f(m.f1)} | {m.events} | {_f(m.review_rate)} | {_f(m.review_rate_plain)} "
            f"({m.plain_flagged} of {m.plain_events}) | {_f(m.precision_unflagged)} | {m.unflagged_wrong} | "
            f"{_f(m.error_upper95)} | {_f(m.ece)} | {m.twin_flagged} | {m.votes} | {m.votes_unchecked} | "
            f"{m.votes_untrusted_plate} ({m.votes_cross_plate}) | {m.time_p95_ms:.2f} / {m.cpu_p95_ms:.2f} | "
            f"{m.first_p95_ms:.2f} / {m.first_max_ms:.0f} |")
    names = [m.model for m in b.models]
    lines += ["", "Review rate per scenario (events whose truth carries the tag; wrong unflagged in brackets):", "",
              "| scenario | events | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for i, row in enumerate(b.models[0].scenarios):
        cells = [f"{_f(m.scenarios[i].review_rate, 3)} ({m.scenarios[i].unflagged_wrong})" for m in b.models]
        lines.append(f"| {row.tag} | {row.events} | " + " | ".join(cells) + " |")
    lines += [""]
    for m in b.models:
        lines.append(f"- review reasons, {m.model}: " + (", ".join(f"{k} {v}" for k, v in m.reasons) or "none"))
    appearance = ", ".join(f"{k} {v}" for k, v in b.appearance)
    lines += ["", f"Appearance on the weight events' plates: {appearance} (described: a held-out descriptor of the "
              "handled SKU; not_seen: no hand box and no detection; no_look: the SKU has no photo family; "
              "nothing_handled: no interaction there in the window; camera_down: no evidence at all).", ""]
    lines += _targets(b)
    return lines


def _targets(b: Block) -> list[str]:
    names = [m.model for m in b.models]
    lines = ["Against the issue 12 targets (and issue 15's vote gate):", "",
             "| target | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label: str, cell: object) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(m) for m in b.models) + " |")  # type: ignore[operator]

    row("unit F1 >= 0.99", lambda m: f"{_f(m.f1)} {_met(m.f1 >= 0.99)}")
    row("precision unflagged >= 0.995", lambda m: f"{_f(m.precision_unflagged)} {_met(m.precision_unflagged >= 0.995)}")
    row("95 % upper error bound <= 0.005", lambda m: f"{_f(m.error_upper95)} {_met(m.error_upper95 <= 0.005)}")
    row("review rate <= 0.05", lambda m: f"{_f(m.review_rate)} {_met(m.review_rate <= 0.05)}")
    row("review rate without a same-label alternative <= 0.01",
        lambda m: f"{_f(m.review_rate_plain)} {_met(m.review_rate_plain <= 0.01)}")
    row("ECE <= 0.02", lambda m: f"{_f(m.ece)} {_met(m.ece <= 0.02)}")
    row("camera down: precision unflagged >= 0.995", lambda m: (
        f"{_f(m.scenario('camera_down').precision_unflagged)} ({m.scenario('camera_down').unflagged} unflagged) "
        f"{_met(m.scenario('camera_down').precision_unflagged >= 0.995)}"))
    row("same-label-twin events flagged unless split by appearance", lambda m: (
        f"{m.same_label_truth_flagged} flagged + {m.same_label_split} split of {m.same_label_truth_events} "
        f"{_met(m.same_label_truth_flagged + m.same_label_split == m.same_label_truth_events)}"))
    row("same-label twins accepted: with a vote, wrong", lambda m: (
        f"{m.same_label_accepted}: {m.same_label_split}, {m.same_label_split_wrong}"))
    row("no vote without a passed leave-one-out check", lambda m: f"{m.votes_unchecked} of {m.votes} "
        f"{_met(m.votes_unchecked == 0)}")
    row("fusion p95 <= 5 ms per event (wall)", lambda m: f"{m.time_p95_ms:.2f} {_met(m.time_p95_ms <= 5.0)}")
    return [*lines, ""]
