"""[mqtt]: broker connection and topics. (Owner: MQTT.)"""

from __future__ import annotations

from pydantic import Field

from edge.config.base import Section


class MqttSection(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, gt=0, lt=65536)
    topic_prefix: str = "shelf"
