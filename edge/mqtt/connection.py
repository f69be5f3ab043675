"""Build a configured paho-mqtt 2.x client (callback API v2): protocol, auth, TLS; reconnect backoff."""

from __future__ import annotations

import random
import ssl
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config.mqtt import MqttSection
from edge.config.secrets import read_secret
from edge.errors import ConfigError

PERSISTENT_SESSION_EXPIRY_S = 0xFFFFFFFF  # MQTT 5: the session never expires, as 3.1.1 clean_session=False


def make_client(section: MqttSection, client_id: str, persistent_session: bool = False) -> paho.Client:
    """The one paho client construction for the node's link and the hub watcher: protocol, auth, TLS.

    The node asks for a clean session (its outbox owns delivery state); the hub watcher asks for a
    persistent one, so the broker queues QoS 1 messages while it is away. Connect with
    `connect_kwargs(section, persistent_session)`. Raises SecretError if the password cannot be read.
    """
    protocol = paho.MQTTv5 if section.protocol == "5" else paho.MQTTv311
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=protocol,
        # MQTT 3.1.1 sets the session kind here; MQTT 5 at connect (clean_start, session expiry)
        clean_session=not persistent_session if protocol == paho.MQTTv311 else None,
    )
    if section.username is not None:
        password = read_secret(section.password) if section.password else None
        client.username_pw_set(section.username, password)
    if section.tls is not None:
        _set_tls(client, section)
    # used only by loop_start() (the hub watcher); the node's link runs its own jittered Backoff
    client.reconnect_delay_set(max(1, round(section.reconnect_min_s)), max(1, round(section.reconnect_max_s)))
    return client


def _set_tls(client: paho.Client, section: MqttSection) -> None:
    """TLS from [mqtt.tls]; a file that is missing, unreadable or not PEM is a ConfigError naming the key."""
    tls = section.tls
    assert tls is not None
    try:
        client.tls_set(
            ca_certs=str(tls.ca_file) if tls.ca_file else None,
            certfile=str(tls.cert_file) if tls.cert_file else None,
            keyfile=str(tls.key_file) if tls.key_file else None,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; named for the reader
        files = ", ".join(f"{key} = {path}" for key, path in
                          (("ca_file", tls.ca_file), ("cert_file", tls.cert_file), ("key_file", tls.key_file)) if path)
        raise ConfigError(f"mqtt.tls: cannot load the TLS files ({files}): {exc}; check that they exist, are "
                          f"readable by the service user and are PEM (`shelf-node config check` names which)") from exc


def connect_kwargs(section: MqttSection, persistent_session: bool = False) -> dict[str, Any]:
    """Arguments for connect()/connect_async() that go with make_client(section, ..., persistent_session)."""
    kwargs: dict[str, Any] = {"host": section.host, "port": section.port, "keepalive": section.keepalive_s}
    if section.protocol == "5":
        kwargs["clean_start"] = not persistent_session
        if persistent_session:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = PERSISTENT_SESSION_EXPIRY_S
            kwargs["properties"] = properties
    return kwargs


def connect_failure_hint(section: MqttSection, exc: BaseException) -> str:
    """One line that says why a connection attempt failed and what to check."""
    where = f"{section.host}:{section.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"TLS: broker {where} certificate not trusted ({exc.verify_message}); "
                f"check [mqtt.tls] ca_file and the broker's host name")
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc}); check [mqtt.tls] files and broker TLS"
    if isinstance(exc, ConnectionRefusedError):
        return f"broker {where} refused the TCP connection; is it running and listening on that port?"
    if isinstance(exc, TimeoutError):
        return f"broker {where} did not answer in time; check the network and [mqtt] host/port"
    return f"cannot reach broker {where}: {exc}; check the network and [mqtt] host/port"


class Backoff:
    """Exponential reconnect delay with full jitter, so a store full of nodes does not reconnect in step."""

    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self._attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.minimum * (2 ** self._attempt))
        self._attempt = min(self._attempt + 1, 30)
        return self._rng.uniform(self.minimum, max(self.minimum, ceiling))

    def reset(self) -> None:
        self._attempt = 0
