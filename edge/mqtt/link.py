"""MqttLink: the node's connection to the hub's broker. Drains the outbox, publishes status, birth,
stats and live weights, and hands inbound commands and planograms to the inbound worker.

One network thread owns the paho client: it connects (jittered backoff), runs `loop()`, and
publishes due outbox rows between loop iterations, so publishing order is outbox order.
Each connection gets a new persisted session number, announced in `status` and in the Will.
Status, birth, stats and weights publishing live in `link_publish.LinkPublishing`, a mixin of this class.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from edge.config.root import NodeConfig
from edge.errors import OutboxError
from edge.mqtt import envelope
from edge.mqtt.commands import CommandRegistry, redacted_config
from edge.mqtt.connection import Backoff, connect_failure_hint, connect_kwargs, make_client
from edge.mqtt.delivery import Delivery
from edge.mqtt.host_stats import HostStats
from edge.mqtt.inbound import PLANOGRAM, Inbound
from edge.mqtt.link_publish import HEALTH_EVERY_S, LinkPublishing
from edge.mqtt.link_status import LinkStatus
from edge.mqtt.takeover import STABLE_AFTER_S, TakeoverWatch
from edge.mqtt.topics import Topics
from edge.mqtt.wakeup import WakeableLoop
from edge.outbox.store import Outbox
from edge.planogram import Planogram, PlanogramStore

log = logging.getLogger(__name__)
timing = logging.getLogger("edge.timing")  # stage stamps for bench/latency.py (edge/node/timing.py)

LOOP_TIMEOUT_S = 0.05
# The reconnect backoff resets only after a connection stayed up STABLE_AFTER_S, so a broker that
# accepts and then drops us (e.g. mosquitto 2.0 closing on an ACL-denied MQTT 5 publish) is not hammered.


def _no_planogram_consumer(planogram: Planogram) -> None:
    log.info("planogram %s v%d received; no consumer registered yet", planogram.id, planogram.version)


class MqttLink(LinkPublishing):
    def __init__(self, config: NodeConfig, outbox: Outbox, commands: CommandRegistry | None = None,
                 stats: Callable[[], dict[str, Any]] = dict, birth: Callable[[], dict[str, Any]] | None = None,
                 on_planogram: Callable[[Planogram], None] = _no_planogram_consumer,
                 health: Callable[[], dict[str, Any]] | None = None) -> None:
        self.config = config
        self.section = config.mqtt
        self.outbox = outbox
        self.topics = Topics(self.section.topic_prefix, config.node.store_id, config.node.node_id)
        self.commands = commands or CommandRegistry.from_config(self.section)
        self._stats_source = stats
        self._birth_source = birth or self._default_birth
        self._health_source = health  # the node's verdict, {state, healthy, reasons}: in status and stats
        self._health_key: tuple[str, tuple[str, ...]] | None = None  # what the last `online` status said
        self._next_health = 0.0
        self.delivery = Delivery(outbox, self.section.inflight_window, self.section.replay_rate)
        self.inbound = Inbound(self.commands, PlanogramStore(config.node.state_dir, config.plate_names()),
                               on_planogram, self._respond)
        client_id = self.section.client_id or f"{self.topics.prefix}-{self.topics.store}-{self.topics.node}"
        self.client = make_client(self.section, client_id)
        self.client.max_inflight_messages_set(self.section.inflight_window + 8)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        # the network thread waits on the broker socket and this: a stored event, a response, a rebirth wake it
        self._loop = WakeableLoop(self.client)
        outbox.add_listener(self._loop.wake)
        self._backoff = Backoff(self.section.reconnect_min_s, self.section.reconnect_max_s)
        self._takeover = TakeoverWatch()
        self._host = HostStats()
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self._connected = False
        self._connected_at = 0.0
        self._session = 0
        self._session_used = False
        self._connections = 0
        self._rebirth = False
        self._next_stats = 0.0
        self._stable_at = float("inf")
        self._weights_pending: dict[str, float | None] | None = None
        self._weights_last: dict[str, float | None] | None = None
        self._weights_sent_at = 0.0
        self._lock = threading.Lock()
        self._responses: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.counters = {"reconnects": 0, "connect_failures": 0, "internal_errors": 0,
                         "birth_invalid": 0, "weights_published": 0, "stats_published": 0}
        self.client_id = client_id
        self.last_error: str | None = None
        self.commands.register("rebirth", self._cmd_rebirth, changes_state=False,
                               description="Publish status and birth again.")
        self.commands.register("stats", lambda params: self.stats_payload(), changes_state=False,
                               description="Health counters, as in the stats topic.")
        self.commands.register("config", lambda params: {"config": redacted_config(self.config)},
                               changes_state=False, description="Effective configuration, secrets redacted.")

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> None:
        self.inbound.start()
        self._thread.start()

    def stop(self) -> None:
        """Finish the commands received (their responses go out first), publish `stopped`, wait (bounded) for
        its PUBACK, disconnect, and join the threads."""
        self.inbound.stop()  # first: a tare being handled is answered, not done in silence after the disconnect
        self._stop.set()
        self._loop.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=self.section.stop_timeout_s + 5)

    def is_alive(self) -> bool:
        """The network thread and the command worker are running (the daemon's watchdog asks)."""
        return self._thread.is_alive() and self.inbound.is_alive()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def session(self) -> int:
        return self._session

    def status(self) -> LinkStatus:
        return LinkStatus(
            connected=self._connected,
            session=self._session,
            reconnects=self.counters["reconnects"],
            connect_failures=self.counters["connect_failures"],
            takeovers=self._takeover.count,
            published=self.delivery.published,
            acked=self.delivery.acked,
            rejected=self.delivery.rejected,
            inflight=self.delivery.inflight,
            commands=self.commands.handled,
            command_errors=self.commands.errors,
            planogram_errors=self.inbound.planogram_errors,
            internal_errors=self.counters["internal_errors"] + self.commands.internal_errors
            + self.inbound.internal_errors,
            birth_invalid=self.counters["birth_invalid"],
            stats_published=self.counters["stats_published"],
            weights_published=self.counters["weights_published"],
            last_error=self.last_error,
        )

    # -- network thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._connect():
                    self._serve()
            except OutboxError as exc:
                self._note(f"outbox: {exc}")
                log.error("mqtt link: %s; retrying", exc)
            except Exception:  # the link must outlive any bug: log with traceback, count, reconnect
                self.counters["internal_errors"] += 1
                log.exception("mqtt link: unexpected error; reconnecting")
                self.client.disconnect()
            self._connected = False
            if not self._stop.is_set():
                self._stop.wait(self._takeover.backoff.next_delay() if self._takeover.taken_over
                                else self._backoff.next_delay())
        self._flush_quietly()
        self._loop.close()

    def _connect(self) -> bool:
        if self._takeover.taken_over:
            # a connection thrown out by a namesake keeps its number: flapping must not burn sessions
            self._takeover.taken_over, self._session_used = False, False
        if self._session_used or self._session == 0:
            # a new number per connection; attempts that never reached the broker reuse the last one
            self._session, self._session_used = self._next_session(), False
        self.client.will_set(self.topics.status, envelope.encode(envelope.status_payload("offline", self._session)),
                             qos=1, retain=True)
        try:
            self.client.connect(**connect_kwargs(self.section))
        except OSError as exc:
            self.counters["connect_failures"] += 1
            self._note(connect_failure_hint(self.section, exc))
            log.warning("mqtt: %s", self.last_error)
            return False
        self._session_used = True  # CONNECT (with this session's Will) reached the broker
        return True

    def _next_session(self) -> int:
        try:
            return self.outbox.next_session()
        except OutboxError as exc:  # disk full: keep delivering; a restart may repeat this number (never lower)
            log.error("mqtt: %s; using session %d from memory", exc, self._session + 1)
            return self._session + 1

    def _serve(self) -> None:
        """Loop while the socket lives; publish due events, stats and weights between iterations."""
        while True:
            if self._stop.is_set():
                self._shutdown()
                return
            rc = self._loop.once(LOOP_TIMEOUT_S)
            if rc != paho.MQTT_ERR_SUCCESS:
                if self._connected:
                    log.warning("mqtt: connection to %s:%d lost (%s)", self.section.host, self.section.port,
                                paho.error_string(rc))
                return
            if self._connected:
                self._pump()

    def _pump(self) -> None:
        for row, historical in self.delivery.due(self._connected_at):
            picked = time.monotonic()
            payload = envelope.event_payload(row, self.topics.store, self.topics.node, self._session, historical)
            info = self.client.publish(self.topics.events, envelope.encode(payload), qos=1)
            self.delivery.handed_out(row, info.mid)
            if timing.isEnabledFor(logging.DEBUG):
                timing.debug("timing %s", json.dumps({"stage": "published", "at": time.monotonic(), "seq": row.seq,
                                                      "picked": picked}))
        try:
            self.delivery.flush()
        except OutboxError as exc:  # disk full: delivered rows stay in the file a while longer; keep going
            self._note(f"outbox: {exc}")
        self._publish_responses()
        now = time.monotonic()
        if now >= self._stable_at:
            self._stable_at = float("inf")
            self._backoff.reset()
            self._takeover.stable()
        if self._rebirth:
            self._rebirth = False
            self._announce()
        elif self._health_source is not None and now >= self._next_health:
            self._next_health = now + HEALTH_EVERY_S
            self._publish_health_change()
        if now >= self._next_stats:
            self._next_stats = now + self.section.stats_interval_s
            self.client.publish(self.topics.stats, envelope.encode(self.stats_payload()), qos=0)
            self.counters["stats_published"] += 1
        self._send_weights(now)

    def _shutdown(self) -> None:
        """Clean stop: `stopped` (retained, QoS 1) and wait for its PUBACK, bounded; then disconnect."""
        if self._connected:
            self._publish_responses()  # the last commands' answers, before `stopped`
            info = self.client.publish(
                self.topics.status, envelope.encode(envelope.status_payload("stopped", self._session)),
                qos=1, retain=True)
            deadline = time.monotonic() + self.section.stop_timeout_s
            while not info.is_published() and time.monotonic() < deadline:
                if self.client.loop(timeout=LOOP_TIMEOUT_S) != paho.MQTT_ERR_SUCCESS:
                    break
            if not info.is_published():
                log.warning("mqtt: 'stopped' not acknowledged within %.1f s", self.section.stop_timeout_s)
        self._flush_quietly()
        self.client.disconnect()
        self.client.loop(timeout=LOOP_TIMEOUT_S)

    def _publish_responses(self) -> None:
        while not self._responses.empty():
            response_topic, response = self._responses.get_nowait()
            self.client.publish(response_topic, response, qos=1)

    def _flush_quietly(self) -> None:
        try:
            self.delivery.flush(force=True)
        except OutboxError as exc:
            log.error("mqtt: could not record acknowledged events (they will be re-sent): %s", exc)

    # -- paho callbacks (network thread) ------------------------------------------------------

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                    properties: Any) -> None:
        if reason_code.is_failure:
            self.counters["connect_failures"] += 1
            self._note(f"broker {self.section.host}:{self.section.port} refused the connection: {reason_code}; "
                       f"check [mqtt] username/password and the broker's ACL")
            log.error("mqtt: %s", self.last_error)
            return
        self._connections += 1
        if self._connections > 1:
            self.counters["reconnects"] += 1
        self._connected, self._connected_at = True, time.time()
        self._takeover.connected(time.monotonic())
        self._stable_at = time.monotonic() + STABLE_AFTER_S
        log.info("mqtt: connected to %s:%d, session %d", self.section.host, self.section.port, self._session)
        client.subscribe([(self.topics.commands, 1), (self.topics.planogram, 1)])
        self._announce()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                       properties: Any) -> None:
        was_connected, self._connected = self._connected, False
        where = f"{self.section.host}:{self.section.port}"
        if self._stop.is_set():
            log.info("mqtt: disconnected from %s (stopping)", where)
            return
        if not was_connected:
            return
        inflight = self.delivery.inflight
        evidence = self._takeover.closed(reason_code.value, str(reason_code), inflight, time.monotonic())
        if evidence is not None:
            why = (f"another client with client_id {self.client_id} took over; is a second node configured as "
                   f"{self.topics.store}/{self.topics.node}? ({evidence})")
            self._note(why)
            log.error("mqtt: %s; waiting %g s or more before taking the connection back", why,
                      self._takeover.backoff.minimum)
        elif inflight:
            log.warning("mqtt: disconnected from %s (%s) with %d event(s) in flight; they are re-sent on reconnect "
                        "(if this repeats, check that the broker ACL lets this node publish events)",
                        where, reason_code, inflight)
        else:
            log.warning("mqtt: disconnected from %s (%s); reconnecting", where, reason_code)

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason_code: ReasonCode,
                    properties: Any) -> None:
        if not self.delivery.is_event(mid):
            if reason_code.is_failure:
                log.error("mqtt: broker refused a status/response message: %s", reason_code)
            return
        if not reason_code.is_failure:
            self.delivery.acknowledged(mid)
            return
        seq = self.delivery.refused(mid, str(reason_code))
        self._note(f"broker refused event seq {seq} on {self.topics.events}: {reason_code}")
        log.error("mqtt: %s; kept in the outbox as rejected (see 'shelf-node outbox export'); check the broker "
                  "ACL for this node's user", self.last_error)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic == self.topics.planogram:
            self.inbound.submit(PLANOGRAM, bytes(message.payload))
            return
        name = self.topics.command_name(message.topic)
        if name is not None:
            self.inbound.submit(name, bytes(message.payload))

    def _respond(self, name: str, response: dict[str, Any]) -> None:
        """From the inbound worker: hand the response to the network thread, the only one that touches
        the socket (paho writes directly from the calling thread when no loop_start thread exists)."""
        self._responses.put((self.topics.response(name), envelope.encode(response)))
        self._loop.wake()

    def request_rebirth(self) -> None:
        """Publish status and birth again soon (from any thread): what the birth says has changed."""
        self._rebirth = True
        self._loop.wake()

    def _cmd_rebirth(self, params: dict[str, Any]) -> dict[str, Any]:
        self.request_rebirth()
        return {"session": self._session}

    def _note(self, message: str) -> None:
        self.last_error = message
        try:
            self.outbox.note_error(message)
        except OutboxError as exc:
            log.error("mqtt: cannot record last error in the outbox: %s", exc)
