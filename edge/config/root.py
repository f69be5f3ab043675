"""The whole config file: one field per section, cross-section checks."""

from __future__ import annotations

from pydantic import Field, model_validator

from edge.config.base import KeyProblem, KeyProblems, Section
from edge.config.camera import CameraSection
from edge.config.detector import DetectorSection
from edge.config.fusion import FusionSection
from edge.config.gallery import GallerySection
from edge.config.gpio import GpioSection
from edge.config.health import HealthSection
from edge.config.messages import render_value
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
    fusion: FusionSection = FusionSection()
    gpio: GpioSection | None = None
    health: HealthSection = HealthSection()
    gallery: GallerySection = GallerySection()

    @model_validator(mode="after")
    def _plates_fit_channels(self) -> NodeConfig:
        problems: list[KeyProblem] = []
        first_with_name: dict[str, int] = {}
        owner: dict[int, int] = {}
        last = self.serial.channels - 1
        for index, plate in enumerate(self.plates):
            if plate.name in first_with_name:
                problems.append(KeyProblem(
                    ("plates", index, "name"),
                    f"plate name is used twice (also plates[{first_with_name[plate.name]}]); give each plate its own",
                    plate.name,
                ))
            first_with_name.setdefault(plate.name, index)
            for position, channel in enumerate(plate.channels):
                if not 0 <= channel <= last:
                    message = f"channel {channel} does not exist (serial.channels = {last + 1}, so 0..{last})"
                elif channel in plate.channels[:position]:
                    message = f"channel {channel} is listed twice"
                elif channel in owner:
                    other = owner[channel]
                    message = (f"channel {channel} already belongs to plate {render_value(self.plates[other].name)} "
                               f"(plates[{other}]); a load cell belongs to one plate")
                else:
                    owner[channel] = index
                    continue
                problems.append(KeyProblem(("plates", index, "channels"), message, plate.channels))
        if problems:
            raise KeyProblems(problems)
        return self

    def plate_names(self) -> list[str]:
        return [plate.name for plate in self.plates]
