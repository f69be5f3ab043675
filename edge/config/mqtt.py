"""[mqtt]: broker connection, topics, rates and command policy. (Owner: MQTT.)"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from edge.config.base import KeyProblem, KeyProblems, Section, problem_at, worded_pattern
from edge.config.secrets import validate_secret_reference

# A topic level we build topics from: no wildcards, no separators, not empty.
TOPIC_LEVEL = worded_pattern(r"^[^/#+\s]{1,64}$", "1-64 characters without '/', '#', '+' or spaces")


class MqttTlsSection(Section):
    """[mqtt.tls]: present = connect with TLS. ca_file verifies the broker; cert+key = mutual TLS."""

    ca_file: Path | None = Field(default=None, description="CA bundle that signed the broker's certificate.")
    cert_file: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    key_file: Path | None = Field(default=None, description="Client private key (PEM) for mutual TLS.")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> MqttTlsSection:
        if (self.cert_file is None) != (self.key_file is None):
            missing = "key_file" if self.key_file is None else "cert_file"
            raise problem_at(missing, "is missing: mutual TLS needs cert_file and key_file; set both or neither")
        return self


class MqttSection(Section):
    host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    port: int = Field(default=1883, gt=0, lt=65536, description="Broker port (8883 is usual with TLS).")
    topic_prefix: str = Field(default="shelf", pattern=TOPIC_LEVEL, description="First topic level.")
    protocol: Literal["3.1.1", "5"] = Field(default="5", description="MQTT protocol version.")
    client_id: str | None = Field(default=None, description="Unset: '<topic_prefix>-<store_id>-<node_id>'.")
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive in seconds.")
    username: str | None = Field(default=None, description="Broker user name, if the broker wants one.")
    password: str | None = Field(
        default=None, description="Secret reference: 'file:/path' or 'credential:NAME' (never inline)."
    )
    tls: MqttTlsSection | None = Field(default=None, description="TLS settings; absent = plain TCP.")
    reconnect_min_s: float = Field(default=0.5, gt=0, le=60, description="First reconnect delay (jittered).")
    reconnect_max_s: float = Field(default=30.0, gt=0, le=600, description="Longest reconnect delay.")
    inflight_window: int = Field(
        default=16, ge=1, le=1000, description="Events published but not yet acknowledged, at most."
    )
    replay_rate: float = Field(
        default=200.0, gt=0, description="Events/s at most when replaying a backlog after an outage."
    )
    stats_interval_s: float = Field(default=60.0, ge=1, description="Seconds between stats messages.")
    weights_enabled: bool = Field(default=False, description="Publish live plate weights (QoS 0).")
    weights_min_interval_s: float = Field(default=1.0, ge=0.05, description="Rate limit for live weights.")
    allow_state_commands: bool = Field(
        default=False, description="Accept commands that change state (tare, calibrate) from the hub."
    )
    max_command_bytes: int = Field(default=16384, ge=256, le=1048576, description="Larger commands refused.")
    stop_timeout_s: float = Field(default=5.0, gt=0, le=60, description="Wait this long for 'stopped' PUBACK.")

    @field_validator("password")
    @classmethod
    def _password_is_reference(cls, value: str | None) -> str | None:
        return validate_secret_reference(value)

    @model_validator(mode="after")
    def _consistent(self) -> MqttSection:
        problems = []
        if self.password is not None and self.username is None:
            problems.append(KeyProblem(("username",), "is missing but mqtt.password is set; set the broker user name"))
        if self.reconnect_max_s < self.reconnect_min_s:
            problems.append(KeyProblem(
                ("reconnect_max_s",), f"must be at least reconnect_min_s ({self.reconnect_min_s:g})",
                self.reconnect_max_s,
            ))
        if problems:
            raise KeyProblems(problems)
        return self
