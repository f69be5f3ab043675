"""The whole config file: one field per section, cross-section checks."""

from __future__ import annotations

from pydantic import Field, model_validator

from edge.config.base import Section
from edge.config.camera import CameraSection
from edge.config.detector import DetectorSection
from edge.config.mqtt import MqttSection
from edge.config.node import NodeSection
from edge.config.outbox import OutboxSection
from edge.config.plates import PlateSection
from edge.config.serial import SerialSection
from edge.config.weighing import WeighingSection


class NodeConfig(Section):
    node: NodeSection
    serial: SerialSection
    plates: list[PlateSection] = Field(min_length=1)
    weighing: WeighingSection = WeighingSection()
    mqtt: MqttSection = MqttSection()
    outbox: OutboxSection = OutboxSection()
    camera: CameraSection | None = None
    detector: DetectorSection | None = None

    @model_validator(mode="after")
    def _plates_fit_channels(self) -> NodeConfig:
        problems: list[str] = []
        seen_names: set[str] = set()
        owner: dict[int, str] = {}
        for index, plate in enumerate(self.plates):
            if plate.name in seen_names:
                problems.append(f"plates[{index}].name: plate name {plate.name!r} is used twice")
            seen_names.add(plate.name)
            for channel in plate.channels:
                if not 0 <= channel < self.serial.channels:
                    problems.append(
                        f"plates[{index}].channels: channel {channel} does not exist "
                        f"(serial.channels = {self.serial.channels}, so 0..{self.serial.channels - 1})"
                    )
                elif channel in owner:
                    problems.append(
                        f"plates[{index}].channels: channel {channel} already belongs to plate "
                        f"{owner[channel]!r}"
                    )
                else:
                    owner[channel] = plate.name
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def plate_names(self) -> list[str]:
        return [plate.name for plate in self.plates]
