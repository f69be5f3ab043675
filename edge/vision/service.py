"""VisionService: the daemon's one handle on the camera, the detector and the evidence they give.

    vision = VisionService(config, on_status=print)
    vision.start()
    vision.set_active(True)            # weighing saw the shelf being handled
    ...
    evidence = vision.evidence(event.t_start - 0.5, event.t_end + 0.5)   # plate -> PlateEvidence
    vision.stop()

The detector runs on a worker thread over frames worth it (active or motion), newest first: when it
falls behind, older frames wait in the ring undetected and `evidence()` has a few of them analysed on
demand, so look-back before `set_active` still works. Only the worker invokes the interpreter while
the service runs (on-demand invokes from another thread measurably slowed the pipeline).

With `[detector] crop_scale`, each live frame also gets up to `crop_max_windows` plate windows: the plates
being handled (edge.vision.live_windows: motion in the plate's region, a hand box over it), cropped and prepared
on the grabber thread with the frame, invoked by the worker after it, and merged into the evidence as replay
merges them (edge.vision.plate_crops.analysed_frames).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.config.root import NodeConfig
from edge.errors import CameraError
from edge.model import PlateEvidence
from edge.vision.evidence import build_evidence
from edge.vision.frame_grabber import CameraStatus, FrameGrabber, StatusCallback
from edge.vision.live_windows import LiveWindows, PlateWindow
from edge.vision.plate_crops import analysed_frames, merged_detections
from edge.vision.regions import regions_from_config
from edge.vision.review_evidence import ReviewEvidence
from edge.vision.ring import FrameRecord, FrameRing
from edge.vision.snapshots import SnapshotStore, SnapshotWriter

if TYPE_CHECKING:
    from edge.hw.frames import FrameSource
    from edge.vision.detector import Detector, Prepared

log = logging.getLogger(__name__)
MAX_ON_DEMAND = 6  # undetected frames analysed per evidence() call, spread over the window
ON_DEMAND_TIMEOUT_S = 5.0  # evidence() goes on without frames not analysed by then (well under the
# node's 10 s heartbeat staleness: a wedged detector must not make the weighing thread look dead)


@dataclasses.dataclass(frozen=True, slots=True)
class VisionStatus:
    """The camera's status and the detector's counters: `stats.parts.vision` on MQTT (`to_json()`)."""

    camera: CameraStatus
    detected: int  # live frames the worker analysed
    detected_on_demand: int  # look-back frames analysed for evidence() or snapshot()
    skipped: int  # frames worth detecting that the busy detector never took (still in the ring)
    detector_errors: int  # invokes that raised (logged with traceback)
    detector: bool  # a [detector] is configured
    buffered_frames: int  # frames now in the look-back ring
    snapshot_errors: int  # evidence snapshots the store could not write (disk full...); the evidence stays
    windows: int  # plate windows the worker ran on live frames besides them ([detector] crop_scale)
    detect_ms: float  # wall time of whole-frame runs (invoke + output decoding), live and on demand, summed
    window_ms: float  # ... of plate-window runs

    def to_json(self) -> dict[str, Any]:
        """The camera's fields and these counters in one flat object, as `stats` has always carried them."""
        data = self.camera.to_json()
        data.update((f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "camera")
        return data


@dataclasses.dataclass(slots=True, eq=False)
class _OnDemand:
    record: FrameRecord
    prepared: Prepared
    done: threading.Event


class VisionService:
    def __init__(
        self,
        config: NodeConfig,
        on_status: StatusCallback | None = None,
        source: FrameSource | None = None,
        detector: Detector | None = None,
    ) -> None:
        if config.camera is None:
            raise CameraError("no [camera] section in the config; add one to use vision")
        from edge.hw.camera import limit_opencv_threads, open_camera

        limit_opencv_threads()
        self.config = config
        self.camera_settings = config.camera
        self.detector_settings = config.detector
        self.hand_label = config.detector.hand_label if config.detector else "person"
        self.min_overlap = config.detector.roi_min_overlap if config.detector else 0.3
        self.regions = regions_from_config(config.plates)
        if detector is None and config.detector is not None:
            from edge.vision.detector import Detector

            detector = Detector.load(config.detector)
        if detector is not None and detector.label_warning:
            log.warning("%s", detector.label_warning)
        self.detector = detector
        settings = config.detector
        # plate windows on live frames: with crop_scale, crop_max_windows > 0, regions and a detector
        self.windows = None if settings is None or not settings.crop_scale or not settings.crop_max_windows or \
            not self.regions or detector is None else LiveWindows(
                detector, self.regions, settings.crop_scale, settings.crop_max_windows, self.hand_label,
                config.camera.motion_pixel_delta, config.camera.motion_fraction)
        self.ring = FrameRing.for_camera(config.camera)
        self.snapshots = SnapshotStore(
            config.node.state_dir / "snapshots", config.camera.snapshot_max_count, config.camera.snapshot_max_bytes
        )
        # evidence snapshots are drawn and encoded on this writer's thread, off the processing thread
        self.writer = SnapshotWriter(self.snapshots, on_error=lambda why: self._count("snapshot_errors"))
        # frames of recent evidence windows, drawn and stored only for item events flagged for review
        self.review = ReviewEvidence(self.snapshots, self.regions, self.hand_label, self.min_overlap,
                                     config.camera.jpeg_quality, frame_at=self._frame_at)
        source = source or open_camera(config.camera)
        self.grabber = FrameGrabber(source, config.camera, self.ring, self._on_frame, on_status, self._refill)
        # Guarded by _pending_ready: the live frame prepared for the worker, the newest frame that
        # arrived while it was still waiting, and evidence() frames the worker runs before live ones.
        self._pending: tuple[FrameRecord, Prepared, list[PlateWindow]] | None = None
        self._newest_skipped: FrameRecord | None = None
        self._requests: deque[_OnDemand] = deque()
        self._pending_ready = threading.Condition()
        self._scratch = np.empty((1, 1, 3), np.uint8)  # grabber thread: decoded pixels of the frame it prepares
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._counts = dict.fromkeys(
            ("detected", "detected_on_demand", "skipped", "detector_errors", "snapshot_errors", "windows"), 0
        )
        self._ms = {"detect_ms": 0.0, "window_ms": 0.0}  # written by the worker only

    def start(self) -> None:
        self._stop.clear()
        if self.detector is not None and self._worker is None:
            self._worker = threading.Thread(target=self._detect_loop, name="vision-detector", daemon=True)
            self._worker.start()
        self.grabber.start()

    def stop(self) -> None:
        self._stop.set()
        self.grabber.stop()
        with self._pending_ready:
            self._pending_ready.notify_all()
        if self._worker is not None:
            self._worker.join(5.0)
            self._worker = None
        self.writer.stop()  # the snapshots already handed out are stored

    def set_active(self, active: bool) -> None:
        self.grabber.set_active(active)

    def status(self) -> VisionStatus:
        return VisionStatus(
            self.grabber.status(), **self._counts, detector=self.detector is not None, buffered_frames=len(self.ring),
            detect_ms=round(self._ms["detect_ms"], 1), window_ms=round(self._ms["window_ms"], 1),
        )

    def frames_between(self, t0: float, t1: float) -> list[FrameRecord]:
        """Buffered frames with t0 <= t <= t1 (unix s), oldest first; detections may still be None."""
        return self.ring.frames_between(t0, t1)

    def evidence(self, t0: float, t1: float, max_on_demand: int = MAX_ON_DEMAND,
                 plates: Collection[str] | None = None) -> dict[str, PlateEvidence]:
        """Per plate with an ROI: what the camera saw between t0 and t1 (unix s), best frame kept as snapshot.

        Runs the detector on up to `max_on_demand` not yet analysed frames of the window: the caller
        decodes them and waits while the worker invokes them ahead of live frames (about that many
        invoke times; 0 = use only what the worker already did); those get no plate windows. The live
        frames' plate windows count for `plates` only when given (the event's touched plates, as replay).
        """
        records = self.ring.frames_between(t0, t1)
        self._detect_some(records, max_on_demand)
        analysed = analysed_frames(records, plates)
        result = build_evidence(analysed, self.regions, self.hand_label, self.min_overlap)
        self.review.remember(t0, t1, records, result.best_frame)
        evidence = dict(result.evidence)
        by_seq = {r.seq: r for r in records}
        snapshot_ids: dict[int, str | None] = {}  # one file per frame, however many plates it is the best for
        for plate, seq in result.best_frame.items():
            if seq not in snapshot_ids:
                snapshot_ids[seq] = self._store_snapshot(by_seq[seq])
            evidence[plate] = dataclasses.replace(evidence[plate], snapshot=snapshot_ids[seq])
        return evidence

    def _frame_at(self, t: float) -> FrameRecord | None:
        """The ring's first frame at or after `t` (the review worker's "after" picture), or None yet."""
        return next(iter(self.ring.frames_between(t, math.inf)), None)

    def snapshot(self, annotate: bool = True) -> bytes:
        """The newest frame as JPEG, with plate regions and its detections drawn when `annotate`."""
        from edge.hw.draw import annotate as draw
        from edge.hw.draw import encode_jpeg

        record = self.ring.latest()
        if record is None:
            raise CameraError(f"no frame yet from {self.grabber.source.description}; is the camera connected?")
        image = record.image
        if annotate:
            self._detect_some([record], 1)  # through the worker when it runs, like evidence()
            image = draw(image, merged_detections(record) or (), self.regions, self.hand_label)
        return encode_jpeg(image, self.camera_settings.jpeg_quality)

    # -- internals ---------------------------------------------------------------------------------
    def _on_frame(self, record: FrameRecord, worth: bool) -> None:
        """Grabber thread: prepare a frame worth detecting when the worker's slot is free, else remember
        it as the newest one the worker could take next (see _refill)."""
        if self.detector is None:
            return
        if not worth and self.windows is not None and record.decoded:
            self.windows.see(record.image)  # idle frames keep the plates' motion reference fresh
        with self._pending_ready:
            if not worth:
                self._newest_skipped = None
                return
            if self._pending is not None:
                # The detector is behind: leave this frame to the ring, still undecoded if it came
                # compressed (evidence() can still analyse it), rather than spend CPU on a frame the
                # worker may never take.
                if self._newest_skipped is not None:
                    self._counts["skipped"] += 1
                self._newest_skipped = record
                return
            self._newest_skipped = None
        self._fill(record)

    def _refill(self) -> None:
        """Grabber thread, woken by the worker taking its frame: hand it the newest skipped frame now
        instead of the next camera frame, so the worker never idles for a camera period."""
        with self._pending_ready:
            record = self._newest_skipped
            if record is None or self._pending is not None:
                return
            self._newest_skipped = None
        try:
            self._fill(record)
        except CameraError as exc:  # a corrupt compressed frame: the next camera frame will do
            log.warning("%s", exc)

    def _fill(self, record: FrameRecord) -> None:
        detector = self.detector
        assert detector is not None
        image = record.image_once(self._scratch)
        prepared = detector.prepare(image)  # done with the pixels when it returns
        windows = [] if self.windows is None else self.windows.prepare(record.t, image)
        if not record.decoded and not np.may_share_memory(image, self._scratch):
            self._scratch = image  # a fresh decode (first frame, new frame size): decode into it next time
        with self._pending_ready:
            if self._pending is not None:
                detector.release(self._pending[1])
                self._release(self._pending[2])
            self._pending = (record, prepared, windows)
            self._pending_ready.notify()

    def _release(self, windows: Sequence[PlateWindow]) -> None:
        if self.windows is not None:
            self.windows.release(windows)

    def _detect_loop(self) -> None:
        """The only thread that invokes the interpreter while the service runs: evidence() requests
        first (an event is waiting for them), then the newest live frame."""
        detector = self.detector
        assert detector is not None
        while not self._stop.is_set():
            with self._pending_ready:
                while self._pending is None and not self._requests and not self._stop.is_set():
                    self._pending_ready.wait(0.5)
                request = self._requests.popleft() if self._requests else None
                item = None
                if request is None:
                    item, self._pending = self._pending, None
                    wake_grabber = item is not None and self._newest_skipped is not None
            if request is not None:
                self._run_detector(request.record, request.prepared, "detected_on_demand")
                request.done.set()
                continue
            if item is None:
                continue
            if wake_grabber:
                self.grabber.wake()  # prepare the newest skipped frame while this one is being invoked
            record, prepared, windows = item
            self._run_detector(record, prepared, "detected", windows)
        with self._pending_ready:  # stopping: evidence() callers still waiting go on without these frames
            while self._requests:
                self._requests.popleft().done.set()

    def _run_detector(self, record: FrameRecord, prepared: Prepared, counter: str,
                      windows: Sequence[PlateWindow] = ()) -> None:
        """The frame, then its plate windows; the windows' detections are stored before the frame's, so a
        reader that sees the frame detected sees its windows too."""
        detector = self.detector
        assert detector is not None
        started = time.perf_counter()
        try:
            detections = tuple(detector.run(prepared))
        except Exception:  # keep detecting; counted in status and logged with traceback
            log.exception("detector failed on frame %d", record.seq)
            self._counts["detector_errors"] += 1
            self._release(windows)
            return
        ran = time.perf_counter()
        self._ms["detect_ms"] += (ran - started) * 1000.0
        if self.windows is not None:
            self.windows.handled.saw_hands(record.t, detections)
            if windows:
                done, failed = self.windows.run(record, windows)
                self._counts["windows"] += done
                self._counts["detector_errors"] += failed
                self._ms["window_ms"] += (time.perf_counter() - ran) * 1000.0
        record.detections = detections  # after the windows (merged_detections reads them in that order)
        self._counts[counter] += 1

    def _detect_some(self, records: list[FrameRecord], limit: int) -> None:
        """Analyse up to `limit` undetected frames of `records`, spread over them. The caller decodes and
        prepares each one (in parallel with the worker's invoke); the worker runs them before live frames,
        so one thread drives the interpreter. Without a running worker, the caller runs them itself."""
        detector = self.detector
        if detector is None or limit <= 0:
            return
        missing = [r for r in records if r.detections is None]
        if len(missing) > limit:
            step = len(missing) / limit
            missing = [missing[int(i * step)] for i in range(limit)]
        worker = self._worker
        waiting: list[_OnDemand] = []
        for record in missing:
            try:
                prepared = detector.prepare(record.image)
            except CameraError as exc:  # corrupt compressed frame: the others of the window still count
                log.warning("%s", exc)
                continue
            request = _OnDemand(record, prepared, threading.Event())
            with self._pending_ready:  # the worker drains its requests under this lock when it stops
                queued = worker is not None and worker.is_alive() and not self._stop.is_set()
                if queued:
                    self._requests.append(request)
                    self._pending_ready.notify()
            if queued:
                waiting.append(request)
            else:
                self._run_detector(record, prepared, "detected_on_demand")
        deadline = time.monotonic() + ON_DEMAND_TIMEOUT_S
        for request in waiting:
            if not request.done.wait(max(0.0, deadline - time.monotonic())):
                self._withdraw(waiting)
                log.warning("detector worker did not analyse the evidence frames in %.0fs", ON_DEMAND_TIMEOUT_S)
                break

    def _withdraw(self, requests: list[_OnDemand]) -> None:
        """Take back requests the worker has not started (their caller has stopped waiting), so a slow
        detector does not pile up look-back work ahead of live frames."""
        assert self.detector is not None
        with self._pending_ready:
            for request in requests:
                if request in self._requests:  # by identity (eq=False)
                    self._requests.remove(request)
                    self.detector.release(request.prepared)

    def _store_snapshot(self, record: FrameRecord) -> str | None:
        """The annotated frame's snapshot id, at once; the drawing and encoding run on the writer's thread. A
        picture the store cannot write (a full disk) is counted (`snapshot_errors`) and answers "not stored":
        the event keeps its evidence without a picture rather than being lost or delayed."""
        from edge.hw.draw import annotate, encode_jpeg

        regions, hand_label, quality = self.regions, self.hand_label, self.camera_settings.jpeg_quality
        return self.writer.submit(record.t, lambda: encode_jpeg(
            annotate(record.image, merged_detections(record) or (), regions, hand_label), quality))

    def _count(self, counter: str) -> None:
        self._counts[counter] += 1
