"""The node: builds the pipeline from config and runs it (docs/node.md).

    serial reader thread --WeightFrame/InfoFrame--> frame queue --> processing thread
        processing thread: Weigher.feed -> WeightEvent -> (+ vision evidence) -> Outbox.submit
    MqttLink thread: drains the outbox (a row leaves only on PUBACK), status/birth/stats, commands in
    VisionService threads (optional): frame grabber, detector

The processing thread is the only one that feeds the weigher and submits events, so the outbox
order is the production order. `healthy()` (which gates the systemd watchdog) is true only while
every worker is alive and the processing heartbeat is fresh; `failed()` names a worker that ended.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge import __version__
from edge.config import DEFAULT_PATH, NodeConfig, config_digest
from edge.control.field import FieldServices, node_source
from edge.control.reload import ReloadResult, reload_config
from edge.errors import CameraError
from edge.hw.runtime import sha256_of
from edge.loadcell.reader import SerialReader
from edge.loadcell.sniff import RawLines
from edge.model import InfoFrame, PlateEvidence, WeightEvent, WeightFrame
from edge.mqtt.commands import CommandRegistry
from edge.mqtt.host_stats import HostStats
from edge.mqtt.link import MqttLink
from edge.node import timing
from edge.node.commands import CommandSets
from edge.node.gallery_feed import GalleryFeed
from edge.node.items import ItemStep
from edge.node.status import (
    CalibrationSummary,
    McuIdentity,
    ModelIdentity,
    NodeBirth,
    NodeStatus,
    PipelineCounters,
    PipelineStatus,
    PlateWiring,
)
from edge.node.wiring import (
    make_appearance,
    make_feedback,
    make_review,
    make_vision,
    node_commands,
    open_recording,
    open_state_dir,
)
from edge.outbox import open_outbox
from edge.provision import provisioning_problem
from edge.weighing.events import weight_event_to_dict
from edge.weighing.store import CalibrationStore
from edge.weighing.weigher import Weigher

if TYPE_CHECKING:
    from edge.vision.service import VisionService

log = logging.getLogger(__name__)

FRAME_QUEUE_SIZE = 4096  # ~50 s of 80 SPS: absorbs an fsync or an evidence look-up without loss
HEARTBEAT_STALE_S = 10.0
WEIGHTS_EVERY_S = 0.5
EVIDENCE_MARGIN_S = 1.0  # look this far before the change began and after it settled
# At stop a change under way gets this long to settle (the reader goes on), then the frames still queued are
# weighed for at most STOP_DRAIN_S: with the reader's own stop (2 s) everything is in the outbox within 7 s of
# SIGTERM, leaving the camera (5 s), the link's 'stopped' (stop_timeout_s, 5 s) in systemd's TimeoutStopSec=20.
STOP_SETTLE_S = 3.0
STOP_DRAIN_S = 2.0
STOP_JOIN_S = STOP_DRAIN_S + 6.0  # the drain, then the flushed events' camera evidence (a look-up waits <= 5 s)


class Node:
    def __init__(self, config: NodeConfig, record_to: Path | None = None, control_socket: Path | None = None,
                 config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path  # re-read by reload()
        state_dir = open_state_dir(config.node.state_dir)
        self.weigher = Weigher(config, CalibrationStore.in_state_dir(state_dir))
        self.outbox = open_outbox(config)
        self.vision: VisionService | None = make_vision(config)
        self.commands = CommandRegistry.from_config(config.mqtt)
        node_commands(config, self.weigher, self.vision, on_calibration=self._announce).register(self.commands)
        self.items = ItemStep(config, self._submit)  # fusion: weight events -> item events
        self.items.review = make_review(config, self.vision)  # flagged item events kept for `review show`
        self.gallery = GalleryFeed(config, self.vision, lambda: self.items.planogram)  # labelled crops (issue 15)
        self.items.on_item = self.gallery.on_item
        self.gallery.register(self.commands)
        self.feedback = make_feedback(config, self.items, self.gallery)  # answers -> fusion's state, confidence
        # look-alike splitters learned from the gallery, for fusion (None without [detector]; docs/gallery.md)
        self.appearance = make_appearance(config, self.vision, self.items.stage, self.gallery,
                                          lambda: self.items.planogram)
        self.link = MqttLink(config, self.outbox, self.commands, stats=lambda: self.status().to_json(),
                             birth=lambda: self.birth().to_json(), on_planogram=self.items.on_planogram,
                             health=lambda: self.field.health().to_json())
        self.recording = open_recording(record_to, config) if record_to else None
        self.raw_lines = RawLines()  # the latest raw lines, for `shelf-node serial sniff` through the daemon
        self.reader = SerialReader(config.serial, self._enqueue, self._line)
        self._frames: queue.Queue[WeightFrame | InfoFrame] = queue.Queue(FRAME_QUEUE_SIZE)
        self._stop = threading.Event()
        self._processor = threading.Thread(target=self._process, name="processing", daemon=True)
        self._heartbeat = time.monotonic()
        self._shelf_active = False
        self._weights_sent = 0.0
        self.counters = PipelineCounters()
        self.last_info: InfoFrame | None = None
        self._model_digest: str | None = None
        # control socket, LED and button, maintenance mode, recent events, error-rate health (issue 14)
        self.field = FieldServices(
            node_source(self, HostStats().sample, lambda: provisioning_problem(DEFAULT_PATH.parent)), config.gpio,
            control_socket, CommandSets((node_commands(config, self.weigher, self.vision,
                                                       on_calibration=self._announce), self.gallery)),
            detector_fatal_after_s=config.health.detector_fatal_after_s)
        self.items.maintenance = lambda: self.field.maintenance.on
        self.gallery.maintenance = self.field.maintenance  # restock sessions (shelf-node maintenance restock)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.gallery.start()
        if self.appearance is not None:
            self.appearance.start()
        self._processor.start()
        self.link.start()
        if self.vision is not None:
            self.vision.start()
        self.reader.start()
        self.field.start()

    def stop(self, settle_s: float = STOP_SETTLE_S) -> None:
        """A change under way gets `settle_s` to settle; then no new frames, and the processing thread weighs
        those still queued and reports what is still under way (`_finish`); only then do the camera, the link
        and the outbox stop."""
        self.field.stop()  # no tare or calibrate from the socket or the button while stopping
        self._let_changes_settle(time.monotonic() + settle_s)
        self.reader.stop()
        self._stop.set()
        if self._processor.is_alive():
            self._processor.join(STOP_JOIN_S)
            if self._processor.is_alive():
                log.error("stop: the processing thread did not finish within %.0f s; events it still had are lost",
                          STOP_JOIN_S)
        if self.items.review is not None:
            self.items.review.stop()  # the pictures and records of flagged events already queued
        if self.appearance is not None:
            self.appearance.stop()  # before the gallery's file closes
        self.gallery.stop()  # the crops already queued, before the camera stops
        if self.vision is not None:
            self.vision.stop()
        self.link.stop()
        self.outbox.close()
        if self.recording is not None:
            self.recording.close()

    def _let_changes_settle(self, deadline: float) -> None:
        if time.monotonic() >= deadline or not (self._processor.is_alive() and self.reader.is_alive()):
            return
        if not self.weigher.settling():
            return
        log.info("stop: a change is under way; waiting up to %.1f s for it to settle",
                 max(deadline - time.monotonic(), 0.0))
        while self.weigher.settling() and time.monotonic() < deadline and self._processor.is_alive():
            time.sleep(0.05)

    def reload(self) -> ReloadResult:
        """SIGHUP / `shelf-node reload`: the planogram file applied live, a bad config refused, settings that need
        a restart named (edge/control/reload.py); the running config stays until a restart."""
        result = reload_config(self.config, self.config_path, self.items.on_planogram)
        self.counters.reloads += 1  # each told in the health counters, not only in the log (stats.parts.node)
        self.counters.reloads_refused += not result.accepted
        return result

    def healthy(self) -> bool:
        fresh = time.monotonic() - self._heartbeat < HEARTBEAT_STALE_S
        alive = fresh and self._processor.is_alive() and self.reader.is_alive() and self.link.is_alive()
        return alive and self.field.unrecoverable() is None  # error rates only degrade, unless fatal (issue 14)

    def failed(self) -> str | None:
        """Why the node cannot go on (a worker thread ended, which none does by itself), or None. The daemon
        then exits non-zero, so systemd restarts it even where no watchdog is set."""
        if self._processor.ident is None or self._stop.is_set():
            return None  # not started yet, or stopping
        workers = (("processing", self._processor.is_alive()), ("serial reader", self.reader.is_alive()),
                   ("MQTT link", self.link.is_alive()))
        dead = [name for name, alive in workers if not alive]
        if dead:
            return f"the {' and '.join(dead)} thread{'s' if len(dead) > 1 else ''} died (see the traceback above)"
        return None

    def status_line(self) -> str:
        serial = self.reader.status()
        return (f"{self.config.node.store_id}/{self.config.node.node_id}: frames {self.counters.frames}, "
                f"events {self.counters.events}, outbox {self.outbox.depth}, "
                f"mqtt {'up' if self.link.connected else 'down'}, "
                f"serial {'up' if serial.port.connected else 'down'}")

    # -- serial reader thread ----------------------------------------------------------------------
    def _line(self, t: float, raw: bytes) -> None:
        self.raw_lines.add(t, raw)
        if self.recording is not None:
            self.recording.write(t, raw)

    def _enqueue(self, frame: WeightFrame | InfoFrame) -> None:
        try:
            self._frames.put_nowait(frame)
        except queue.Full:
            # The processing thread is wedged for tens of seconds; the watchdog will notice.
            self.counters.frames_dropped += 1

    # -- processing thread -------------------------------------------------------------------------
    def _process(self) -> None:
        while not self._stop.is_set():
            self._heartbeat = time.monotonic()
            try:
                frame = self._frames.get(timeout=0.5)
            except queue.Empty:
                self.items.poll(time.time())
                continue
            if self._handle(frame):
                self._after_frame()
        self._finish(time.monotonic() + STOP_DRAIN_S)

    def _handle(self, frame: WeightFrame | InfoFrame) -> bool:
        """One record from the reader; True for a weight frame."""
        if isinstance(frame, InfoFrame):
            self.counters.info_frames += 1
            self.last_info = frame
            log.info("MCU says: firmware %s, %d channels, %g SPS, uid %s",
                     frame.firmware, frame.channels, frame.sps, frame.uid)
            self._observe_board(frame)
            return False
        self.counters.frames += 1
        events = self.weigher.feed(frame)
        if events and timing.enabled():  # bench/latency.py only
            timing.frame_weighed(frame)
        for event in events:
            self._record(event)
        self.items.poll(time.time())
        return True

    def _finish(self, deadline: float) -> None:
        """At stop (the reader has stopped): weigh the frames still queued, until `deadline`; then report the
        changes the weigher has begun (`Weigher.flush`: forced, `stopped_early`) and the item events fusion
        holds, so a pick just before a restart reaches the outbox before it closes."""
        while time.monotonic() < deadline:
            try:
                frame = self._frames.get_nowait()
            except queue.Empty:
                break
            self._handle(frame)
        left = self._frames.qsize()
        if left:
            self.counters.frames_dropped += left
            log.warning("stop: %d queued frame(s) not weighed within %.0f s; a change among them is not reported",
                        left, STOP_DRAIN_S)
        flushed = self.weigher.flush(time.time())
        for event in flushed:
            self._record(event)
        held = self.items.flush()
        if flushed or held:
            log.info("stop: %d change(s) in progress and %d held item event(s) reported", len(flushed), len(held))

    def _observe_board(self, info: InfoFrame) -> None:
        """The weigher compares the board with the calibration's (and logs a change); a new change or its
        end goes out in a fresh birth, so the hub's retained birth says which board answers."""
        before = self.weigher.board_change()
        if self.weigher.observe_board(info.uid, info.firmware) != before:
            self._announce()

    def _announce(self) -> None:
        """What the birth says has changed (the calibration, the board): publish it again."""
        self.link.request_rebirth()

    def _after_frame(self) -> None:
        active = not self.weigher.shelf_stable()
        if active != self._shelf_active and self.vision is not None:
            self.vision.set_active(active)
        self._shelf_active = active
        now = time.monotonic()
        if now - self._weights_sent < WEIGHTS_EVERY_S:
            return
        reading = self.weigher.reading()
        if len(reading.grams) == len(self.weigher.plate_names):  # empty until the sample rate is measured
            grams = {name: (None if g is None else round(g, 1))
                     for name, g in zip(self.weigher.plate_names, reading.grams, strict=True)}
            self.link.publish_weights(grams)
            self._weights_sent = now

    def _record(self, event: WeightEvent) -> None:
        camera_ok, evidence = self._evidence_for(event)
        body = weight_event_to_dict(event)
        if self.vision is not None:
            body.update(camera_ok=bool(camera_ok), evidence={p: _evidence_dict(ev) for p, ev in evidence.items()})
        self.counters.events += 1
        info = None
        event_id: str | None = None
        if self.items.publish_weight_events:
            event_id = self.outbox.new_event_id()  # the item event names it even while it waits (a full disk)
            info = self.outbox.submit("weight", body, produced_at=event.t_end, event_id=event_id)
            if info is not None and timing.enabled():
                timing.stamp("committed", seq=info.seq, kind="weight")
            if info is None:
                # The file refuses writes (disk full, I/O error, max_events): the outbox holds the event in
                # memory and stores it, in order, when it can; it logs that, and any loss, itself.
                self.counters.outbox_errors += 1
                log.warning("event %+.1f g on %s held in memory: the outbox cannot store it now",
                            event.delta_g, ",".join(body["plates"]))
            else:
                log.info("event seq %d: %+.1f g on %s (%s)", info.seq, event.delta_g, ",".join(body["plates"]),
                         event.quality)
        self.field.recent.add("weight", body, None if info is None else info.seq)
        if self.appearance is not None and evidence:  # after the weight event is out: fusion's crop descriptors
            evidence = self.appearance.describe(event, evidence)
        self.items.weight_event(event, evidence if self.vision is not None else None, camera_ok, time.time(),
                                event_id, None if info is None else info.seq)

    def _submit(self, kind: str, body: dict[str, Any], produced_at: float) -> Any:
        """Outbox.submit for the item step, the event also kept for `shelf-node events tail`."""
        if timing.enabled():
            timing.stamp("fused", kind=kind)
        info = self.outbox.submit(kind, body, produced_at=produced_at)
        if info is not None and timing.enabled():
            timing.stamp("committed", seq=info.seq, kind=kind)
        self.field.recent.add(kind, body, None if info is None else info.seq)
        return info

    def _evidence_for(self, event: WeightEvent) -> tuple[bool | None, dict[str, PlateEvidence]]:
        """(camera_ok: None without a camera, the touched plates' evidence over the event's window)."""
        if self.vision is None:
            return None, {}
        camera_ok = self.vision.status().camera.camera_ok
        touched = set(event.plate_deltas)
        try:  # plate windows count for the touched plates, as in replay
            evidence = self.vision.evidence(event.t_start - EVIDENCE_MARGIN_S, event.t_end + EVIDENCE_MARGIN_S,
                                            plates=touched)
        except CameraError as exc:
            self.counters.evidence_errors += 1
            log.warning("no camera evidence for event at %.3f: %s", event.t_end, exc)
            return False, {}
        return camera_ok, {plate: ev for plate, ev in evidence.items() if plate in touched}

    # -- status and birth (MQTT stats/birth, the control socket) ------------------------------------
    def status(self) -> NodeStatus:
        return NodeStatus(
            pipeline=PipelineStatus.of(self.counters, self._frames.qsize(), self.healthy()),
            serial=self.reader.status(),
            weighing=self.weigher.status(),
            vision=None if self.vision is None else self.vision.status(),
            gallery=self.gallery.status(),
            recording=None if self.recording is None else self.recording.status(),
            review=None if self.items.review is None else self.items.review.status(),
            reliability=self.feedback.status(),
            fusion=self.items.status(),
        )

    def birth(self) -> NodeBirth:
        info = self.last_info
        weighing = self.weigher.status()
        return NodeBirth(
            software_version=__version__,
            config_digest=config_digest(self.config),
            model=self._model_identity(),
            plates=tuple(PlateWiring(p.name, tuple(p.channels)) for p in self.config.plates),
            calibration=CalibrationSummary(weighing.calibration, weighing.calibrated_plates),
            mcu=None if info is None else McuIdentity(info.firmware, info.channels, info.sps, info.uid),
            board_changed=weighing.board_changed,
        )

    def _model_identity(self) -> ModelIdentity | None:
        detector = self.config.detector
        if detector is None:
            return None
        if self._model_digest is None:
            self._model_digest = detector.model_sha256 or sha256_of(detector.model)
        return ModelIdentity(detector.model.name, self._model_digest)


def _evidence_dict(evidence: PlateEvidence) -> dict[str, Any]:
    data = dataclasses.asdict(evidence)
    data["labels"] = {label: {"best": round(best, 3), "mean": round(mean, 3)}
                      | ({"frames": evidence.label_frames[label]} if label in evidence.label_frames else {})
                      for label, (best, mean) in evidence.labels.items()}
    data.pop("plate", None)
    data.pop("label_frames", None)  # in `labels`, as each label's `frames`
    data.pop("appearance", None)  # the crop descriptor is fusion's input, not the wire's (hundreds of floats)
    return data
