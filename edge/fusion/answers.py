"""Reviewers' answers set fusion's shelf state right (docs/fusion.md, "Reviewer answers").

Fusion updates its live state (stock, visitors, recent picks) from its own answer to every item event,
flagged or not. When a reviewer later says what really happened in a flagged event, the event's effect on
the state is undone and the true lines are applied instead:

    memory = AnswerMemory()                           # the stage's (FusionStage.answers)
    before = memory.before(state, plates)             # in _emit, before the state is updated
    item = memory.note(item, before, state)           # ... after; the item is returned unchanged
    memory.remember(item, event_id)                   # the node: the event is in the outbox, flagged
    result = memory.apply(state, event_id, "put", [("JUICE-OTHER", 1, None)], now)

What an event did is recorded as the difference of its plates' entries (stock, visitor group, presence)
before and after the update, and undone as a difference, so changes made by later events stay. An answer's
own effect is recorded the same way, so a second answer for the same event replaces the first. Only the
last MAX_REMEMBERED flagged events are remembered; an older or unknown event id, or one from before the
last planogram, gives a result that says so and changes nothing.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from edge.fusion.shelf_state import ShelfState
from edge.model import ItemEvent

MAX_REMEMBERED = 200  # flagged events whose effect an answer can still undo
MAX_UNNAMED = 32  # item events emitted but not yet named by the node (it names them right after submit)
TrueLine = tuple[str, int, str | None]  # (sku, count, plate or None: the event's own plate for it)


@dataclass(frozen=True, slots=True)
class Entry:
    """One SKU's entry on one plate: on it at all, its units (None: not known), its visitor group."""

    present: bool
    units: int | None = None
    group: int | None = None  # the visitor group's SKU index; None for a SKU the planogram puts there


@dataclass(frozen=True, slots=True)
class Change:
    plate: str
    k: int
    before: Entry
    after: Entry


@dataclass(frozen=True, slots=True)
class Effect:
    """What one item event (or the answer that replaced it) did to the shelf state."""

    state: ShelfState  # the state it was done to: a new planogram makes a new one
    action: str
    plates: tuple[str, ...]  # the event's plates, the largest change first
    changes: tuple[Change, ...]
    picks: tuple[tuple[int, int], ...]  # (sku index, units) added to the recent picks


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """`result.fusion` of cmd/review_answer."""

    applied: bool
    message: str
    stock: dict[str, dict[str, int]]  # the event's plates after the answer
    visitors: dict[str, list[str]]  # SKUs on the event's plates by a put-back, after the answer
    left: tuple[str, ...] = ()  # SKUs a later pick had already taken off the plate (nothing to undo there)

    def to_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "message": self.message, "stock": self.stock, "visitors": self.visitors,
                "left": list(self.left)}


Snapshot = dict[tuple[str, int], Entry]


class AnswerMemory:
    def __init__(self, max_remembered: int = MAX_REMEMBERED) -> None:
        self.max_remembered = max_remembered
        self._unnamed: deque[tuple[ItemEvent, ShelfState, Snapshot, Snapshot]] = deque(maxlen=MAX_UNNAMED)
        self._named: OrderedDict[str, Effect] = OrderedDict()
        self.counts = dict.fromkeys(("applied", "unknown", "stale"), 0)

    # -- recording (the stage, under its lock) -------------------------------------------------------
    @staticmethod
    def before(state: ShelfState, plates: Sequence[str]) -> Snapshot:
        return _snapshot(state, plates)

    def note(self, item: ItemEvent, before: Snapshot, state: ShelfState) -> ItemEvent:
        """After the update: keep the two snapshots (the difference is taken only for a flagged event)."""
        self._unnamed.append((item, state, before, _snapshot(state, [c.plate for c in item.changes])))
        return item

    def remember(self, item: ItemEvent, event_id: str) -> bool:
        """The node published `item` under `event_id` and it went to review: keep its effect for an answer."""
        for i, (noted, state, before, after) in enumerate(self._unnamed):
            if noted is item:
                del self._unnamed[i]
                plates = tuple(c.plate for c in sorted(item.changes, key=lambda c: -abs(c.delta_g)))
                picks = tuple((state.index[line.sku], line.count) for line in item.lines
                              if item.action == "pick" and line.sku in state.index)
                self._named[event_id] = Effect(state, item.action, plates, _diff(before, after), picks)
                self._named.move_to_end(event_id)
                while len(self._named) > self.max_remembered:
                    self._named.popitem(last=False)
                return True
        return False

    def __len__(self) -> int:
        return len(self._named)

    # -- answers -------------------------------------------------------------------------------------
    def apply(self, state: ShelfState, event_id: str, action: str | None, lines: Sequence[TrueLine],
              now: float) -> AnswerResult:
        """Undo what the event (or an earlier answer to it) did and apply the true lines. `action` None:
        the event's own; no lines: nothing moved."""
        effect = self._named.get(event_id)
        if effect is None:
            self.counts["unknown"] += 1
            return AnswerResult(False, f"unknown event id {event_id!r}: fusion keeps what the last "
                                       f"{self.max_remembered} flagged item events did to its shelf state, and this "
                                       f"is not one of them (not flagged, older, or from before a restart); the "
                                       f"shelf state is left as it is", {}, {})
        if effect.state is not state:
            self.counts["stale"] += 1
            del self._named[event_id]
            return AnswerResult(False, "the planogram changed since this event: fusion's shelf state is the new "
                                       "planogram's, so there is nothing of this event to correct", {}, {})
        unknown = [sku for sku, _, _ in lines if sku not in state.index]
        if unknown:
            return AnswerResult(False, f"SKU(s) {', '.join(unknown)} not in fusion's catalogue; the shelf state is "
                                       f"left as it is", _stock(state, effect.plates), _visitors(state, effect.plates))
        true_action = action or effect.action
        left = _undo(state, effect)
        placed = [(plate or _plate_for(state, effect, sku), state.index[sku], count) for sku, count, plate in lines]
        before = _snapshot(state, effect.plates)
        picks: list[tuple[int, int]] = []
        for plate, k, count in placed:
            if true_action == "pick":
                state.move_stock(plate, k, count, now, pick=True)
                picks.append((k, count))
            elif true_action in ("put", "restock"):
                if k not in state.contents.setdefault(plate, []):
                    if left:  # what this put-back brought, a later pick took: the true SKU went with it
                        continue
                    state.add_to_plate(plate, k, 0)  # a foreign SKU put back: a visitor, alone in its group
                state.move_stock(plate, k, count, now, pick=False)
        self._named[event_id] = Effect(state, true_action, effect.plates,
                                       _diff(before, _snapshot(state, effect.plates)), tuple(picks))
        self.counts["applied"] += 1
        return AnswerResult(True, "shelf state set to the reviewer's answer", _stock(state, effect.plates),
                            _visitors(state, effect.plates), left)


def _snapshot(state: ShelfState, plates: Sequence[str]) -> Snapshot:
    out: Snapshot = {}
    for plate in plates:
        visitors = state.visitors.get(plate, {})
        stock = state.stock.get(plate, {})
        for k in state.contents.get(plate, []):
            out[(plate, k)] = Entry(True, stock.get(k), visitors.get(k))
    return out


def _diff(before: Snapshot, after: Snapshot) -> tuple[Change, ...]:
    absent = Entry(False)
    keys = sorted(set(before) | set(after))
    return tuple(Change(plate, k, before.get((plate, k), absent), after.get((plate, k), absent))
                 for plate, k in keys if before.get((plate, k), absent) != after.get((plate, k), absent))


def _undo(state: ShelfState, effect: Effect) -> tuple[str, ...]:
    """Take an effect back as a difference; the SKUs it had brought that a later pick already took away."""
    left: list[str] = []
    for change in effect.changes:
        plate, k, before, after = change.plate, change.k, change.before, change.after
        now = _snapshot(state, [plate]).get((plate, k), Entry(False))
        if after.present and not before.present:  # it came with this event
            if not now.present or now.group != after.group:
                left.append(state.skus[k])
                continue
            rest = None if now.units is None or after.units is None else now.units - after.units
            if rest is None or rest <= 0:
                _remove(state, plate, k)
            else:
                state.stock[plate][k] = rest
        elif before.present and not after.present:  # it left with this event (a pick of its last unit)
            if not now.present:
                _add(state, plate, k, before)
        elif now.present and None not in (before.units, after.units, now.units):
            state.stock[plate][k] = max(now.units - (after.units - before.units), 0)  # type: ignore[operator]
            if state.is_visitor(plate, k) and state.stock[plate][k] == 0:
                _remove(state, plate, k)
    for k, units in effect.picks:
        state.forget_picks(k, units)
    return tuple(left)


def _plate_for(state: ShelfState, effect: Effect, sku: str) -> str:
    """A true line without a plate: where the event had that SKU, else its largest change."""
    k = state.index[sku]
    return next((c.plate for c in effect.changes if c.k == k), effect.plates[0])


def _remove(state: ShelfState, plate: str, k: int) -> None:
    if k in state.contents.get(plate, []):
        state.contents[plate].remove(k)
    state.stock.get(plate, {}).pop(k, None)
    state.visitors.get(plate, {}).pop(k, None)


def _add(state: ShelfState, plate: str, k: int, entry: Entry) -> None:
    state.contents.setdefault(plate, []).append(k)
    state.stock.setdefault(plate, {})[k] = entry.units
    if entry.group is not None:
        state.visitors.setdefault(plate, {})[k] = entry.group


def _stock(state: ShelfState, plates: Sequence[str]) -> dict[str, dict[str, int]]:
    report = state.stock_report()
    return {plate: report.get(plate, {}) for plate in plates}


def _visitors(state: ShelfState, plates: Sequence[str]) -> dict[str, list[str]]:
    return {plate: sorted(state.skus[k] for k in state.visitors.get(plate, {})) for plate in plates}


class ReviewAnswers:
    """FusionStage's side of reviewers' answers (a mixin: it uses the stage's lock and shelf state)."""

    answers: AnswerMemory
    _lock: AbstractContextManager[Any]
    _state: ShelfState

    def remember_flagged(self, item: ItemEvent, event_id: str) -> bool:
        """The node published flagged `item` as `event_id`: an answer may name it (False: not fusion's item)."""
        with self._lock:
            return self.answers.remember(item, event_id)

    def apply_review_answer(self, event_id: str, lines: Sequence[TrueLine], now: float,
                            action: str | None = None) -> AnswerResult:
        """A reviewer's answer about flagged item event `event_id`: the shelf state as if fusion had said
        `lines` (`[(sku, count, plate or None)]`; empty: nothing moved) with `action` (None: the event's)."""
        with self._lock:
            return self.answers.apply(self._state, event_id, action, lines, now)
