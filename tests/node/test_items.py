"""edge/node/items.py, the node's fusion step: planogram file or hub, item events into a real outbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.config import NodeConfig, parse_config
from edge.errors import ConfigError
from edge.fusion.encode import describe_item
from edge.node.items import ItemStep
from edge.outbox import Outbox
from edge.outbox.store import OutboxRow
from tests.fusion.helpers import DOCUMENT, T0, planogram, seen, weight_event

CONFIG = """
[node]
store_id = "s1"
node_id = "n1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 5
{fusion}
""" + "".join(f'[[plates]]\nname = "p{i + 1}"\nchannels = [{i}]\n' for i in range(5))


def config(tmp_path: Path, fusion: str = "") -> NodeConfig:
    return parse_config(CONFIG.format(state=tmp_path / "state", fusion=fusion))


def test_planogram_file_and_item_events_into_the_outbox(tmp_path: Path) -> None:
    path = tmp_path / "planogram.json"
    path.write_text(json.dumps(DOCUMENT))
    node_config = config(tmp_path, f'[fusion]\nplanogram = "{path}"\n')
    outbox = Outbox(tmp_path / "outbox.sqlite3", node_config.outbox)
    step = ItemStep(node_config, outbox.submit)
    weight = outbox.submit("weight", {"delta_g": -1031.0}, T0 + 1)
    assert weight is not None
    items = step.weight_event(weight_event({"p2": -1031.0}), seen("p2", carrot=0.7), True, T0 + 1.1,
                              weight.event_id, weight.seq)
    assert len(items) == 1 and items[0].lines[0].sku == "CARROT-1KG"
    rows: list[OutboxRow] = outbox.pending_after(0, 10)
    assert [r.kind for r in rows] == ["weight", "item"]
    body = rows[1].body
    assert body["weight_events"] == [{"event_id": weight.event_id, "seq": weight.seq}]
    assert step.status().item_events == 1
    outbox.close()


def test_no_item_events_until_the_hub_sends_a_planogram(tmp_path: Path) -> None:
    step = ItemStep(config(tmp_path))
    assert step.weight_event(weight_event({"p3": -32.0}), None, None, T0 + 1.1) == []
    step.on_planogram(planogram())
    item = step.weight_event(weight_event({"p3": -32.0}, 10.0), None, None, T0 + 11.1)[0]
    assert item.action == "pick" and describe_item(item).startswith("pick 1 x GUM p3 (0.99")
    unknown = step.weight_event(weight_event({"p3": -400.0}, 20.0), None, None, T0 + 21.1)
    unknown += step.flush()
    text = describe_item(unknown[0])
    assert text.startswith("unknown -400.0 g on p3 (")
    assert text.endswith("REVIEW: unknown_item, no_fit, camera_unavailable")


def test_a_bad_planogram_file_is_a_located_config_error(tmp_path: Path) -> None:
    path = tmp_path / "planogram.json"
    path.write_text(json.dumps({**DOCUMENT, "plates": {"p1": [{"sku": "NOPE"}]}}))
    with pytest.raises(ConfigError, match=r"planogram.json: planogram: plates.p1\[0\].sku: 'NOPE'"):
        ItemStep(config(tmp_path, f'[fusion]\nplanogram = "{path}"\n'))


def test_maintenance_switch_is_read_before_each_weight_event(tmp_path: Path) -> None:
    step = ItemStep(config(tmp_path), planogram=planogram())
    switch = {"on": True}
    step.maintenance = lambda: switch["on"]
    assert step.weight_event(weight_event({"p3": 320.2}), None, None, T0 + 1.1)[0].action == "restock"
    switch["on"] = False
    assert step.weight_event(weight_event({"p3": 64.1}, 10.0), None, None, T0 + 11.1)[0].action == "put"


def test_a_fusion_fault_is_counted_and_logged_and_weighing_goes_on(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A weight event fusion cannot score (a NaN delta makes the real stage raise) costs that item event only:
    the processing thread must live on (weight events still go out), and the count degrades the node."""
    path = tmp_path / "planogram.json"
    path.write_text(json.dumps(DOCUMENT))
    step = ItemStep(config(tmp_path, f'[fusion]\nplanogram = "{path}"\n'))
    assert step.weight_event(weight_event({"p2": float("nan")}), seen("p2", carrot=0.7), True, T0 + 1.1) == []
    assert step.errors == 1
    assert any(r.levelname == "ERROR" and r.exc_info and "fusion" in r.getMessage() for r in caplog.records)
    items = step.weight_event(weight_event({"p2": -1031.0}), seen("p2", carrot=0.7), True, T0 + 5.0)
    assert len(items) == 1 and items[0].lines[0].sku == "CARROT-1KG" and step.errors == 1
