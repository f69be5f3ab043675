"""`shelf-node gallery status|export|check` on a real gallery file, and `maintenance restock --sku` through a
real control socket to the gallery feed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from edge.cli import cli
from edge.control.handlers import HandlerTable
from edge.control.server import ControlServer
from edge.gallery import Crop, Gallery
from edge.gallery.store import gallery_path
from edge.gpio.maintenance import MaintenanceMode
from edge.hw.draw import encode_jpeg
from edge.node.gallery_feed import GalleryFeed
from tests.node.gallery_items import CONFIG, node_config, planogram


def config_file(tmp_path: Path) -> Path:
    node_config(tmp_path)  # makes the state directory
    path = tmp_path / "node.toml"
    path.write_text(CONFIG.format(state=tmp_path / "state", extra=""))
    return path


def apple(colour: tuple[int, int, int], seed: int, plate: str = "p1") -> Crop:
    """A crop of one apple variety: its colour (BGR) with per-crop lighting and noise."""
    rng = np.random.default_rng(seed)
    light = rng.uniform(0.8, 1.2)
    image = np.clip(np.array(colour) * light + rng.normal(0, 12, (40, 40, 3)), 0, 255).astype(np.uint8)
    return Crop(plate, 1_790_000_000.0 + seed, "detection", "apple", (0, 0, 40, 40), encode_jpeg(image, 90))


def fill(tmp_path: Path, per_sku: int) -> Path:
    path = config_file(tmp_path)
    gallery = Gallery(gallery_path(node_config(tmp_path)))
    for i in range(per_sku):
        gallery.add("APPLE-GS", apple((40, 190, 90), i), "auto", 0.9995, f"e-gs-{i}")  # green
        gallery.add("APPLE-PL", apple((90, 70, 210), 1000 + i), "restock")  # pink-red
    gallery.close()
    return path


def test_status_lists_skus_counts_and_ages(tmp_path: Path) -> None:
    path = fill(tmp_path, 3)
    result = CliRunner().invoke(cli, ["gallery", "status", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "APPLE-GS" in result.output and "APPLE-PL" in result.output and "auto 3" in result.output
    assert "6 crop(s)" in result.output
    data = json.loads(CliRunner().invoke(cli, ["gallery", "status", "--config", str(path), "--json"]).output)
    assert [(s["sku"], s["count"]) for s in data["skus"]] == [("APPLE-GS", 3), ("APPLE-PL", 3)]
    assert data["examples"] == 6 and data["reviews"]["answered"] == 0


def test_status_without_a_gallery_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["gallery", "status", "--config", str(config_file(tmp_path))])
    assert result.exit_code == 1 and "no gallery at" in result.output


def test_export_writes_images_and_labels(tmp_path: Path) -> None:
    path = fill(tmp_path, 2)
    out = tmp_path / "dataset"
    result = CliRunner().invoke(cli, ["gallery", "export", "--config", str(path), str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["images"] == 4
    rows = list(csv.DictReader((out / "labels.csv").open()))
    assert sorted(r["sku"] for r in rows) == ["APPLE-GS", "APPLE-GS", "APPLE-PL", "APPLE-PL"]
    assert all((out / r["file"]).stat().st_size == int(r["bytes"]) for r in rows)
    again = CliRunner().invoke(cli, ["gallery", "export", "--config", str(path), str(out)])
    assert again.exit_code == 1 and "not an empty directory" in again.output


def test_maintenance_restock_declares_the_sku_through_the_socket(tmp_path: Path) -> None:
    feed = GalleryFeed(node_config(tmp_path), None, planogram=planogram)
    feed.maintenance = MaintenanceMode()
    table = HandlerTable()
    feed.register(table)
    socket = tmp_path / "control.sock"
    server = ControlServer(socket, table, group=None).start()
    try:
        runner = CliRunner()
        done = runner.invoke(cli, ["maintenance", "restock", "--sku", "APPLE-PL", "--socket", str(socket)])
        assert done.exit_code == 0, done.output
        assert "restocking APPLE-PL" in done.output
        assert feed.maintenance.on and feed.restock_sku == "APPLE-PL"
        wrong = runner.invoke(cli, ["maintenance", "restock", "--sku", "NOPE", "--socket", str(socket)])
        assert wrong.exit_code == 1 and "not in the planogram's catalogue" in wrong.output
        missing = runner.invoke(cli, ["maintenance", "restock", "--socket", str(socket)])
        assert missing.exit_code == 1 and "needs --sku" in missing.output
    finally:
        server.stop()
        feed.stop()
