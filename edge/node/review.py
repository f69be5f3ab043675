"""Flagged item events kept for a reviewer: `shelf-node review show EVENT_ID` reads them from the state dir.

The outbox forgets an event once the broker has it, so every item event that fusion flags for review
is also kept as one JSON record under `<state_dir>/review/` (the newest `max_records`, oldest removed
first): the event as published (with its outbox `event_id` and `seq`), and the planogram slice it was
judged against (the SKUs of its plates and of its hypotheses, with unit weights and labels). Its pictures
(best frame, plate before/after, item in hand: edge/vision/review_evidence.py) and the record are made
on one worker thread, so the processing thread only reserves the snapshot ids and queues the job.

    keeper = ReviewKeeper(state_dir, vision.review)   # vision.review is None without a [camera]
    job = keeper.prepare(item, body)                  # flagged: evidence.review_snapshots added to body
    info = outbox.submit("item", body, ...)
    keeper.submitted(job, info, planogram)            # queued: pictures, then the record
    keeper.stop()                                     # at node stop: what is queued is finished
    keeper.status()                                   # ReviewStatus: stats.parts.review
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.atomic_file import TEMP_SUFFIX, replace_atomically
from edge.model import ItemEvent

if TYPE_CHECKING:
    from edge.planogram import Planogram
    from edge.vision.review_evidence import ReviewEvidence, ReviewPlan

log = logging.getLogger(__name__)

RECORD_FORMAT = 1
MAX_RECORDS = 200
QUEUE_SIZE = 8  # flagged events waiting for their pictures; beyond it the pictures are given up
KEY = re.compile(r"^[0-9a-fA-F-]{36}$|^held-\d{13}$")  # an outbox event_id (UUID), or held-<t_end ms>
NAME = re.compile(r"^(\d{13})-(.+)\.json$")


@dataclass(slots=True)
class ReviewJob:
    item: ItemEvent
    body: dict[str, Any]
    plan: ReviewPlan | None
    record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    """`stats.parts.review`: what the node did for the reviewer since it started (docs/vision.md)."""

    flagged: int  # item events flagged for review that reached the keeper
    queued: int  # ... waiting for the worker now (pictures, then the record)
    dropped: int  # ... given up: the worker was QUEUE_SIZE events behind (no pictures, no record)
    pictures_planned: int  # flagged events whose pictures were reserved (a camera saw their plates)
    pictures_rendered: int  # pictures drawn and stored (best frame, before, after, item in hand)
    picture_errors: int  # pictures not stored (a corrupt frame, a full disk): their ids answer 'no stored snapshot'
    records_kept: int  # records written to state_dir/review for `shelf-node review show`
    record_errors: int  # records that could not be written (a full disk; the event itself is in the outbox)
    records_stored: int  # records in state_dir/review now (the newest max_records are kept)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ReviewLog:
    """The records, one file each, `<kept unix ms>-<key>.json`; bounded by count, oldest removed first."""

    def __init__(self, directory: Path, max_records: int = MAX_RECORDS) -> None:
        self.directory = directory
        self.max_records = max_records
        self._lock = threading.Lock()
        self.stored = len(self._files())  # records on disk, kept up to date by keep()

    def keep(self, key: str, record: dict[str, Any], now: float | None = None) -> Path:
        if not KEY.match(key):
            raise ValueError(f"review key {key!r} is not an event_id")
        path = self.directory / f"{int((time.time() if now is None else now) * 1000):013d}-{key}.json"
        with self._lock:
            self.directory.mkdir(exist_ok=True)
            replace_atomically(path, json.dumps(record, sort_keys=True).encode("utf-8"), durable=False)
            files = self._files()
            for old in files[: -self.max_records]:
                old.unlink(missing_ok=True)
            self.stored = min(len(files), self.max_records)
        return path

    def find(self, key: str) -> dict[str, Any] | None:
        """The newest record for an event_id (or a prefix of at least 8 characters, as `git` takes); None
        when there is none. ValueError for a prefix that names several events."""
        matches = [p for p in self._files() if (m := NAME.match(p.name)) and m.group(2).startswith(key)]
        keys = {NAME.match(p.name).group(2) for p in matches}  # type: ignore[union-attr]
        if len(keys) > 1:
            shown = ", ".join(sorted(keys)[:4])
            raise ValueError(f"{key!r} names {len(keys)} kept events ({shown}...); give more of it")
        if not matches or (len(key) < 8 and key not in keys):
            return None
        loaded: dict[str, Any] = json.loads(matches[-1].read_text(encoding="utf-8"))
        return loaded

    def recent(self, count: int = 20) -> list[dict[str, Any]]:
        """The newest `count` records, newest first (unreadable files are skipped)."""
        records = []
        for path in reversed(self._files()[-count:]):
            try:
                records.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return records

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if NAME.match(p.name) and not p.name.endswith(TEMP_SUFFIX))


class ReviewKeeper:
    def __init__(self, state_dir: Path, evidence: ReviewEvidence | None, max_records: int = MAX_RECORDS) -> None:
        self.log = ReviewLog(state_dir / "review", max_records)
        self.evidence = evidence
        self._queue: queue.Queue[ReviewJob | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self.counts = dict.fromkeys(("flagged", "kept", "dropped", "errors"), 0)

    # -- processing thread -----------------------------------------------------------------------------
    def prepare(self, item: ItemEvent, body: dict[str, Any]) -> ReviewJob | None:
        """For a flagged item: reserve its pictures and name them in `body["evidence"]["review_snapshots"]`
        (plate -> {best, before, after, hand}: snapshot ids or null); None for an item not flagged."""
        if not item.review_required:
            return None
        self.counts["flagged"] += 1
        plan = self.evidence.plan(item) if self.evidence is not None else None
        if plan is not None:
            body["evidence"]["review_snapshots"] = plan.ids
        return ReviewJob(item, body, plan)

    def submitted(self, job: ReviewJob | None, info: Any, planogram: Planogram | None) -> None:
        """The event is in the outbox (`info`: its EnvelopeInfo, or None while held in memory): queue its
        pictures and its record for the worker."""
        if job is None:
            return
        event_id = getattr(info, "event_id", None)
        job.record = {
            "format": RECORD_FORMAT, "event_id": event_id, "seq": getattr(info, "seq", None),
            "kind": "item", "body": job.body, "planogram": planogram_slice(planogram, job.body),
        }
        self._start()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.counts["dropped"] += 1
            if job.plan is not None and self.evidence is not None:
                self.evidence.abandon(job.plan)
            log.warning("review evidence of item event %s dropped: %d flagged events already wait for theirs",
                        event_id, QUEUE_SIZE)

    def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued (bounded by `timeout`), then end the worker."""
        thread = self._thread
        if thread is None:
            return
        if self.evidence is not None:
            self.evidence.stop_waiting()  # the queued pictures now, with the frames there are
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("review worker still busy at stop; %d flagged event(s) not kept", self._queue.qsize())
        thread.join(timeout)
        self._thread = None

    def status(self) -> ReviewStatus:
        pictures = self.evidence.counts if self.evidence is not None else {}
        return ReviewStatus(
            flagged=self.counts["flagged"], queued=self._queue.qsize(), dropped=self.counts["dropped"],
            pictures_planned=pictures.get("planned", 0), pictures_rendered=pictures.get("rendered", 0),
            picture_errors=pictures.get("render_errors", 0), records_kept=self.counts["kept"],
            record_errors=self.counts["errors"], records_stored=self.log.stored)

    def idle(self) -> bool:
        """Nothing queued or being worked on (tests wait for this)."""
        return self._queue.unfinished_tasks == 0

    # -- worker ----------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="review-evidence", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._do(job)
            finally:
                self._queue.task_done()

    def _do(self, job: ReviewJob) -> None:
        if job.plan is not None and self.evidence is not None:
            self.evidence.render(job.plan)
        assert job.record is not None
        key = job.record["event_id"] or f"held-{int(job.item.t_end * 1000):013d}"
        try:
            self.log.keep(key, job.record)
            self.counts["kept"] += 1
        except OSError as exc:  # a full disk: the event itself is in the outbox; only the reviewer's copy is lost
            self.counts["errors"] += 1
            log.warning("review record of item event %s not kept in %s: %s", key, self.log.directory,
                        exc.strerror or exc)


def planogram_slice(planogram: Planogram | None, body: dict[str, Any]) -> dict[str, Any] | None:
    """What the item was judged against: its plates' SKUs (in planogram order) and every SKU its answer
    or alternatives name, with name, unit weight and spread, and labels."""
    if planogram is None:
        return None
    plates = list((body.get("evidence") or {}).get("plates") or {})
    named = [line["sku"] for option in [body, *body.get("alternatives", [])] for line in option.get("lines", [])]
    slots = {plate: [slot.sku for slot in planogram.plates.get(plate, [])] for plate in plates}
    wanted = dict.fromkeys([*(sku for skus in slots.values() for sku in skus), *named])
    catalogue = {item.sku: item for item in planogram.catalogue}
    return {
        "id": planogram.id, "version": planogram.version, "plates": slots,
        "catalogue": {sku: {"name": catalogue[sku].name, "unit_weight_g": catalogue[sku].unit_weight_g,
                            "unit_sigma_g": catalogue[sku].unit_sigma_g, "labels": list(catalogue[sku].labels)}
                      for sku in wanted if sku in catalogue},
    }
