"""The daemon end to end for a reviewer: a real mosquitto, the simulator's shelf on a pty, its rendered camera
as a live frame directory, and a planogram whose plate p2 holds two SKUs of the same weight and the same
labels (the camera can never split them). A pick from p2 reaches the hub as an item event flagged `twin`,
valid against the schema, carrying the weigher's trace and the ids of its review pictures; the hub fetches
each picture with `cmd/snapshot`; `shelf-node review show` on the node's state writes the review card."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.broker import LocalBroker, mosquitto_available
from edge.demo.setup import add_camera, install_factory_calibration, write_node_config
from edge.hub.watcher import HubWatcher, hub_section
from edge.hw.canvas import decode_picture
from edge.mqtt.topics import Topics
from edge.sim.camera import LiveFrames, camera_for
from edge.sim.camera.view import HEIGHT, WIDTH
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document
from edge.sim.pty_shelf import PtyShelf
from tests.mqtt.live import records, send
from tests.node.shelves import quiet_scenario
from tests.node.test_daemon_items import events_of, planogram_applied, weighing_settled
from tests.plugins.waiting import wait_until

needs_mosquitto = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")
SEED = 6
TWIN = "olive-oil-750-b"


def twin_planogram(document: dict[str, Any]) -> dict[str, Any]:
    """The scenario's planogram with a look-alike of p2's SKU beside it: same grams, spread and labels."""
    (slot,) = document["plates"]["p2"]
    original = next(item for item in document["catalogue"] if item["sku"] == slot["sku"])
    document["catalogue"].append({**original, "sku": TWIN, "name": "olive oil 750 (other brand)"})
    document["plates"]["p2"].append({"sku": TWIN, "stock": 3, "facings": 1})
    return document


def snapshot_answers(watcher: HubWatcher) -> dict[str, dict[str, Any]]:
    """transaction -> the node's answer on resp/snapshot."""
    return {str(r.payload["transaction"]): r.payload for r in records(watcher, "resp")
            if r.payload and r.payload.get("command") == "snapshot" and r.payload.get("transaction") is not None}


@needs_mosquitto
def test_a_flagged_twin_reaches_the_hub_with_its_pictures_and_review_show_draws_its_card(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker").start()
    frames = tmp_path / "frames"
    config_path, _ = write_node_config(tmp_path, broker.port)
    config = add_camera(config_path, frames, model_dir=None)  # as `shelf-node demo --camera`; no detector:
    # the twin has no label to see
    layout = ShelfLayout.from_config(config, seed=SEED)
    install_factory_calibration(config, layout)
    quiet = quiet_scenario(SEED, layout)
    topics = Topics(config.mqtt.topic_prefix, config.node.store_id, config.node.node_id)
    send(broker.port, topics.planogram, json.dumps(twin_planogram(planogram_document(quiet))), retain=True)
    watcher = HubWatcher(hub_section(port=broker.port), client_id="test-hub")
    node_log = tmp_path / "node.log"
    daemon: subprocess.Popen[bytes] | None = None
    camera: LiveFrames | None = None
    with PtyShelf(quiet, layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        try:
            # the shelf's camera, live: the quiet shelf until the pick, then the pick itself (a hand lifting
            # a bottle off p2), each frame written at its time as <unix ms>.jpg (plain packs, no photos)
            camera = LiveFrames(camera_for(quiet, [], config.plates, images=None), frames, time.time() + 300).start()
            watcher.start()
            daemon = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                       "--socket", str(tmp_path / "control.sock")],
                                      stdout=node_log.open("wb"), stderr=subprocess.STDOUT)
            assert wait_until(lambda: planogram_applied(watcher), 60, step=0.2), node_log.read_text()[-3000:]
            assert wait_until(lambda: weighing_settled(tmp_path / "control.sock"), 30, step=0.2), \
                node_log.read_text()[-3000:]
            truth = shelf.pick("p2")
            camera.stop()
            camera = LiveFrames(camera_for(quiet, [truth], config.plates, images=None), frames,
                                time.time() + 300).start()
            assert wait_until(lambda: bool(events_of(watcher, "item")), 30, step=0.2), node_log.read_text()[-3000:]
            (item,) = events_of(watcher, "item")
            body: dict[str, Any] = item["body"]  # type: ignore[assignment]
            ids = body["evidence"].get("review_snapshots", {}).get("p2") or {}
            for kind, snapshot_id in ids.items():  # the hub fetches every picture the event names
                if snapshot_id is not None:
                    send(broker.port, f"{topics.root}/cmd/snapshot",
                         json.dumps({"transaction": kind, "params": {"event_snapshot": snapshot_id}}))
            wanted = {kind for kind, snapshot_id in ids.items() if snapshot_id is not None}
            assert wait_until(lambda: wanted <= set(snapshot_answers(watcher)), 20, step=0.2), \
                snapshot_answers(watcher)
            assert wait_until(lambda: any((config.node.state_dir / "review").glob(f"*-{item['event_id']}.json")),
                              10, step=0.2)
        finally:
            if camera is not None:
                camera.stop()
            if daemon is not None:
                daemon.terminate()
                daemon.wait(20)
            watcher.stop()
            broker.stop()
    (node,) = watcher.tracker.nodes.values()
    assert node.invalid == 0  # every payload, the flagged item event's too, valid against the shipped schemas

    # the event: a pick from p2 of one of the two look-alikes, flagged twin, the other its alternative
    assert body["action"] == "pick" and body["review"]["required"] and "twin" in body["review"]["reasons"]
    named = {line["sku"] for option in [body, *body["alternatives"]] for line in option["lines"]}
    assert {truth.sku, TWIN} <= named
    # the weigher's trace: p2 before (its stock), during, and after (one bottle less)
    points = body["evidence"]["trace_g"]["p2"]
    assert 10 <= len(points) <= 64 and points[0][0] < 0 <= points[-1][0]
    drop = np.median([g for t, g in points[:5]]) - np.median([g for t, g in points[-5:]])
    assert drop == pytest.approx(-body["evidence"]["plates"]["p2"]["delta_g"], abs=15)

    # the pictures, as the hub received them: JPEGs; the plate crops are the size of p2's region (+ margins)
    assert {"best", "before", "after"} <= {kind for kind, sid in ids.items() if sid is not None}
    # ... of the pick: "best" (no label to see) is a frame from during the change (an id starts with its frame's
    # unix ms; when the frames reached the node seconds late, all three were one frame from before the pick)
    best_s = int(str(ids["best"]).split("-")[0]) / 1000
    assert body["t_start_unix"] <= best_s <= body["t_end_unix"], (best_s, body["t_start_unix"], body["t_end_unix"])
    answers = snapshot_answers(watcher)
    for kind in ("best", "before", "after"):
        answer = answers[kind]
        assert answer["ok"], answer
        jpeg = base64.b64decode(answer["result"]["jpeg_base64"])
        assert jpeg[:2] == b"\xff\xd8" and answer["result"]["id"] == ids[kind]
    best, before = (decode_picture(base64.b64decode(answers[kind]["result"]["jpeg_base64"]), kind)
                    for kind in ("best", "before"))
    assert best.shape[:2] == (HEIGHT, WIDTH)  # the whole rendered view
    assert before.shape[0] < best.shape[0] and before.shape[1] < best.shape[1]

    # review show, on the node's state: the event, its hypotheses, and the card with its pictures
    card = tmp_path / "card.png"
    event_id = str(item["event_id"])
    shown = CliRunner().invoke(cli, ["review", "show", event_id[:8], "--config", str(config_path),
                                     "--out", str(card), "--json"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["event_id"] == item["event_id"] and report["body"] == body
    assert report["planogram"]["plates"]["p2"] == [truth.sku, TWIN]
    assert {"best", "before", "after"} <= set(report["pictures"])
    image = decode_picture(card.read_bytes(), "the review card")
    assert image.shape == (900, 1280, 3)
