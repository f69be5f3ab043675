"""The node: wiring of the pipeline from config (serial -> weighing -> vision -> outbox -> MQTT), its
threads and commands, and replay as the same composition over a capture file."""

from edge.node.node import Node

__all__ = ["Node"]
