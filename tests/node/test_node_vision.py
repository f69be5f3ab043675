"""The node with a camera: weight events carry the detector's evidence (the real model on real
photos, played as a looping video), validate against the schema, and their snapshots can be
fetched with the `snapshot` command over MQTT."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import pytest

from edge.config import load_config
from edge.demo.broker import LocalBroker, mosquitto_available
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.hub.tracker import HubRecord
from edge.hub.watcher import HubWatcher, hub_section
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")
PHOTO = "grocery-store/Fruit_Banana_Banana_001.jpg"
SIZE = (640, 480)


def banana_video(images: Path, path: Path) -> Path:
    import cv2

    photo = cv2.imread(str(images / PHOTO))
    frame = cv2.resize(photo, SIZE, interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, SIZE)
    rng = np.random.default_rng(0)
    for _ in range(30):  # a little sensor noise so frames are not byte-identical
        noisy = np.clip(frame.astype(np.int16) + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8)
        writer.write(noisy)
    writer.release()
    return path


def vision_config(tmp_path: Path, broker_port: int, model_dir: Path, video: Path) -> Path:
    """The simulator's node config plus a camera that sees the four plates as side-by-side strips."""
    path, _ = write_node_config(tmp_path, broker_port)
    text = path.read_text()
    w, h = SIZE
    for index, channels in enumerate(["[0, 1]", "[2, 3]", "[4, 5]", "[6, 7]"]):
        x0, x1 = index * w // 4, (index + 1) * w // 4
        roi = f"roi = [[{x0}, 0], [{x1}, 0], [{x1}, {h}], [{x0}, {h}]]"
        text = text.replace(f"channels = {channels}\n", f"channels = {channels}\n{roi}\n", 1)
    text += (f'\n[camera]\nsource = "{video}"\nloop_file = true\nidle_fps = 2\nactive_fps = 10\n'
             f'\n[detector]\nmodel = "{model_dir / "detect.tflite"}"\nlabels = "{model_dir / "coco_labels.txt"}"\n'
             f'score_threshold = 0.4\n')
    path.write_text(text)
    return path


def test_weight_events_carry_camera_evidence_and_snapshots(tmp_path: Path, shared_model_dir: Path,
                                                           shared_images_dir: Path) -> None:
    broker = LocalBroker(tmp_path / "broker").start()
    config = load_config(vision_config(tmp_path, broker.port, shared_model_dir,
                                       banana_video(shared_images_dir, tmp_path / "shelf.avi")))
    layout = ShelfLayout.from_config(config, seed=1)
    install_factory_calibration(config, layout)
    events: list[HubRecord] = []
    responses: list[dict] = []
    got_response = threading.Event()
    watcher = HubWatcher(hub_section(port=broker.port), client_id="test-hub",
                         on_record=lambda r: events.append(r) if r.type == "event" else None)
    shelf = PtyShelf(generate_scenario(1, 600.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty").start()
    node = Node(config)
    technician = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="test-technician")
    technician.on_message = lambda c, u, m: (responses.append(json.loads(m.payload)), got_response.set())
    try:
        watcher.start()
        node.start()
        assert watcher.wait_for(lambda t: t.unique_events >= 3, timeout=60), watcher.tracker.summary()
        assert all(record.valid for record in events), [record.problems for record in events]
        bodies = [record.payload["body"] for record in events]
        assert all(body["camera_ok"] is True for body in bodies), bodies
        assert all(set(body["evidence"]) == set(body["plates"]) for body in bodies), bodies
        assert all(ev["frames"] > 0 for body in bodies for ev in body["evidence"].values()), bodies
        # The photo's bananas lie over the middle strips (p2, p3): an event there must have seen them.
        middle = [body["evidence"][p] for body in bodies for p in body["plates"] if p in ("p2", "p3")]
        assert middle, f"no event on p2/p3 among {[b['plates'] for b in bodies]}"
        seen = middle[0]
        assert "banana" in seen["labels"], seen
        assert 0.4 <= seen["labels"]["banana"]["mean"] <= seen["labels"]["banana"]["best"] <= 1
        assert 1 <= seen["labels"]["banana"]["frames"] <= seen["frames"]  # "seen in n of the frames"
        assert seen["snapshot"]

        root = f"shelf/{config.node.store_id}/{config.node.node_id}"
        technician.connect("127.0.0.1", broker.port)
        technician.subscribe(f"{root}/resp/snapshot", qos=1)
        technician.loop_start()
        request = {"transaction": "t-1", "params": {"event_snapshot": seen["snapshot"]}}
        technician.publish(f"{root}/cmd/snapshot", json.dumps(request), qos=1)
        assert got_response.wait(20), "no answer on resp/snapshot"
        answer = responses[0]
        assert answer["transaction"] == "t-1", answer
        jpeg = base64.b64decode(answer["result"]["jpeg_base64"])
        assert jpeg[:3] == b"\xff\xd8\xff"  # a JPEG
    finally:
        technician.loop_stop()
        node.stop()
        watcher.stop()
        shelf.stop()
        broker.stop()
