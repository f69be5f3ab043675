"""Weighing: calibration and its persistence, glitch filter, stability, zero tracking and
weight events (pure: no I/O except the calibration file). See docs/weighing.md."""

from edge.weighing.calibration import Calibration, ChannelCalibration, PlateFit, fit_plate
from edge.weighing.events import weight_event_to_dict
from edge.weighing.store import CalibrationStore
from edge.weighing.weigher import Weigher

__all__ = [
    "Calibration",
    "CalibrationStore",
    "ChannelCalibration",
    "PlateFit",
    "Weigher",
    "fit_plate",
    "weight_event_to_dict",
]
