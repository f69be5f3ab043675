"""The gallery in a running Node on a real pty shelf, through its real control socket: `status` carries it,
`restock` declares a SKU (maintenance mode on), `review_answer` refuses an event the node never published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.config import load_config
from edge.control.client import ControlClient
from edge.control.protocol import ControlError
from edge.demo.setup import write_node_config
from tests.node.gallery_items import PLANOGRAM
from tests.node.shelves import node_on_quiet_shelf


def test_a_running_node_serves_the_gallery_commands(tmp_path: Path) -> None:
    path, _ = write_node_config(tmp_path, broker_port=1)  # nothing listens there: the link keeps retrying
    document = {**PLANOGRAM, "plates": {"p1": PLANOGRAM["plates"]["p1"], "p2": PLANOGRAM["plates"]["p2"],
                                        "p3": [], "p4": []}}
    (tmp_path / "planogram.json").write_text(json.dumps(document))
    path.write_text(path.read_text() + f'\n[fusion]\nplanogram = "{tmp_path / "planogram.json"}"\n')
    config = load_config(path)
    socket = tmp_path / "control.sock"
    with node_on_quiet_shelf(config, tmp_path, seed=3, control_socket=socket) as (node, _):
        try:
            with ControlClient(socket) as client:
                status = client.request("status")
                assert status["parts"]["gallery"]["examples"] == 0
                assert status["parts"]["gallery"]["path"] == str(config.node.state_dir / "gallery.sqlite3")
                assert client.request("restock", {"sku": "APPLE-PL"}) == {"maintenance": True,
                                                                          "restock_sku": "APPLE-PL"}
                assert client.request("maintenance")["maintenance"] is True  # the node's one switch
                with pytest.raises(ControlError, match="unknown event id"):
                    client.request("review_answer", {"event_id": "6f0c1d2e-0000-4000-8000-00000000dead",
                                                     "lines": []})
                client.request("maintenance", {"on": False})
                assert client.request("restock") == {"maintenance": False, "restock_sku": None}
            assert "review_answer" in node.commands.names() and "restock" in node.commands.names()  # MQTT too
            assert node.status().gallery is not None
        finally:
            node.stop()
