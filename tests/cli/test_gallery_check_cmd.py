"""`shelf-node gallery check`: per plate with look-alikes, the splitter's leave-one-out verdict on the gallery's
crops (real JPEGs of two apple colours) and how many more examples it needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from tests.cli.test_gallery_cmd import fill
from tests.node.gallery_items import PLANOGRAM


@pytest.mark.parametrize(("per_sku", "trusted"), [(3, False), (30, True)])  # trust needs >= 25 on two SKUs
def test_check_says_whether_the_splitter_is_trusted(tmp_path: Path, per_sku: int, trusted: bool) -> None:
    path = fill(tmp_path, per_sku)
    planogram_file = tmp_path / "planogram.json"
    planogram_file.write_text(json.dumps(PLANOGRAM))
    result = CliRunner().invoke(cli, ["gallery", "check", "--config", str(path), "--planogram",
                                      str(planogram_file), "--json"])
    assert result.exit_code == 0, result.output
    (plate,) = json.loads(result.output)  # p1 holds the two same-label apple twins; p2 has no look-alike
    assert plate["plate"] == "p1" and plate["skus"] == ["APPLE-GS", "APPLE-PL"]
    assert plate["examples"] == {"APPLE-GS": per_sku, "APPLE-PL": per_sku}
    assert plate["trusted"] is trusted
    if trusted:
        assert plate["needed_more"] == 0 and plate["accuracy"] >= 0.98
    else:
        assert plate["needed_more"] > 0
    human = CliRunner().invoke(cli, ["gallery", "check", "--config", str(path), "--planogram", str(planogram_file)])
    assert ("yes" if trusted else "no") in human.output and "APPLE-GS" in human.output


@pytest.mark.parametrize(("per_sku", "trusted"), [(4, False), (30, True)])
def test_check_with_the_detector_backbone_on_real_photos(tmp_path: Path, shared_model_dir: Path,
                                                         shared_images_dir: Path, per_sku: int, trusted: bool) -> None:
    """Granny Smith against Pink Lady photos (../shared/images/sku-photos, 20 each, and their mirror images),
    described as the node does with a [detector]: colour plus the SSD backbone's pooled features."""
    import numpy as np

    from edge.gallery import Crop, Gallery
    from edge.gallery.store import gallery_path
    from edge.hw.draw import encode_jpeg, read_image
    from edge.hw.pixels import resize_into
    from tests.cli.test_gallery_cmd import config_file
    from tests.node.gallery_items import node_config

    path = config_file(tmp_path)
    path.write_text(path.read_text() + f'\n[detector]\nmodel = "{shared_model_dir / "detect.tflite"}"\n'
                                       f'labels = "{shared_model_dir / "coco_labels.txt"}"\n')
    gallery = Gallery(gallery_path(node_config(tmp_path)))
    for sku, folder in (("APPLE-GS", "Granny-Smith"), ("APPLE-PL", "Pink-Lady")):
        photos = sorted((shared_images_dir / "sku-photos" / folder).glob("*.jpg"))
        for n in range(per_sku):
            small = np.empty((160, 160, 3), np.uint8)
            resize_into(read_image(photos[n % len(photos)]), small, "area")
            if n >= len(photos):
                small = np.ascontiguousarray(small[:, ::-1])  # a second look: the photo mirrored
            gallery.add(sku, Crop("p1", 1_790_000_000.0 + n, "detection", "apple", (0, 0, 160, 160),
                                  encode_jpeg(small, 90)), "auto", 0.9995)
    gallery.close()
    planogram_file = tmp_path / "planogram.json"
    planogram_file.write_text(json.dumps(PLANOGRAM))
    result = CliRunner().invoke(cli, ["gallery", "check", "--config", str(path), "--planogram", str(planogram_file),
                                      "--json"])
    assert result.exit_code == 0, result.output
    (plate,) = json.loads(result.output)
    assert plate["examples"] == {"APPLE-GS": per_sku, "APPLE-PL": per_sku}
    assert plate["trusted"] is trusted, plate


def test_check_reads_the_trust_settings_the_daemon_reads(tmp_path: Path) -> None:
    """`[gallery] min_examples` (and min_accuracy) reach `gallery check` as they reach the daemon's splitter
    (edge/node/appearance_feed.py): 30 examples per SKU pass the default but not a node that asks for 40."""
    from tests.node.gallery_items import CONFIG

    path = fill(tmp_path, 30)
    path.write_text(CONFIG.format(state=tmp_path / "state", extra="[gallery]\nmin_examples = 40\n"))
    planogram_file = tmp_path / "planogram.json"
    planogram_file.write_text(json.dumps(PLANOGRAM))
    result = CliRunner().invoke(cli, ["gallery", "check", "--config", str(path), "--planogram",
                                      str(planogram_file), "--json"])
    assert result.exit_code == 0, result.output
    (plate,) = json.loads(result.output)
    assert plate["trusted"] is False and plate["needed_more"] == 10


def test_check_reads_where_the_daemon_takes_a_plate_s_examples(tmp_path: Path) -> None:
    """Crops of the two look-alikes taken on their solo plates (p2, p3) teach the twin plate p1 only with
    `[gallery] examples_from = "any_plate"`, as they teach the daemon's splitter; --examples-from overrides it."""
    from edge.gallery import Gallery
    from edge.gallery.store import gallery_path
    from tests.cli.test_gallery_cmd import apple
    from tests.node.solo_plates import GOLDEN, PINK, config_text, document, node_config

    gallery = Gallery(gallery_path(node_config(tmp_path)))
    for n in range(30):
        gallery.add(GOLDEN, apple((40, 190, 190), n, "p2"), "auto", 0.9995)  # yellow, on its solo plate
        gallery.add(PINK, apple((90, 70, 210), 1000 + n, "p3"), "auto", 0.9995)  # pink-red, on its own
    gallery.close()
    planogram_file = tmp_path / "planogram.json"
    planogram_file.write_text(json.dumps(document()))

    def check(examples_from: str | None, *extra: str) -> dict[str, object]:
        path = tmp_path / "node.toml"
        path.write_text(config_text(tmp_path, examples_from))
        result = CliRunner().invoke(cli, ["gallery", "check", "--config", str(path), "--planogram",
                                          str(planogram_file), "--json", *extra])
        assert result.exit_code == 0, result.output
        (plate,) = json.loads(result.output)
        assert plate["plate"] == "p1"
        return dict(plate)

    own = check(None)
    assert own["examples"] == {GOLDEN: 0, PINK: 0} and own["trusted"] is False and own["examples_from"] == "plate"
    anywhere = check("any_plate")
    assert anywhere["examples"] == {GOLDEN: 30, PINK: 30} and anywhere["trusted"] is True
    assert anywhere["examples_from"] == "any_plate"
    assert check("any_plate", "--examples-from", "plate")["examples"] == {GOLDEN: 0, PINK: 0}
    assert check(None, "--examples-from", "any_plate")["trusted"] is True
    human = CliRunner().invoke(cli, ["gallery", "check", "--config", str(tmp_path / "node.toml"), "--planogram",
                                     str(planogram_file), "--examples-from", "any_plate"])
    assert "yes" in human.output and "taken on any plate of the node" in human.output, human.output
