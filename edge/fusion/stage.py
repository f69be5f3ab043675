"""The fusion stage the node and replay drive: weight events (+ camera evidence) in, item events out.

Pure: no I/O and no clock of its own (`now` is passed in). One lock makes a planogram swap from another
thread wait for the event in progress. An event that fits badly alone is held up to
`neighbour_window_s` after it settled, in case a neighbouring plate's event completes the item.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edge.fusion.answers import AnswerMemory, ReviewAnswers
from edge.fusion.appearance_factor import AppearanceSettings, AppearanceVoter, apply_appearance
from edge.fusion.factors import seen_labels
from edge.fusion.review import WEIGHT_EVENT_FLAG_REASONS, Review, decide
from edge.fusion.scoring import Joint, Posterior, score_segment
from edge.fusion.settings import FusionSettings
from edge.fusion.shelf_state import ShelfState
from edge.model import (
    ItemAction,
    ItemAlternative,
    ItemEvent,
    ItemLine,
    PlateChange,
    PlateEvidence,
    PlateTrace,
    Quality,
    WeightEvent,
    WeightEventRef,
)
from edge.planogram import Planogram

MAX_ALTERNATIVES = 3
MAX_HELD = 16
RECENT_SPANS = 8  # per plate, the spans of the last weight events (for overlap)
NET_OF_TRANSIENT = "net_of_transient"  # edge.weighing.hold: a held put and a different pick, netted


@dataclass(frozen=True, slots=True)
class FusionStatus:
    planogram: dict[str, Any] | None
    weight_events: int
    item_events: int
    reviews: int
    held: int
    reasons: dict[str, int]
    stock: dict[str, dict[str, int]]
    learned_unit_sigma_g: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"planogram": self.planogram, "weight_events": self.weight_events, "item_events": self.item_events,
                "reviews": self.reviews, "held": self.held, "reasons": dict(self.reasons), "stock": self.stock,
                "learned_unit_sigma_g": self.learned_unit_sigma_g}


@dataclass(slots=True)
class _Segment:
    """Same-sign changes of one weight event (or several, once merged)."""

    changes: tuple[PlateChange, ...]
    t_start: float
    t_end: float
    refs: tuple[WeightEventRef, ...]
    quality: Quality
    flags: tuple[str, ...]
    evidence: Mapping[str, PlateEvidence] | None
    camera_ok: bool | None
    trace: tuple[PlateTrace, ...] | None
    reasons: tuple[str, ...]
    restock: bool
    sign: float = field(init=False)

    def __post_init__(self) -> None:
        self.sign = -1.0 if sum(c.delta_g for c in self.changes) < 0 else 1.0

    @property
    def plates(self) -> tuple[str, ...]:
        return tuple(c.plate for c in self.changes)


class FusionStage(ReviewAnswers):
    def __init__(self, plate_names: Sequence[str], planogram: Planogram | None,
                 settings: FusionSettings | None = None, maintenance: bool = False) -> None:
        self.plate_names = list(plate_names)
        self.settings = settings or FusionSettings()
        self.maintenance = maintenance
        self._order = {name: i for i, name in enumerate(self.plate_names)}
        self._planogram = planogram
        self._state = self._new_state(planogram, None)
        self._held: list[_Segment] = []
        # per plate, (t_start, t_end) of its last weight events, in the order they came (a held one comes late)
        self._spans: dict[str, deque[tuple[float, float]]] = {}
        self._counts = {"weight_events": 0, "item_events": 0, "reviews": 0}
        self._reasons: dict[str, int] = {}
        self.appearance: AppearanceVoter | None = None  # per-plate look-alike splitter (docs/fusion.md)
        self.appearance_settings = AppearanceSettings()
        self.answers = AnswerMemory()  # flagged events' effects on the state, for reviewers' answers
        # set_planogram comes from the MQTT inbound thread; an event must be scored and named with one state
        self._lock = threading.RLock()

    # -- control -------------------------------------------------------------------------------------
    def set_planogram(self, planogram: Planogram) -> None:
        """The MqttLink's on_planogram callback (inbound worker thread); waits for an event in progress."""
        with self._lock:
            self._state = self._new_state(planogram, self._state)
            self._planogram = planogram

    def set_maintenance(self, on: bool) -> None:
        self.maintenance = on

    @property
    def has_planogram(self) -> bool:
        return self._planogram is not None

    # -- events --------------------------------------------------------------------------------------
    def on_weight_event(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence] | None,
                        camera_ok: bool | None, now: float, ref: WeightEventRef | None = None,
                        trace: Sequence[PlateTrace] | None = None) -> list[ItemEvent]:
        """`trace`: the plates' trace excerpts, by default the event's own (`event.traces`).

        Item events ready now: this event's, unless it is held for a neighbour, and any held one it
        completes or that waited long enough."""
        with self._lock:
            return self._on_weight_event(event, evidence, camera_ok, now, ref, trace)

    def _on_weight_event(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence] | None,
                         camera_ok: bool | None, now: float, ref: WeightEventRef | None,
                         trace: Sequence[PlateTrace] | None) -> list[ItemEvent]:
        self._counts["weight_events"] += 1
        out = self.poll(now)
        for segment in self._segments(event, evidence, camera_ok, ref, trace):
            partner = self._held_partner(segment)
            if partner is not None:
                self._held.remove(partner)
                out.extend(self._merge_or_split(partner, segment, now))
                continue
            posterior = self._score(segment, now)
            if self._should_hold(segment, posterior):
                self._held.append(segment)
                if len(self._held) > MAX_HELD:
                    oldest = self._held.pop(0)
                    out.append(self._emit([oldest], self._score(oldest, now), now))
            else:
                out.append(self._emit([segment], posterior, now))
        for plate in event.plate_deltas:
            self._spans.setdefault(plate, deque(maxlen=RECENT_SPANS)).append((event.t_start, event.t_end))
        return out

    def poll(self, now: float) -> list[ItemEvent]:
        """Release held events whose neighbour window has passed."""
        with self._lock:
            due = [s for s in self._held if now >= s.t_end + self.settings.neighbour_window_s]
            for segment in due:
                self._held.remove(segment)
            return [self._emit([s], self._score(s, now), now) for s in due]

    def flush(self) -> list[ItemEvent]:
        """Release everything held (end of a replay or benchmark)."""
        with self._lock:
            held, self._held = self._held, []
            return [self._emit([s], self._score(s, s.t_end), s.t_end) for s in held]

    def status(self) -> FusionStatus:
        with self._lock:
            return self._status()

    def _status(self) -> FusionStatus:
        planogram = self._planogram
        state = self._state
        return FusionStatus(
            planogram=None if planogram is None else {"id": planogram.id, "version": planogram.version},
            weight_events=self._counts["weight_events"], item_events=self._counts["item_events"],
            reviews=self._counts["reviews"], held=len(self._held), reasons=dict(self._reasons),
            stock=state.stock_report(), learned_unit_sigma_g=state.learned_sigmas())

    # -- internals -----------------------------------------------------------------------------------
    def _new_state(self, planogram: Planogram | None, previous: ShelfState | None) -> ShelfState:
        return ShelfState.from_planogram(planogram, self.plate_names, self.settings.min_unit_sigma_g,
                                         self.settings.learn_min_events, previous)

    def _segments(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence] | None, camera_ok: bool | None,
                  ref: WeightEventRef | None, trace: Sequence[PlateTrace] | None) -> list[_Segment]:
        deltas = {p: d for p, d in event.plate_deltas.items() if d != 0}
        if not deltas:
            deltas = dict(event.plate_deltas) or {"?": event.delta_g}
        sigma = event.sigma_g / math.sqrt(len(deltas))
        reasons = self._event_reasons(event)
        traces = event.traces if trace is None else tuple(trace)
        out = []
        for negative in (True, False):
            changes = tuple(PlateChange(p, d, sigma) for p, d in sorted(deltas.items(), key=self._plate_key)
                            if (d < 0) == negative)
            if changes:
                out.append(_Segment(changes, event.t_start, event.t_end, (ref or WeightEventRef(),), event.quality,
                                    event.flags, evidence, camera_ok,
                                    tuple(t for t in traces if t.plate in {c.plate for c in changes}) or None,
                                    reasons, self.maintenance and not negative))
        return out

    def _event_reasons(self, event: WeightEvent) -> tuple[str, ...]:
        reasons = []
        if event.quality == "faulty_channel" or any(f.startswith("faulty_channel") for f in event.flags):
            reasons.append("faulty_channel")
        if event.quality == "noisy" or "noisy" in event.flags:
            reasons.append("noisy")
        if event.quality == "forced" or "forced" in event.flags or NET_OF_TRANSIENT in event.flags:
            reasons.append("overlap")  # never settled, or the net of two changes: more than one action
        if any(_gap(span, event) < self.settings.overlap_window_s
               for p in event.plate_deltas for span in self._spans.get(p, ())):
            reasons.append("overlap")
        for flag in event.flags:
            name = flag.split(":", 1)[0]
            if name in WEIGHT_EVENT_FLAG_REASONS:
                reasons.append(name)
        return tuple(dict.fromkeys(reasons))

    def _plate_key(self, item: tuple[str, float]) -> tuple[int, str]:
        return (self._order.get(item[0], len(self._order)), item[0])

    def _contiguous(self, plates: Sequence[str]) -> bool:
        if any(p not in self._order for p in plates):
            return False
        positions = sorted(self._order[p] for p in plates)
        return positions[-1] - positions[0] == len(positions) - 1

    def _score(self, segment: _Segment, now: float) -> Posterior:
        posterior = score_segment(self._state, segment.changes, segment.evidence, bool(segment.camera_ok),
                                  self.settings, now, segment.restock, self._contiguous(segment.plates))
        if self.appearance is None or not segment.camera_ok:
            return posterior
        return apply_appearance(posterior, self._state, segment.evidence, self.appearance, self.settings,
                                self.appearance_settings)

    def _should_hold(self, segment: _Segment, posterior: Posterior) -> bool:
        top = posterior.joints[0]
        fits = not top.unknown and max(p.z for p in top.parts) <= self.settings.hold_sigmas
        if fits or not self._state.skus:  # no planogram yet: nothing a neighbour could complete
            return False
        return any(self._contiguous((*segment.plates, other))
                   for other in self.plate_names if other not in segment.plates)

    def _held_partner(self, segment: _Segment) -> _Segment | None:
        for held in self._held:
            if (held.sign == segment.sign and not set(held.plates) & set(segment.plates)
                    and abs(held.t_end - segment.t_end) <= self.settings.neighbour_window_s
                    and self._contiguous((*held.plates, *segment.plates))):
                return held
        return None

    def _merge_or_split(self, first: _Segment, second: _Segment, now: float) -> list[ItemEvent]:
        merged = _Segment(
            tuple(sorted((*first.changes, *second.changes), key=lambda c: self._plate_key((c.plate, 0.0)))),
            min(first.t_start, second.t_start), max(first.t_end, second.t_end), (*first.refs, *second.refs),
            first.quality if first.quality != "settled" else second.quality,
            tuple(dict.fromkeys((*first.flags, *second.flags))),
            _merge_evidence(first.evidence, second.evidence),
            _merge_camera(first.camera_ok, second.camera_ok),
            (*(first.trace or ()), *(second.trace or ())) or None,
            tuple(dict.fromkeys((*first.reasons, *second.reasons))),
            first.restock or second.restock)
        posterior = self._score(merged, now)
        if posterior.joints[0].across:
            return [self._emit([first, second], posterior, now, merged)]
        return [self._emit([s], self._score(s, now), now) for s in (first, second)]

    def _emit(self, sources: list[_Segment], posterior: Posterior, now: float,
              merged: _Segment | None = None) -> ItemEvent:
        segment = merged or sources[0]
        state = self._state
        vocabulary = state.vocabulary
        camera_usable = bool(segment.camera_ok)
        seen = seen_labels(segment.evidence, segment.plates, vocabulary, self.settings.vision_min_score,
                           self.settings.vision_flicker_share) if camera_usable else {}
        review = decide(posterior, state, seen, camera_usable, segment.reasons, self.settings,
                        put=segment.sign > 0 and not segment.restock)
        top = posterior.joints[0]
        action = self._action(segment, top)
        lines = self._lines(top, segment)
        before = self.answers.before(state, segment.plates)
        self._update_state(segment, posterior, action, review, now)
        self._counts["item_events"] += 1
        if review.required:
            self._counts["reviews"] += 1
            for reason in review.reasons:
                self._reasons[reason] = self._reasons.get(reason, 0) + 1
        return self.answers.note(ItemEvent(
            t_start=segment.t_start, t_end=segment.t_end, action=action, lines=lines,
            confidence=round(review.confidence, 6), misplaced=top.misplaced and not top.unknown,
            review_required=review.required, review_reasons=review.reasons,
            alternatives=self._alternatives(posterior, review, segment),
            weight_events=segment.refs, changes=segment.changes,
            residual_g=round(sum(p.residual_g for p in top.parts if not p.candidate.unknown), 3),
            quality=segment.quality, flags=segment.flags,
            vision=_vision_summary(segment, seen, posterior), snapshot=_snapshot(segment),
            trace=segment.trace,
            stock={p: s for p, s in state.stock_report().items() if p in segment.plates}), before, state)

    def _action(self, segment: _Segment, joint: Joint) -> ItemAction:
        if joint.unknown:
            return "unknown"
        if segment.sign < 0:
            return "pick"
        return "restock" if segment.restock else "put"

    def _lines(self, joint: Joint, segment: _Segment) -> tuple[ItemLine, ...]:
        lines: list[ItemLine] = []
        for part in joint.parts:
            plate = _dominant_plate(part.plates, segment.changes)
            spread = part.plates if len(part.plates) > 1 else ()
            lines.extend(ItemLine(self._state.skus[k], n, plate, spread) for k, n in part.candidate.lines)
        return tuple(sorted(lines, key=lambda line: (line.plate, line.sku)))

    def _alternatives(self, posterior: Posterior, review: Review, segment: _Segment) -> tuple[ItemAlternative, ...]:
        raw_top = float(posterior.probabilities[0])
        scale = (1 - review.confidence) / (1 - raw_top) if raw_top < 1 else 0.0
        out = []
        for joint, p in zip(posterior.joints[1:MAX_ALTERNATIVES + 1], posterior.probabilities[1:], strict=False):
            probability = min(float(p) * scale, review.confidence)  # calibration must not reorder the answers
            out.append(ItemAlternative(self._action(segment, joint), self._lines(joint, segment),
                                       round(probability, 6), joint.misplaced))
        return tuple(out)

    def _update_state(self, segment: _Segment, posterior: Posterior, action: ItemAction, review: Review,
                      now: float) -> None:
        top = posterior.joints[0]
        if top.unknown:
            return
        state = self._state
        for part in top.parts:
            plate = _dominant_plate(part.plates, segment.changes)
            for k, n in part.candidate.lines:
                if part.candidate.misplaced and action != "pick":  # it is there now, even if a human confirms it
                    state.add_to_plate(plate, k, 0)
                    if review.required:
                        self._add_look_alikes(posterior, plate, k)
                state.move_stock(plate, k, n, now, pick=action == "pick")
        if review.confidence >= self.settings.learn_confidence and not review.required and len(top.parts) == 1:
            part = top.parts[0]
            if len(part.candidate.lines) == 1 and len(part.plates) == 1:
                k, n = part.candidate.lines[0]
                event_var = sum(c.sigma_g ** 2 for c in segment.changes) + self.settings.model_floor_g ** 2
                state.learn(k, part.residual_g, event_var, n)

    def _add_look_alikes(self, posterior: Posterior, plate: str, k: int) -> None:
        """An uncertain misplaced put-back may have been any of its plausible foreign rivals: they join the
        plate as one group with unknown units, so a later pick of that weight is a twin, not a sure answer."""
        for joint, p in zip(posterior.joints[1:], posterior.probabilities[1:], strict=True):
            if p < self.settings.same_label_floor:
                break
            if joint.unknown or not joint.misplaced or len(joint.parts) != 1:
                continue
            for other, _ in joint.parts[0].candidate.lines:
                if other != k:
                    self._state.add_to_plate(plate, other, None, group=k)


def _gap(span: tuple[float, float], event: WeightEvent) -> float:
    """Seconds between an earlier weight event's span and this event's, either way round (negative when
    they overlap). The weigher emits a held put (docs/weighing.md, heavy presses) up to 7 s late, after
    events that began when it had ended: those are not "before" it, and only closeness counts."""
    start, end = span
    return max(event.t_start - end, start - event.t_end)


def _dominant_plate(plates: tuple[str, ...], changes: tuple[PlateChange, ...]) -> str:
    if len(plates) == 1:
        return plates[0]
    return max((c for c in changes if c.plate in plates), key=lambda c: (abs(c.delta_g), c.plate)).plate


def _merge_evidence(a: Mapping[str, PlateEvidence] | None,
                    b: Mapping[str, PlateEvidence] | None) -> Mapping[str, PlateEvidence] | None:
    if not a:
        return b
    if not b:
        return a
    return {**a, **{k: v for k, v in b.items() if k not in a}}


def _merge_camera(a: bool | None, b: bool | None) -> bool | None:
    if a is None or b is None:
        return a if b is None else b
    return a and b


def _vision_summary(segment: _Segment, seen: Mapping[str, float], posterior: Posterior) -> dict[str, object]:
    camera = "absent" if segment.camera_ok is None else ("ok" if segment.camera_ok else "down")
    evidence = [segment.evidence[p] for p in segment.plates if segment.evidence and p in segment.evidence]
    return {"camera": camera, "used": bool(seen) and posterior.vision_used,
            "labels": {label: round(best, 3) for label, best in sorted(seen.items())},
            "hand_present": any(e.hand_present for e in evidence), "frames": sum(e.frames for e in evidence),
            **({"appearance": posterior.appearance} if posterior.appearance else {})}


def _snapshot(segment: _Segment) -> str | None:
    if not segment.evidence:
        return None
    ranked = sorted(segment.changes, key=lambda c: -abs(c.delta_g))
    for change in ranked:
        evidence = segment.evidence.get(change.plate)
        if evidence is not None and evidence.snapshot:
            return evidence.snapshot
    return None
