"""kill -9 the publishing process between writing and acknowledging; the restarted node loses nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from edge.outbox import Outbox
from tests.mqtt.live import hub_watcher, records
from tests.mqtt.nodecfg import NODE, STORE, write_config
from tests.plugins.broker import Broker

REPO = Path(__file__).resolve().parents[2]


def publisher(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "edge", "demo", "publish", "--config", str(config), *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_minus_9_between_write_and_ack_loses_nothing(tmp_path: Path, broker: Broker) -> None:
    slow = write_config(tmp_path, broker.port, mqtt={"replay_rate": 50.0, "inflight_window": 4}, name="slow.toml")
    fast = write_config(tmp_path, broker.port, mqtt={"replay_rate": 2000.0}, name="fast.toml")
    with hub_watcher(broker.port, client_id="hub-kill9") as hub:
        # 1. a backlog recorded while the node had no link
        offline = publisher(slow, "--count", "100", "--no-link")
        assert offline.wait(timeout=60) == 0, offline.stderr.read() if offline.stderr else ""
        # 2. online again: the backlog drains at 50/s while new events keep coming; kill -9 mid-way
        victim = publisher(slow, "--count", "400", "--rate", "300")
        assert victim.stdout is not None
        for line in victim.stdout:
            if line.strip() == "appended 250":
                break
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        victim.stdout.close()
        if victim.stderr:
            victim.stderr.close()
        box = Outbox(tmp_path / "state" / "outbox.sqlite3")
        at_kill = box.status()
        box.close()
        assert at_kill.depth > 0, "nothing was pending at the kill: the test did not exercise the window"
        appended = at_kill.last_seq
        assert appended >= 250
        # 3. restart: replays everything still unacknowledged, then stops cleanly
        restart = publisher(fast, "--until-drained", "30")
        out, err = restart.communicate(timeout=60)
        assert restart.returncode == 0 and "drained" in out.splitlines(), err[-2000:]
        node = (STORE, NODE)
        assert hub.wait_for(lambda t: t.nodes[node].last_seq == appended and not t.nodes[node].missing,
                            timeout=15), hub.tracker.summary()
        assert hub.wait_for(lambda t: t.nodes[node].state == "stopped", timeout=10)
    by_seq: dict[int, set[str]] = {}
    for record in records(hub, "event"):
        by_seq.setdefault(record.payload["seq"], set()).add(record.payload["event_id"])
    assert sorted(by_seq) == list(range(1, appended + 1))
    assert all(len(ids) == 1 for ids in by_seq.values())
    statuses = [(r.payload["state"], r.payload["session"]) for r in records(hub, "status")]
    # the killed process's Will says offline with its own session; the restart is a newer session
    assert ("offline", 1) in statuses and statuses[-1] == ("stopped", 2), statuses
    assert all(r.valid for r in hub.records)
