"""`shelf-node mqtt check`'s steps: the broker as the node would reach it, one step at a time, each failure
said in plain words with what to do. DNS, TCP, TLS, MQTT connect (authentication), then a message
round-tripped on the node's own check topic `<prefix>/<store>/<node>/check` (the ACL)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from edge.config import NodeConfig
from edge.config.mqtt import MqttSection
from edge.config.secrets import read_secret
from edge.errors import SecretError
from edge.mqtt.connection import connect_kwargs, make_client
from edge.mqtt.topics import Topics

# OpenSSL verify codes worth their own sentence
X509_EXPIRED, X509_HOSTNAME_MISMATCH, X509_IP_MISMATCH = 10, 62, 64
NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87 (3.1.1 CONNACK 5 maps to it)
BAD_CREDENTIALS = 134  # 0x86 (3.1.1 CONNACK 4)


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


class _Failed(Exception):
    def __init__(self, step: Step) -> None:
        super().__init__(step.detail)
        self.step = step


def check_broker(config: NodeConfig, timeout_s: float = 10.0) -> list[Step]:
    """Every step up to and including the first failure."""
    section = config.mqtt
    topics = Topics(section.topic_prefix, config.node.store_id, config.node.node_id)
    steps: list[Step] = []
    try:
        for run in (_secret, _dns, _tcp, _tls):
            step = run(section, timeout_s)
            if step is not None:
                steps.append(step)
        steps.extend(_mqtt(section, topics, timeout_s))
    except _Failed as failed:
        steps.append(failed.step)
    return steps


def _secret(section: MqttSection, timeout_s: float) -> Step | None:
    if section.username is None:
        return Step("credentials", True, "no [mqtt] username: connecting anonymously")
    if section.password is None:
        return Step("credentials", True, f"user {section.username}, no password")
    try:
        read_secret(section.password)
    except SecretError as exc:
        raise _Failed(Step("credentials", False, str(exc), "fix the secret file, or run as the user that can "
                                                          "read it (sudo)")) from None
    return Step("credentials", True, f"user {section.username}, password read from {section.password}")


def _dns(section: MqttSection, timeout_s: float) -> Step:
    try:
        infos = socket.getaddrinfo(section.host, section.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _Failed(Step("dns", False, f"the broker's host name {section.host!r} does not resolve "
                                         f"({exc.strerror})",
                           f"check [mqtt] host; try: getent hosts {section.host}; check the node's DNS "
                           f"(resolvectl status or /etc/resolv.conf)")) from None
    addresses = sorted({str(info[4][0]) for info in infos})
    return Step("dns", True, f"{section.host} is {', '.join(addresses)}")


def _tcp(section: MqttSection, timeout_s: float) -> Step:
    where = f"{section.host}:{section.port}"
    try:
        with socket.create_connection((section.host, section.port), timeout=timeout_s):
            pass
    except ConnectionRefusedError:
        raise _Failed(Step("tcp", False, f"{where} refused the connection: nothing listens on that port",
                           "is the broker running (systemctl status mosquitto on the hub)? is [mqtt] port right "
                           "(usually 8883 with TLS, 1883 without)?")) from None
    except TimeoutError:
        raise _Failed(Step("tcp", False, f"{where} did not answer within {timeout_s:g} s",
                           "check the network path and firewalls between this node and the broker")) from None
    except OSError as exc:
        unreachable = exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
        raise _Failed(Step("tcp", False, f"cannot reach {where}: {exc.strerror or exc}",
                           "check the node's network (ip route; ping the hub)" if unreachable else
                           "check [mqtt] host and port")) from None
    return Step("tcp", True, f"{where} accepts connections")


def _tls_context(section: MqttSection) -> ssl.SSLContext:
    assert section.tls is not None
    context = ssl.create_default_context(cafile=str(section.tls.ca_file) if section.tls.ca_file else None)
    if section.tls.cert_file and section.tls.key_file:
        context.load_cert_chain(str(section.tls.cert_file), str(section.tls.key_file))
    return context


def _tls(section: MqttSection, timeout_s: float) -> Step | None:
    if section.tls is None:
        return None
    where = f"{section.host}:{section.port}"
    try:
        context = _tls_context(section)
        with socket.create_connection((section.host, section.port), timeout=timeout_s) as raw, \
                context.wrap_socket(raw, server_hostname=section.host) as tls:
            version = tls.version()
            # TLS 1.3 reports a refused client certificate only on the first read
            tls.settimeout(0.5)
            with contextlib.suppress(TimeoutError):
                tls.recv(1)
    except ssl.SSLCertVerificationError as exc:
        raise _Failed(_certificate_problem(section, exc)) from None
    except ssl.SSLError as exc:
        raise _Failed(_handshake_problem(section, exc)) from None
    except (OSError, ValueError) as exc:
        raise _Failed(Step("tls", False, f"TLS with {where} failed: {exc}",
                           "check the [mqtt.tls] files (PEM, readable)")) from None
    return Step("tls", True, f"{version} with {where}, certificate trusted and issued for {section.host}")


def _certificate_problem(section: MqttSection, exc: ssl.SSLCertVerificationError) -> Step:
    code, said = exc.verify_code, exc.verify_message
    if code in (X509_HOSTNAME_MISMATCH, X509_IP_MISMATCH):
        return Step("tls", False, f"the broker's certificate is not issued for {section.host!r} ({said})",
                    f"set [mqtt] host to a name the certificate lists, or reissue it with {section.host} in its "
                    f"subjectAltName")
    if code == X509_EXPIRED:
        return Step("tls", False, f"the broker's certificate has expired ({said})",
                    "renew the broker's certificate; check the node's clock too (timedatectl)")
    return Step("tls", False, f"the broker's certificate is not trusted: {said}",
                "set [mqtt.tls] ca_file to the CA that signed the broker's certificate")


def _handshake_problem(section: MqttSection, exc: ssl.SSLError) -> Step:
    reason = str(exc.reason or exc)
    lowered = reason.lower().replace("_", " ")
    if "wrong version" in lowered or "record layer" in lowered:
        return Step("tls", False, f"{section.host}:{section.port} does not speak TLS ({reason})",
                    "use the broker's TLS port (usually 8883) or remove [mqtt.tls]")
    if "certificate required" in lowered or "handshake failure" in lowered or "unknown ca" in lowered:
        return Step("tls", False, f"the broker refused this node's client certificate ({reason})",
                    "set [mqtt.tls] cert_file and key_file to a certificate signed by the CA the broker trusts")
    return Step("tls", False, f"TLS handshake with {section.host}:{section.port} failed ({reason})",
                "check the [mqtt.tls] files and the broker's TLS settings")


class _Session:
    """The paho callbacks of one check connection, as events."""

    def __init__(self, topic: str, nonce: bytes) -> None:
        self.topic, self.nonce = topic, nonce
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.published = threading.Event()
        self.received = threading.Event()
        self.closed = threading.Event()
        self.connect_code: Any = None
        self.suback_codes: list[Any] = []
        self.puback_code: Any = None
        self.close_reason: Any = None

    def on_connect(self, client: paho.Client, userdata: Any, flags: Any, code: Any, properties: Any) -> None:
        self.connect_code = code
        self.connected.set()

    def on_subscribe(self, client: paho.Client, userdata: Any, mid: int, codes: Any, properties: Any) -> None:
        self.suback_codes = list(codes)
        self.subscribed.set()

    def on_publish(self, client: paho.Client, userdata: Any, mid: int, code: Any, properties: Any) -> None:
        self.puback_code = code
        self.published.set()

    def on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic == self.topic and message.payload == self.nonce:
            self.received.set()

    def on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, code: Any, properties: Any) -> None:
        self.close_reason = code
        self.closed.set()
        self.connected.set()  # wake a waiter: no CONNACK is coming


def _mqtt(section: MqttSection, topics: Topics, timeout_s: float) -> list[Step]:
    client_id = f"{section.client_id or f'{topics.prefix}-{topics.store}-{topics.node}'}-check-{os.getpid()}"
    topic = f"{topics.root}/check"
    nonce = secrets.token_hex(8).encode()
    session = _Session(topic, nonce)
    client = make_client(section, client_id)
    client.on_connect, client.on_subscribe = session.on_connect, session.on_subscribe
    client.on_publish, client.on_message = session.on_publish, session.on_message
    client.on_disconnect = session.on_disconnect
    user = section.username or "(anonymous)"
    started = time.monotonic()
    try:
        client.connect(**connect_kwargs(section))
    except (OSError, ssl.SSLError) as exc:
        raise _Failed(Step("connect", False, f"MQTT connection failed: {exc}", "run the check again; see the "
                                                                                 "tcp and tls steps")) from None
    client.loop_start()
    try:
        return [_connected(section, session, user, client_id, timeout_s),
                _round_trip(client, session, topic, nonce, user, timeout_s, started)]
    finally:
        client.disconnect()
        client.loop_stop()


def _connected(section: MqttSection, session: _Session, user: str, client_id: str, timeout_s: float) -> Step:
    if not session.connected.wait(timeout_s):
        raise _Failed(Step("connect", False, f"no MQTT answer (CONNACK) within {timeout_s:g} s",
                           "is this port an MQTT listener? with TLS on the broker, add [mqtt.tls]"))
    code = session.connect_code
    if code is None:
        raise _Failed(Step("connect", False, f"the broker closed the connection before answering "
                                             f"({session.close_reason})",
                           "a TLS-only listener closes plain connections: add [mqtt.tls]; or the broker "
                           "refuses this client id or protocol (check its log)"))
    if code.is_failure:
        if code.value in (BAD_CREDENTIALS, NOT_AUTHORIZED):  # mosquitto says "not authorized" for a bad password
            raise _Failed(Step("auth", False, f"the broker refused user {user}: wrong user name or password, or "
                                              f"the user may not connect ({code})",
                               "check [mqtt] username and the password file; on the broker: mosquitto_passwd "
                               "-b <password_file> <user> <password>, and allow_anonymous for no user"))
        raise _Failed(Step("auth", False, f"the broker refused the connection: {code}", "see the broker's log"))
    return Step("connect", True, f"MQTT {section.protocol} session as {user} (client id {client_id})")


def _round_trip(client: paho.Client, session: _Session, topic: str, nonce: bytes, user: str, timeout_s: float,
                started: float) -> Step:
    grant = f"topic readwrite {topic} (or <prefix>/<store>/<node>/#) for user {user} in the broker's acl_file"
    client.subscribe(topic, qos=1)
    if not session.subscribed.wait(timeout_s):
        raise _Failed(Step("acl", False, f"no answer to the subscription to {topic}", f"check the ACL: {grant}"))
    if any(getattr(code, "is_failure", False) for code in session.suback_codes):
        raise _Failed(Step("acl", False, f"the broker does not let {user} subscribe to {topic} "
                                         f"({session.suback_codes[0]})", f"grant it: {grant}"))
    client.publish(topic, nonce, qos=1)
    if not session.published.wait(timeout_s) or session.closed.is_set():
        raise _Failed(Step("acl", False, f"the broker closed the connection on a publish to {topic} "
                                         f"({session.close_reason}): it does not let {user} write there",
                           f"grant it: {grant}"))
    if getattr(session.puback_code, "is_failure", False):
        raise _Failed(Step("acl", False, f"the broker refused a publish to {topic} ({session.puback_code})",
                           f"grant it: {grant}"))
    if not session.received.wait(timeout_s):
        raise _Failed(Step("acl", False, f"the message published to {topic} did not come back within "
                                         f"{timeout_s:g} s: the ACL lets {user} write or read there, not both",
                           f"grant it: {grant}"))
    elapsed_ms = (time.monotonic() - started) * 1000
    return Step("round_trip", True, f"a message on {topic} came back ({elapsed_ms:.0f} ms from connect)")
