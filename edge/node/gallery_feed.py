"""The node's gallery feed: item events -> labelled crops, restock sessions, reviewers' answers (docs/gallery.md).

    feed = GalleryFeed(config, vision, planogram=lambda: items.planogram)
    items.on_item = feed.on_item            # processing thread: after each item event is in the outbox
    feed.register(commands)                 # review_answer (MQTT and socket), restock (socket; MQTT if allowed)
    feed.maintenance = field.maintenance    # the node's maintenance switch, for restock sessions
    feed.start() ... feed.stop()

The processing thread only decides and picks, per plate, the frame and box that show the item (geometry on
the detections the evidence already has: no pixel decoded); a worker thread cuts, encodes and stores, so the
weighing never waits for the gallery, and a queued event holds one frame per plate, not its whole window.
A full queue skips that event's crops (counted), a file that refuses writes is counted and logged; neither
stops the node.

Routes of an item event (each counted):
- `auto`: not flagged, pick or put of one SKU, calibrated confidence >= [gallery] min_confidence, camera ok:
  its crops become examples of that SKU;
- `restock`: a restock, not flagged, while an operator's declared SKU is set and the weight fits it (the SKU
  is among the event's lines or alternatives): examples of the declared SKU;
- `pending`: a flagged event: its crops wait, unlabelled, for a reviewer's answer, never as examples;
- otherwise the event is only remembered (a reviewer may still answer it).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from edge.config import NodeConfig
from edge.errors import CommandError, StateError
from edge.gallery import Crop, Gallery, GalleryStatus, ItemRecord, Ledger, ReviewAnswer
from edge.gallery.crops import Choice, choose, cut_all
from edge.gallery.review import PARAMS, parse_answer
from edge.model import ItemEvent
from edge.planogram import Planogram

if TYPE_CHECKING:
    from edge.node.commands import CommandTable
    from edge.vision.service import VisionService

log = logging.getLogger(__name__)

WINDOW_MARGIN_S = 1.0  # frames this long before the change began and after it settled (as the evidence)
COUNTERS = ("auto", "restock", "pending", "remembered", "stored", "not_seen", "skipped_busy", "restock_mismatch",
            "not_admitted", "unnamed", "errors", "review_answers", "review_refused")
Admit = Callable[[str, Crop], bool]  # (sku, crop) -> may this self-labelled crop join the gallery?
OnAnswer = Callable[[ItemRecord, ReviewAnswer, bool], dict[str, Any]]  # (event, answer, node right) -> result parts


class Switch(Protocol):
    """edge.gpio.maintenance.MaintenanceMode"""

    @property
    def on(self) -> bool: ...
    def set(self, on: bool, by: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class _Job:
    record: ItemRecord | None  # None: an event without an outbox id (held on a full disk): crops only
    choices: list[Choice]  # per plate, the frame and box to cut
    plates: tuple[str, ...]  # plates to crop
    label: str | None  # the SKU the crops show (None: pending for a reviewer)
    source: str
    confidence: float


class GalleryFeed:
    def __init__(self, config: NodeConfig, vision: VisionService | None,
                 planogram: Callable[[], Planogram | None], clock: Callable[[], float] = time.time) -> None:
        self.settings = config.gallery
        self.vision = vision if self.settings.enabled else None
        self.planogram = planogram
        self.clock = clock
        self.gallery = Gallery.for_node(config)
        self.ledger = Ledger(self.gallery)
        self.maintenance: Switch | None = None
        # the appearance splitter's guard (edge.vision.appearance_splitter.PlateSplitter.admits, through the
        # node): an `auto` crop its trusted plate confidently calls another SKU stays out (worker thread)
        self.admit: Admit | None = None
        self.appearance_status: Callable[[], dict[str, Any]] | None = None  # edge/node/appearance_feed.py
        self.on_answer: OnAnswer | None = None  # an answer taken: fusion's state and calibration (edge/node/answers.py)
        self.restock_sku: str | None = None
        self.counters = dict.fromkeys(COUNTERS, 0)
        self._queue: queue.Queue[_Job | None] = queue.Queue(self.settings.queue_size)
        self._worker: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status: GalleryStatus | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._refresh()
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="gallery", daemon=True)
            self._worker.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """The crops already queued are stored (for at most `timeout_s`), then the file is closed."""
        worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout_s)
            if worker.is_alive():
                log.warning("gallery: the worker did not finish within %.0f s; queued crops are not stored",
                            timeout_s)
                return
            self._worker = None
        self.gallery.close()

    # -- processing thread -------------------------------------------------------------------------
    def on_item(self, item: ItemEvent, info: Any) -> None:
        """ItemStep.on_item: never raises (the processing thread must live on), never blocks."""
        try:
            self._route(item, info)
        except Exception:  # a gallery bug must not stop the weighing: counted, logged with the traceback
            self.counters["errors"] += 1
            log.exception("gallery: item event not handled (error %d); the node goes on", self.counters["errors"])

    def _route(self, item: ItemEvent, info: Any) -> None:
        event_id = getattr(info, "event_id", None)
        record = None if event_id is None else _record_of(item, event_id, getattr(info, "seq", None))
        if record is None:
            self.counters["unnamed"] += 1
        label, source = self._label_for(item)
        seen = self.vision is not None and item.vision.get("camera") == "ok"
        if label is not None and seen:
            plates = tuple(sorted({line.plate for line in item.lines}))
        elif item.review_required and seen and record is not None:
            plates, source = tuple(sorted(c.plate for c in item.changes)), "pending"
            label = None
        else:
            if record is not None:
                self._enqueue(_Job(record, [], (), None, "remembered", item.confidence))
            return
        assert self.vision is not None
        vision = self.vision
        choices = choose(self._frames(item), vision.regions, plates, self._labels(item, label), vision.hand_label,
                         vision.min_overlap)
        self._enqueue(_Job(record, choices, plates, label, source, item.confidence))

    def _label_for(self, item: ItemEvent) -> tuple[str | None, str]:
        """(the SKU this event's crops show for sure, the source), or (None, '')."""
        skus = {line.sku for line in item.lines}
        if item.review_required:  # flagged: never labelled by the node itself, a restock neither
            return None, ""
        if item.action == "restock":
            declared = self._declared()
            if declared is None:
                return None, ""
            plausible = skus | {line.sku for alt in item.alternatives for line in alt.lines}
            if declared not in plausible:
                self.counters["restock_mismatch"] += 1
                return None, ""
            return declared, "restock"
        label = auto_label(item, self.settings.min_confidence)
        return (None, "") if label is None else (label, "auto")

    def _declared(self) -> str | None:
        if self.maintenance is None or not self.maintenance.on:
            self.restock_sku = None  # maintenance off ends the restock session
        return self.restock_sku

    def _frames(self, item: ItemEvent) -> list[Any]:
        assert self.vision is not None
        return self.vision.frames_between(item.t_start - WINDOW_MARGIN_S, item.t_end + WINDOW_MARGIN_S)

    def _labels(self, item: ItemEvent, label: str | None) -> dict[str, tuple[str, ...]]:
        """Plate -> the catalogue labels of the SKU its crop shows (the detection to prefer)."""
        planogram = self.planogram()
        if planogram is None:
            return {}

        def labels_of(sku: str) -> tuple[str, ...]:
            try:
                return tuple(planogram.item(sku).labels)
            except KeyError:  # not in this planogram (it changed meanwhile)
                return ()

        return {line.plate: labels_of(label or line.sku) for line in item.lines}

    def _enqueue(self, job: _Job) -> None:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.counters["skipped_busy"] += 1

    # -- worker thread -----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._store(job)
            except StateError as exc:  # the file refuses writes (disk full): counted, the node goes on
                self.counters["errors"] += 1
                log.warning("gallery: %s (error %d)", exc, self.counters["errors"])
            except Exception:  # a bug: counted and logged with the traceback; the worker goes on
                self.counters["errors"] += 1
                log.exception("gallery: storing crops failed (error %d)", self.counters["errors"])
            self._refresh()

    def _store(self, job: _Job) -> None:
        crops = self._crops(job) if job.plates else []
        if job.plates and not crops:
            self.counters["not_seen"] += 1
        admit = self.admit
        if admit is not None and job.source == "auto" and job.label is not None:
            kept = [crop for crop in crops if admit(job.label, crop)]
            self.counters["not_admitted"] += len(crops) - len(kept)
            crops = kept
        if job.record is None:
            if job.label is not None:
                for crop in crops:
                    confidence = job.confidence if job.source == "auto" else None
                    stored = self.gallery.add(job.label, crop, job.source, confidence)  # type: ignore[arg-type]
                    self.counters["stored"] += stored is not None
            return
        stored = self.ledger.remember(job.record, crops, job.label, job.source)
        self.counters["stored"] += stored
        self.counters[job.source if crops else "remembered"] += 1

    def _crops(self, job: _Job) -> list[Crop]:
        return cut_all(job.choices, self.settings)

    # -- commands ----------------------------------------------------------------------------------
    def register(self, table: CommandTable) -> None:
        if self.settings.review_answers:
            table.register("review_answer", self.review_answer, changes_state=False, params=PARAMS,
                           description="A reviewer's answer about an item event: {'event_id', 'lines': "
                                       "[{'sku', 'count'[, 'plate']}], 'action'?, 'reviewer'?}; labels its crops.")
        table.register("restock", self.restock, changes_state=True, params=("sku",),
                       description="Restock session: {'sku': X} turns maintenance mode on and labels the crops of "
                                   "restocks with X until maintenance mode goes off; {} shows the session.")

    def review_answer(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = parse_answer(params)
            planogram = self.planogram()
            known = None if planogram is None else {entry.sku for entry in planogram.catalogue}
            result = self.ledger.answer(answer, known, self.clock())
        except CommandError:
            self.counters["review_refused"] += 1
            raise
        self.counters["review_answers"] += 1
        record = self.ledger.item(answer.event_id) if self.on_answer is not None else None
        if self.on_answer is not None and record is not None:
            result.update(self.on_answer(record, answer, bool(result["correct"])))
        log.info("review answer for %s: node %s (%d crop(s) labelled)", answer.event_id,
                 "right" if result["correct"] else "WRONG", result["labelled_crops"])
        self._refresh()
        return result

    def restock(self, params: dict[str, Any]) -> dict[str, Any]:
        if "sku" in params:
            self.declare_restock(params["sku"], by="restock command")
        return {"maintenance": bool(self.maintenance and self.maintenance.on), "restock_sku": self._declared()}

    def declare_restock(self, sku: Any, by: str) -> None:
        """Start a restock session of `sku` (the command now; a button later): maintenance mode on, and
        restock events whose weight fits `sku` label their crops with it until maintenance mode goes off."""
        planogram = self.planogram()
        if planogram is None:
            raise CommandError("no planogram yet, so the SKU cannot be checked; send or configure the planogram")
        known = {entry.sku for entry in planogram.catalogue}
        if not isinstance(sku, str) or sku not in known:
            raise CommandError(f"sku {sku!r} is not in the planogram's catalogue; one of: "
                               f"{', '.join(sorted(known)[:20])}{' ...' if len(known) > 20 else ''}")
        if self.maintenance is None:
            raise CommandError("this node has no maintenance switch")
        self.maintenance.set(True, by=by)
        self.restock_sku = sku
        log.info("restock session: crops of restocks are labelled %s until maintenance mode goes off (%s)", sku, by)

    # -- status ------------------------------------------------------------------------------------
    def status(self) -> GalleryStatus | None:
        """The last status the worker or an answer computed (cheap: the node asks every second)."""
        with self._status_lock:
            status = self._status
        if status is None:
            return None
        appearance = self.appearance_status
        return GalleryStatus(status.path, status.examples, status.bytes, status.pending, status.items, status.skus,
                             status.reviews, dict(self.counters), self._declared(),
                             None if appearance is None else appearance())

    def _refresh(self) -> None:
        status = self.gallery.status()
        with self._status_lock:
            self._status = status


def auto_label(item: ItemEvent, min_confidence: float) -> str | None:
    """The SKU an item event labels its crops with by itself (route `auto`), or None: an event fusion accepted
    (not flagged), a pick or put of one SKU, at calibrated confidence >= `min_confidence` ([gallery]
    min_confidence). Whether the camera saw the item is the caller's to check."""
    skus = {line.sku for line in item.lines}
    if item.review_required or item.action not in ("pick", "put") or len(skus) != 1:
        return None
    if item.confidence < min_confidence:
        return None
    return next(iter(skus))


def _record_of(item: ItemEvent, event_id: str, seq: int | None) -> ItemRecord:
    return ItemRecord(event_id, seq, item.t_start, item.t_end, item.action,
                      tuple((line.sku, line.count, line.plate) for line in item.lines),
                      tuple(sorted(c.plate for c in item.changes)), item.confidence, item.review_required,
                      tuple(item.review_reasons))
