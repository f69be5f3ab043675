"""The appearance loop in a running Node on a real pty shelf: on with a [camera], a [detector] and the gallery
(its splitters in stats.parts.gallery and in fusion), off with `[gallery] appearance = false` or without a
detector. The detector needs ../shared's model (skips with a message otherwise)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from edge.config import NodeConfig, load_config
from edge.demo.setup import add_camera, write_node_config
from edge.node.appearance_feed import LazyEmbedder
from tests.node.gallery_items import PLANOGRAM
from tests.node.shelves import node_on_quiet_shelf
from tests.plugins.assets import MODEL_DIR
from tests.plugins.waiting import wait_until


def _config(tmp_path: Path, model_dir: Path | None, extra: str = "") -> NodeConfig:
    path, _ = write_node_config(tmp_path, broker_port=1)  # nothing listens there: the link keeps retrying
    document = {**PLANOGRAM, "plates": {"p1": PLANOGRAM["plates"]["p1"], "p2": PLANOGRAM["plates"]["p2"],
                                        "p3": [], "p4": []}}
    (tmp_path / "planogram.json").write_text(json.dumps(document))
    path.write_text(path.read_text() + f'\n[fusion]\nplanogram = "{tmp_path / "planogram.json"}"\n{extra}')
    add_camera(path, tmp_path / "frames", model_dir=model_dir)
    return load_config(path)


def test_a_node_with_a_detector_runs_the_appearance_loop(tmp_path: Path, shared_model_dir: Path) -> None:
    config = _config(tmp_path, shared_model_dir)
    with node_on_quiet_shelf(config, tmp_path, seed=4) as (node, _):
        try:
            assert node.appearance is not None and node.gallery.admit is not None

            def appearance() -> Any:
                gallery = node.status().to_json()["gallery"]
                return gallery.get("appearance")

            assert wait_until(lambda: (appearance() or {}).get("counters", {}).get("refreshes", 0) >= 1, 20)
            part = appearance()
            assert part["trusted_plates"] == []  # an empty gallery: nothing to vote with yet
            assert [(p["plate"], p["skus"], p["examples"], p["needed_more"]) for p in part["plates"]] == \
                [("p1", ["APPLE-GS", "APPLE-PL"], {"APPLE-GS": 0, "APPLE-PL": 0}, 10)]
            assert node.items.stage.appearance is node.appearance.splitter
            assert not cast(LazyEmbedder, node.appearance.embedder).loaded  # nothing to describe: no 2nd interpreter
            thread = node.appearance._thread
        finally:
            node.stop()
    assert thread is not None and not thread.is_alive()


def test_appearance_off_or_no_detector_leaves_the_node_as_it_was(tmp_path: Path) -> None:
    for name, model_dir, extra in (("off", MODEL_DIR,
                                    "[gallery]\nappearance = false\n"), ("no-detector", None, "")):
        root = tmp_path / name
        root.mkdir()
        config = _config(root, model_dir, extra)
        with node_on_quiet_shelf(config, root, seed=4) as (node, _):
            try:
                assert node.appearance is None and node.items.stage.appearance is None
                assert "appearance" not in node.status().to_json()["gallery"]
            finally:
                node.stop()
