"""HubWatcher.subscribed: set by the broker's SUBACK (so a test or tool waiting on it misses nothing published
after), cleared while the broker is gone, set again by the re-subscription after the reconnect."""

from __future__ import annotations

from edge.hub.watcher import HubWatcher, hub_section
from tests.mqtt.live import send
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


def test_subscribed_follows_the_subackd_subscription(broker: Broker) -> None:
    watcher = HubWatcher(hub_section(port=broker.port), client_id="test-subscribed")
    watcher.start()
    try:
        assert watcher.subscribed.wait(10)
        send(broker.port, "shelf/s1/n1/status", b'{"nope": 1}')  # invalid, but tracked: it arrived
        assert wait_until(lambda: watcher.tracker.nodes.get(("s1", "n1")) is not None, 5)
        broker.kill()
        assert wait_until(lambda: not watcher.subscribed.is_set(), 10)
        broker.start()
        assert watcher.subscribed.wait(15)
    finally:
        watcher.stop()
