"""Reviewers' answers reach fusion: its shelf state, and the confidence the node publishes (docs/fusion.md,
"Reviewer answers").

    feedback = AnswerFeedback(state_dir, items.stage)
    items.feedback = feedback             # ItemStep: published(item) before submit, submitted(...) after
    gallery.on_answer = feedback.on_answer  # cmd/review_answer, once the gallery's ledger took the answer
    feedback.status()                     # stats.parts.reliability

- Processing thread: each item event's confidence goes through the record's correction (lowered where the
  reviewed outcomes show fusion over-confident, never raised); an event that falls below the auto-accept
  threshold that way goes to review (`low_confidence`). Flagged events are named to fusion by their outbox
  event_id, so an answer can set the shelf state right.
- Answer (MQTT inbound or control socket thread): fusion's state follows the true lines
  (`FusionStage.apply_review_answer`), and the outcome (fusion's own confidence, agreed or not) joins the
  record, saved atomically to `<state_dir>/review_outcomes.json`. A file that does not parse is moved aside
  (`.corrupt-<UTC time>`) with an error in the log, and a fresh record starts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.atomic_file import replace_atomically
from edge.fusion import FusionStage
from edge.fusion.reliability import BinRow, Outcome, OutcomeRecord, ReliabilitySettings
from edge.fusion.review import HARD_REASONS
from edge.gallery.records import ItemRecord, ReviewAnswer
from edge.model import ItemEvent

log = logging.getLogger(__name__)

STATE_FILE = "review_outcomes.json"
MAX_LOWERED = 20_000  # events published lower than fusion said: their fusion confidence, for the record's bins
COUNTERS = ("lowered", "sent_to_review", "answers", "fusion_applied", "fusion_not_applied", "save_errors")


@dataclass(frozen=True, slots=True)
class ReliabilityStatus:
    """`stats.parts.reliability` and `shelf-node review stats`."""

    path: str
    outcomes: int  # answers in the record (the newest max_outcomes, one per event)
    bins: tuple[BinRow, ...]
    lowered_bins: tuple[str, ...]  # bins whose published confidence is lowered now
    counters: dict[str, int]
    remembered_flagged: int = 0  # flagged events fusion can still correct its state for

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "outcomes": self.outcomes, "bins": [row.to_json() for row in self.bins],
                "lowered_bins": list(self.lowered_bins), "counters": dict(self.counters),
                "remembered_flagged": self.remembered_flagged}


class AnswerFeedback:
    def __init__(self, state_dir: Path, stage: FusionStage, settings: ReliabilitySettings | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = state_dir / STATE_FILE
        self.stage = stage
        self.clock = clock
        self.record = load_record(self.path, settings)
        self.counters = dict.fromkeys(COUNTERS, 0)
        self._lowered: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    # -- processing thread (ItemStep) ------------------------------------------------------------------
    def published(self, item: ItemEvent) -> ItemEvent:
        """`item` as the node publishes it: its confidence lowered where the record says so."""
        with self._lock:
            confidence = round(self.record.correct(item.confidence), 6)
        if confidence >= item.confidence:
            return item
        self.counters["lowered"] += 1
        settings = self.stage.settings
        camera = item.vision.get("camera") == "ok"
        threshold = settings.auto_accept if camera else max(settings.auto_accept, settings.auto_accept_without_camera)
        review = not item.review_required and confidence < threshold
        self.counters["sent_to_review"] += review
        alternatives = tuple(dataclasses.replace(alt, probability=min(alt.probability, confidence))
                             for alt in item.alternatives)
        return dataclasses.replace(item, confidence=confidence, alternatives=alternatives,
                                   review_required=item.review_required or review,
                                   review_reasons=("low_confidence",) if review else item.review_reasons)

    def submitted(self, item: ItemEvent, published: ItemEvent, info: Any) -> None:
        """`published` (fusion's `item`, corrected) is in the outbox; `info` its EnvelopeInfo (None: held)."""
        event_id = getattr(info, "event_id", None)
        if event_id is None:
            return
        if published.review_required:
            self.stage.remember_flagged(item, event_id)
        if published.confidence < item.confidence:
            with self._lock:
                self._lowered[event_id] = item.confidence
                while len(self._lowered) > MAX_LOWERED:
                    self._lowered.popitem(last=False)

    # -- answers (GalleryFeed.on_answer, after its ledger took the answer) ------------------------------
    def on_answer(self, record: ItemRecord, answer: ReviewAnswer, agreed: bool) -> dict[str, Any]:
        """Fusion's state follows the answer and the outcome is recorded: the parts of the command's result."""
        fusion = self.stage.apply_review_answer(record.event_id, answer.lines, record.t_end, answer.action)
        self.counters["answers"] += 1
        self.counters["fusion_applied" if fusion.applied else "fusion_not_applied"] += 1
        with self._lock:
            confidence = self._lowered.get(record.event_id, record.confidence)  # fusion's own, not the published
            self.record.add(Outcome(record.event_id, confidence, agreed, record.review_required,
                                    any(reason in HARD_REASONS for reason in record.reasons), self.clock()))
            text = json.dumps(self.record.to_json(), sort_keys=True)
            lowered = self.record.lowered_bins()
            outcomes = len(self.record)
        try:
            replace_atomically(self.path, text)
            saved = True
        except OSError as exc:  # a full disk: kept in memory, saved with the next answer
            self.counters["save_errors"] += 1
            saved = False
            log.warning("review outcomes not saved to %s: %s (kept in memory; saved with the next answer)",
                        self.path, exc.strerror or exc)
        return {"fusion": fusion.to_json(),
                "reliability": {"recorded": True, "saved": saved, "outcomes": outcomes, "lowered_bins": lowered}}

    def status(self) -> ReliabilityStatus:
        with self._lock:
            bins, lowered, outcomes = self.record.table(), self.record.lowered_bins(), len(self.record)
        return ReliabilityStatus(str(self.path), outcomes, bins, tuple(lowered), dict(self.counters),
                                 len(self.stage.answers))


def file_status(path: Path) -> ReliabilityStatus:
    """The record in `path` as the node's status shows it (no counters: those are the running node's)."""
    record = read_record(path)
    return ReliabilityStatus(str(path), len(record), record.table(), tuple(record.lowered_bins()), {})


def read_record(path: Path, settings: ReliabilitySettings | None = None) -> OutcomeRecord:
    """The persisted record, as it is (`shelf-node review stats`): a fresh one when there is no file;
    ValueError naming the problem when it does not parse; OSError when it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return OutcomeRecord(settings)
    except UnicodeDecodeError:
        raise ValueError("not text: random bytes, or a damaged disk") from None
    try:
        return OutcomeRecord.from_json(json.loads(text), settings)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def load_record(path: Path, settings: ReliabilitySettings | None = None) -> OutcomeRecord:
    """The record the node starts with; a fresh one when there is none, and when the file does not parse
    (moved aside as `<name>.corrupt-<UTC time>`, said in an error log line: nothing is lost silently)."""
    if not path.exists():
        log.info("no review outcomes yet (%s): a fresh record", path)
    try:
        return read_record(path, settings)
    except OSError as exc:
        log.error("review outcomes %s cannot be read (%s): a fresh record starts; the next answer's save "
                  "replaces the file", path, exc.strerror or exc)
        return OutcomeRecord(settings)
    except ValueError as exc:
        return _aside(path, str(exc), settings)


def _aside(path: Path, reason: str, settings: ReliabilitySettings | None) -> OutcomeRecord:
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    try:
        path.replace(aside)
        where = f"moved aside to {aside.name}"
    except OSError as exc:
        where = f"could not be moved aside ({exc.strerror or exc}); it is overwritten by the next answer"
    log.error("review outcomes %s are corrupt (%s): %s; a fresh record starts (the confidence correction "
              "restarts from no answers)", path, reason, where)
    return OutcomeRecord(settings)
