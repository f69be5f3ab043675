"""Topic names of the contract, all under `<prefix>/<store_id>/<node_id>/` (see docs/mqtt.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    store: str
    node: str

    @property
    def root(self) -> str:
        return f"{self.prefix}/{self.store}/{self.node}"

    @property
    def status(self) -> str:
        return f"{self.root}/status"

    @property
    def birth(self) -> str:
        return f"{self.root}/birth"

    @property
    def events(self) -> str:
        return f"{self.root}/events"

    @property
    def stats(self) -> str:
        return f"{self.root}/stats"

    @property
    def weights(self) -> str:
        return f"{self.root}/weights"

    @property
    def planogram(self) -> str:
        return f"{self.root}/planogram"

    @property
    def commands(self) -> str:
        """Subscription filter for every inbound command."""
        return f"{self.root}/cmd/+"

    def response(self, name: str) -> str:
        return f"{self.root}/resp/{name}"

    def command_name(self, topic: str) -> str | None:
        """`<root>/cmd/<name>` -> name, else None."""
        head = f"{self.root}/cmd/"
        if topic.startswith(head) and "/" not in topic[len(head):]:
            return topic[len(head):]
        return None


def split_node_topic(topic: str) -> tuple[str, str, str, str] | None:
    """`<prefix>/<store>/<node>/<rest...>` -> (prefix, store, node, rest) or None (hub side)."""
    parts = topic.split("/", 3)
    if len(parts) != 4 or not all(parts):
        return None
    return parts[0], parts[1], parts[2], parts[3]
