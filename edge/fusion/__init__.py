"""Fusion: weight events + camera evidence + planogram -> item events (which SKU, how many, how sure).

Pure: no I/O, the clock passed in. See docs/fusion.md.
"""

from edge.fusion.encode import item_event_to_dict
from edge.fusion.settings import FusionSettings
from edge.fusion.stage import FusionStage, FusionStatus

__all__ = ["FusionSettings", "FusionStage", "FusionStatus", "item_event_to_dict"]
