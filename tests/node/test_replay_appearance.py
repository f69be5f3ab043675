"""`shelf-node replay --frames DIR --gallery PATH | --state-gallery`: the item events get the appearance factor as
the daemon's (edge/node/replay_appearance.py over edge/node/appearance_feed.py), from a gallery never written.

A pick from a plate of two apple varieties the detector calls "apple" alike (same-label weight twins) is flagged
`twin` by weight and the detector alone; with a trusted gallery (30 crops per SKU of their teach photos) the
splitter votes on the crop cut from the recorded frames (held-out photos) and the event carries the vote; an
untrusted gallery (5 per SKU) leaves the output byte for byte as without one; two runs give the same bytes; the
node's own gallery (--state-gallery) and its `gallery export` directory give the same events. Needs the shared
model and photos (skipped otherwise)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.gallery import Gallery
from edge.gallery.export import export_dataset
from tests.node.appearance_shelf import GOLDEN, PINK, fill_gallery, twin_apples
from tests.node.frames_shelf import record_with_frames

PICK_PINK = [{"at": 4.0, "kind": "pick", "plate": "p2", "sku": PINK}]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory, shared_model_dir: Path,
          shared_images_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("appearance-shelf")
    recorded = record_with_frames(root, twin_apples(PICK_PINK), shared_model_dir, shared_images_dir)
    for name, per_sku in (("trusted", 30), ("untrusted", 5)):
        fill_gallery(root / f"{name}.sqlite3", shared_images_dir, per_sku)
    return recorded


def replay(shelf: dict[str, Path], out: Path, *extra: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    command = ["replay", "--config", str(shelf["config"]), str(shelf["capture"]), "--calibration",
               str(shelf["calibration"]), "--planogram", str(shelf["planogram"]), "--frames", str(shelf["frames"]),
               "--out", str(out), "--json", *extra]
    done = CliRunner().invoke(cli, command, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in out.read_text().splitlines()], json.loads(done.stdout)


def test_without_a_trusted_splitter_the_twin_stays_flagged_and_the_output_is_unchanged(
        shelf: dict[str, Path], tmp_path: Path) -> None:
    (blind,), summary = replay(shelf, tmp_path / "none.jsonl")
    assert "appearance" not in summary
    assert blind["review"]["required"] and "twin" in blind["review"]["reasons"], blind["review"]
    (_,), untrusted = replay(shelf, tmp_path / "untrusted.jsonl", "--gallery", str(shelf["root"] / "untrusted.sqlite3"))
    assert (tmp_path / "untrusted.jsonl").read_bytes() == (tmp_path / "none.jsonl").read_bytes()
    (plate,) = untrusted["appearance"]["plates"]
    assert plate["plate"] == "p2" and not plate["trusted"] and plate["examples"] == {GOLDEN: 5, PINK: 5}
    assert untrusted["appearance"]["trusted_plates"] == [] and untrusted["appearance"]["counters"]["described"] == 0


def test_a_trusted_gallery_votes_on_the_recorded_crop_and_replays_the_same_twice(
        shelf: dict[str, Path], tmp_path: Path) -> None:
    gallery = str(shelf["root"] / "trusted.sqlite3")
    (first,), summary = replay(shelf, tmp_path / "a.jsonl", "--gallery", gallery)
    replay(shelf, tmp_path / "b.jsonl", "--gallery", gallery)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    appearance = summary["appearance"]
    assert appearance["trusted_plates"] == ["p2"] and appearance["examples"] == {GOLDEN: 30, PINK: 30}
    assert appearance["counters"]["described"] == 1, appearance
    vote = first["evidence"]["vision"]["appearance"]
    assert vote["plate"] == "p2" and sorted(vote["candidates"]) == sorted((GOLDEN, PINK)), vote
    assert vote["sku"] == PINK and [line["sku"] for line in first["lines"]] == [PINK], first
    assert "twin" not in first["review"]["reasons"], first["review"]


def test_the_node_s_own_gallery_and_its_export_give_the_same_events(shelf: dict[str, Path], tmp_path: Path) -> None:
    state = shelf["root"] / "state"  # the config's [node] state_dir
    state.mkdir(exist_ok=True)
    shutil.copy(shelf["root"] / "trusted.sqlite3", state / "gallery.sqlite3")
    gallery = Gallery(state / "gallery.sqlite3")
    export_dataset(gallery, tmp_path / "export")
    gallery.close()
    _, own = replay(shelf, tmp_path / "state.jsonl", "--state-gallery")
    _, exported = replay(shelf, tmp_path / "export.jsonl", "--gallery", str(tmp_path / "export"))
    assert own["appearance"]["gallery"] == str(state / "gallery.sqlite3")
    assert exported["appearance"]["gallery"] == str(tmp_path / "export")
    assert (tmp_path / "state.jsonl").read_bytes() == (tmp_path / "export.jsonl").read_bytes()
    assert own["appearance"]["counters"]["described"] == exported["appearance"]["counters"]["described"] == 1


def test_gallery_options_need_frames_and_one_source(tmp_path: Path) -> None:
    from tests.node.frames_shelf import node_config

    config = tmp_path / "node.toml"
    config.write_text(node_config(tmp_path, None))
    capture, planogram = tmp_path / "shelf.cap", tmp_path / "planogram.json"
    capture.write_text("")
    planogram.write_text("{}")
    base = ["replay", "--config", str(config), str(capture), "--planogram", str(planogram)]
    done = CliRunner().invoke(cli, [*base, "--gallery", str(tmp_path)])
    assert done.exit_code == 2 and "add --frames DIR" in done.output, done.output
    done = CliRunner().invoke(cli, [*base, "--frames", str(tmp_path), "--gallery", str(tmp_path), "--state-gallery"])
    assert done.exit_code == 2 and "not both" in done.output, done.output


def test_replay_takes_a_plate_s_examples_where_the_config_says(shelf: dict[str, Path], tmp_path: Path,
                                                               shared_images_dir: Path) -> None:
    """A gallery whose apple crops were all taken on other plates (p1, p3): with the config's `[gallery]
    examples_from = "any_plate"` they teach p2's splitter, as in the daemon, and the pick is split; with the
    default `plate` they teach nothing and the output is the replay's without a gallery."""
    elsewhere = tmp_path / "elsewhere.sqlite3"
    fill_gallery(elsewhere, shared_images_dir, 30, plates={GOLDEN: "p1", PINK: "p3"})
    (none,), _ = replay(shelf, tmp_path / "none.jsonl")
    (_,), own = replay(shelf, tmp_path / "plate.jsonl", "--gallery", str(elsewhere))
    assert (tmp_path / "plate.jsonl").read_bytes() == (tmp_path / "none.jsonl").read_bytes()
    assert own["appearance"]["trusted_plates"] == [] and own["appearance"]["plates"][0]["examples"] == {GOLDEN: 0,
                                                                                                       PINK: 0}
    config = tmp_path / "any_plate.toml"
    config.write_text(shelf["config"].read_text() + '[gallery]\nexamples_from = "any_plate"\n')
    (split,), anywhere = replay({**shelf, "config": config}, tmp_path / "any.jsonl", "--gallery", str(elsewhere))
    assert anywhere["appearance"]["trusted_plates"] == ["p2"], anywhere["appearance"]
    assert anywhere["appearance"]["plates"][0]["examples"] == {GOLDEN: 30, PINK: 30}
    assert split["evidence"]["vision"]["appearance"]["sku"] == PINK
    assert [line["sku"] for line in split["lines"]] == [PINK]
    assert "twin" not in split["review"]["reasons"] and "twin" in none["review"]["reasons"]
