"""The rendered camera: deterministic frames at the scenario's pace, in a directory FrameDirSource
reads; no frames while the camera is lost; a pick's item leaves the plate's region, a put's enters it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from edge.hw.camera_files import FrameDirSource
from edge.hw.jpeg import decode_jpeg
from edge.sim.camera import RenderedCamera, ShelfView, camera_for, write_frames
from edge.sim.camera.timeline import Nuisances
from edge.sim.engine import Simulation, layout_for
from edge.sim.offline import DEFAULT_START
from edge.sim.scenario import Scenario
from edge.sim.truth import TruthRecord
from tests.plugins.waiting import wait_until

PLATES = ["p1", "p2", "p3", "p4"]


def shelf_scenario(actions: list[dict[str, object]], seed: int = 21) -> Scenario:
    return Scenario.model_validate(
        {
            "seed": seed,
            "duration_s": 40.0,
            "items": [
                {"sku": "granny-smith-1kg", "unit_g": 1020.0, "labels": ["apple"], "look": "Granny-Smith"},
                {"sku": "pasta-500", "unit_g": 508.0},
            ],
            "planogram": [
                {"plate": "p1", "sku": "pasta-500", "stock": 6},
                {"plate": "p2", "sku": "granny-smith-1kg", "stock": 5},
                {"plate": "p3", "sku": "pasta-500", "stock": 6},
                {"plate": "p4", "sku": "pasta-500", "stock": 6},
            ],
            "actions": actions,
        }
    )


PICK_AND_PUT = [
    {"at": 3.0, "kind": "pick", "plate": "p2", "sku": "granny-smith-1kg"},
    {"at": 12.0, "kind": "put", "plate": "p2", "sku": "granny-smith-1kg"},
    {"at": 20.0, "kind": "camera_down", "duration_s": 6.0},
    {"at": 30.0, "kind": "pick", "plate": "p1", "sku": "pasta-500"},
]


def truth_of(scenario: Scenario) -> list[TruthRecord]:
    return [r.shifted(DEFAULT_START) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]


def painted_camera(scenario: Scenario, seed: int | None = None, **nuisances: float) -> RenderedCamera:
    """Without photos (painted packs), so these tests run without ../shared."""
    return RenderedCamera(
        truth_of(scenario), scenario.items, ShelfView.grid(PLATES), scenario.seed if seed is None else seed,
        photos=None, stock={"p2": ["granny-smith-1kg"]}, nuisances=Nuisances(**nuisances),
    )  # fmt: skip


def first(truth: list[TruthRecord], kind: str) -> TruthRecord:
    return next(r for r in truth if r.kind == kind)


def test_same_seed_gives_identical_frame_bytes_in_any_order(tmp_path: Path) -> None:
    scenario = shelf_scenario(PICK_AND_PUT)
    a, b = painted_camera(scenario), painted_camera(scenario)
    pick = first(a.truth, "pick")
    window = (pick.t_start - 1.0, pick.t_settled + 1.5)
    frames_a = dict(a.frames(*window))
    later_half = [ms for ms in b.frame_times(*window)][len(frames_a) // 2 :]
    assert {ms: b.jpeg(ms) for ms in reversed(later_half)} == {ms: frames_a[ms] for ms in later_half}
    assert dict(b.frames(*window)) == frames_a
    other = painted_camera(scenario, seed=scenario.seed + 1)
    assert [other.jpeg(ms) for ms in later_half] != [frames_a[ms] for ms in later_half]
    written = write_frames(a, tmp_path / "one", *window), write_frames(b, tmp_path / "two", *window)
    assert written[0].frames == len(frames_a) > 20
    for ms in frames_a:
        assert (tmp_path / "one" / f"{ms}.jpg").read_bytes() == (tmp_path / "two" / f"{ms}.jpg").read_bytes()


def test_frames_follow_the_scenario_pace() -> None:
    camera = painted_camera(shelf_scenario(PICK_AND_PUT), drop_frame=0.0)
    pick = first(camera.truth, "pick")
    times = camera.frame_times(DEFAULT_START, DEFAULT_START + 40.0)
    busy = [ms for ms in times if pick.t_start - 0.5 <= ms / 1000 <= pick.t_settled]
    assert set(np.diff(busy)) == {100}  # active rate while the hand is there
    quiet = [ms for ms in times if DEFAULT_START + 36.0 <= ms / 1000 <= DEFAULT_START + 40.0]
    assert set(np.diff(quiet)) == {1000}  # idle rate on a quiet shelf
    dropped = painted_camera(shelf_scenario(PICK_AND_PUT), drop_frame=0.3)
    kept = dropped.frame_times(DEFAULT_START, DEFAULT_START + 40.0)
    assert set(kept) < set(times) and 0.55 < len(kept) / len(times) < 0.85


def test_frame_directory_is_read_by_frame_dir_source_at_recorded_pace(tmp_path: Path) -> None:
    camera = painted_camera(shelf_scenario(PICK_AND_PUT), drop_frame=0.0)
    pick = first(camera.truth, "pick")
    written = write_frames(camera, tmp_path, pick.t_start, pick.t_start + 0.7)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert written.frames == len(names) == 8 and all(n[:-4].isdigit() and n.endswith(".jpg") for n in names)
    source = FrameDirSource(tmp_path, speed=2.0)
    source.open()
    seen: list[tuple[float, float]] = []
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and len(seen) < 8:
        polled = source.poll()
        if polled is not None:
            seen.append((polled[0], time.monotonic()))
        time.sleep(0.005)  # pacing of the scenario, not a wait: a consumer polling every 5 ms
    assert [round(t * 1000) for t, _ in seen] == [int(n[:-4]) for n in names][-len(seen) :] and len(seen) >= 6
    recorded = seen[-1][0] - seen[0][0]
    shown = seen[-1][1] - seen[0][1]
    assert abs(shown - recorded / 2.0) < 0.15  # replayed at the recorded pace (x2)


def test_no_frames_while_the_camera_is_lost() -> None:
    camera = painted_camera(shelf_scenario(PICK_AND_PUT), drop_frame=0.0)
    outage = first(camera.truth, "camera")
    times = camera.frame_times(DEFAULT_START, DEFAULT_START + 40.0)
    assert not [ms for ms in times if outage.t_start <= ms / 1000 <= outage.t_settled]
    assert [ms for ms in times if outage.t_start - 2.0 <= ms / 1000 < outage.t_start]
    assert [ms for ms in times if outage.t_settled < ms / 1000 <= outage.t_settled + 2.0]
    assert not camera.delivers(round(outage.t_start * 1000) + 500)


def test_pick_moves_the_item_out_of_the_plate_and_put_into_it() -> None:
    camera = painted_camera(shelf_scenario(PICK_AND_PUT))
    plate = camera.view.area("p2")
    assert plate is not None
    x0, y0, x1, y1 = plate.rect
    by_id = {h.record_id: h for h in camera.timeline.handlings}
    pick, put = first(camera.truth, "pick"), first(camera.truth, "put")
    for record, inside_first in ((pick, True), (put, False)):
        handling = by_id[record.id]
        held = [t / 100 for t in range(round(handling.t_in * 100), round(handling.t_out * 100))
                if handling.holds_item(t / 100)]  # fmt: skip
        positions = [handling.hand_at(t) for t in held]
        inside = [x0 <= p[0] < x1 and y0 <= p[1] < y1 for p in positions if p is not None]
        assert inside[0] is inside_first and inside[-1] is not inside_first
        ys = [p[1] for p in positions if p is not None]
        # a pick goes down the picture (towards the aisle), a put comes up from it
        assert (ys[-1] > ys[0] + 60) if record.kind == "pick" else (ys[-1] < ys[0] - 60)


def test_the_item_is_painted_where_the_hand_holds_it() -> None:
    scenario = shelf_scenario(PICK_AND_PUT)
    camera = painted_camera(scenario, light_change_per_s=0.0, occluded_interaction=0.0, browse_per_s=0.0,
                            passer_by_per_s=0.0)  # fmt: skip
    pick = first(camera.truth, "pick")
    handling = next(h for h in camera.timeline.handlings if h.record_id == pick.id)
    quiet_ms = round((pick.t_start - 3.0) * 1000)
    base = camera.render(quiet_ms).astype(float)
    for t in (pick.t_start + 0.1, handling.t_leave + 0.35):
        ms = round(t * 1000)
        diff = np.abs(camera.render(ms).astype(float) - base).max(axis=2) > 40
        ys, xs = np.nonzero(diff)
        hx, hy = handling.hand_at(ms / 1000) or (0.0, 0.0)
        assert diff.sum() > 2000
        assert abs(np.median(xs) - hx) < 60 and abs(np.median(ys) - hy) < 80


def test_jpeg_frames_decode_at_the_view_size() -> None:
    camera = painted_camera(shelf_scenario(PICK_AND_PUT))
    pick = first(camera.truth, "pick")
    ms, data = next(iter(camera.frames(pick.t_start, pick.t_start + 0.2)))
    image = decode_jpeg(np.frombuffer(data, np.uint8), f"{ms}.jpg")
    assert image.shape == (camera.view.height, camera.view.width, 3)
    assert 50 < float(image.mean()) < 220  # lit, not black or blown out


def test_roi_of_a_config_wins_and_out_of_frame_roi_is_refused() -> None:
    from edge.config.plates import PlateSection

    plates = [PlateSection(name="a", channels=[0], roi=[(10, 200), (300, 200), (300, 400), (10, 400)]),
              PlateSection(name="b", channels=[1], roi=[(320, 200), (630, 200), (630, 400), (320, 400)])]  # fmt: skip
    view = ShelfView.from_config(plates)
    assert [p.rect for p in view.plates] == [(10, 200, 301, 401), (320, 200, 631, 401)]
    wide = [PlateSection(name="a", channels=[0], roi=[(10, 10), (900, 10), (900, 100)])]
    with pytest.raises(ValueError, match="outside the 640x480 rendered frame"):
        ShelfView.from_config(wide)
    assert ShelfView.from_config([PlateSection(name="a", channels=[0])]).plates[0].name == "a"


def test_camera_for_falls_back_to_the_store_look_and_paints_when_no_images(tmp_path: Path) -> None:
    scenario = shelf_scenario(PICK_AND_PUT)
    camera = camera_for(scenario, truth_of(scenario), PLATES, images=None)
    assert camera.photos is None
    pick = first(camera.truth, "pick")
    assert len(list(camera.frames(pick.t_start, pick.t_start + 0.5))) >= 4
    from edge.errors import CameraError

    with pytest.raises(CameraError, match="no image directory"):
        camera_for(scenario, truth_of(scenario), PLATES, images=tmp_path / "missing")


def test_sim_frames_and_capture_frames_on_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from edge.cli import cli

    runner = CliRunner()
    out = tmp_path / "frames"
    result = runner.invoke(cli, ["sim", "frames", "--seed", "3", "--duration", "20", "--images", "none",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names and result.output.startswith(f"{out}: {len(names)} frames")
    capture = tmp_path / "run.cap"
    beside = tmp_path / "run.frames"
    result = runner.invoke(cli, ["sim", "capture", "--seed", "3", "--duration", "20", "--sps", "10", "--truth",
                                 str(tmp_path / "run.jsonl"), "--frames", str(beside), "--images", "none",
                                 str(capture)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in beside.iterdir()) == names  # same scenario, same clock, same frames
    assert all((beside / n).read_bytes() == (out / n).read_bytes() for n in names[:20])
    again = tmp_path / "again.frames"
    result = runner.invoke(cli, ["sim", "capture", "--seed", "3", "--duration", "20", "--sps", "10", "--truth",
                                 str(tmp_path / "run.jsonl"), "--frames", str(again), "--images", "none", "--json",
                                 str(tmp_path / "again.cap")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["frames"].startswith(f"{again}: {len(names)} frames")  # one JSON document
    result = runner.invoke(cli, ["sim", "frames", "--seed", "3", "--duration", "20", "--images",
                                 str(tmp_path / "nowhere"), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 1 and "no image directory" in result.output


def test_live_frames_arrive_on_the_wall_clock(tmp_path: Path) -> None:
    """Each frame of the camera's grid is written at its own time, never ahead of it, or skipped and counted as
    late (LATE_S behind the clock, as a camera drops it), or was due before the player's thread started; none is
    lost otherwise. Asserted on the frames' own stamps and write times, so a loaded machine (late frames, a late
    thread start) changes how many are written, never whether the check holds."""
    from edge.sim.camera import LiveFrames

    scenario = shelf_scenario(PICK_AND_PUT)
    now = time.time()
    truth = [r.shifted(now - 3.0 + 0.5) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]
    camera = RenderedCamera(truth, scenario.items, ShelfView.grid(PLATES), scenario.seed, None,
                            nuisances=Nuisances(drop_frame=0.0))  # fmt: skip
    live = LiveFrames(camera, tmp_path, until=now + 1.2).start()  # the pick starts 0.5 s from now
    try:
        assert wait_until(lambda: not live.playing(), 30)  # every frame up to `until` played or skipped
    finally:
        live.stop()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in names if n.startswith(".")] and live.error is None and live.frames_written == len(names)
    written = {int(n[:-4]): (tmp_path / n).stat().st_mtime for n in names}
    # Not ahead of the clock: a frame's file is written (then renamed into place) no earlier than its stamp. The
    # slack is the file system's coarse clock (one kernel tick behind time.time()).
    ahead = {ms: round(ms / 1000 - mtime, 3) for ms, mtime in written.items() if mtime < ms / 1000 - 0.02}
    assert not ahead, f"frames written before their time (s ahead): {ahead}"
    expected = camera.frame_times(now, now + 1.2)
    assert set(written) <= set(expected) and len(expected) >= 10  # the pick's active rate, on the camera's grid
    # Accounted for: written, or counted late, or due before the thread began (a prefix of the grid, before the
    # first frame written).
    before_start = len(expected) - len(written) - live.frames_late
    assert written, f"no frame written: {live.frames_late} late, {before_start} due before the player started"
    assert before_start >= 0, f"{len(written)} written + {live.frames_late} late > {len(expected)} frames"
    unseen = expected[:before_start]
    assert not set(unseen) & set(written) and all(ms / 1000 < min(written.values()) for ms in unseen)
    # The written bytes are the camera's own frames (a second renderer, the same frames). How fast a frame is
    # rendered is a benchmark's figure (scripts/bench rendered_camera), not this test's.
    again = RenderedCamera(truth, scenario.items, ShelfView.grid(PLATES), scenario.seed, None,
                           nuisances=Nuisances(drop_frame=0.0))  # fmt: skip
    frames = {ms: again.jpeg(ms) for ms in expected}
    assert all(frames[ms] == (tmp_path / f"{ms}.jpg").read_bytes() for ms in written)  # the camera's own frames


def test_an_item_across_two_plates_is_handled_between_them_and_units_are_shown() -> None:
    scenario = shelf_scenario(
        [
            {"at": 3.0, "kind": "put", "plates": ["p1", "p2"], "sku": "pasta-500"},
            {"at": 12.0, "kind": "pick", "plate": "p3", "sku": "pasta-500", "count": 2},
            {"at": 20.0, "kind": "restock", "plate": "p4", "sku": "pasta-500", "count": 6},
        ]
    )
    camera = painted_camera(scenario)
    across, double, restock = (next(h for h in camera.timeline.handlings if h.record_id == r.id)
                               for r in camera.truth if r.kind in ("put", "pick", "restock"))  # fmt: skip
    p1, p2 = camera.view.area("p1"), camera.view.area("p2")
    assert p1 is not None and p2 is not None
    assert p1.rect[2] - 0.2 * p1.width < across.target[0] < p2.rect[0] + 0.2 * p2.width  # near the gap
    assert across.plates == ("p1", "p2") and len(across.photos) == 1
    assert len(double.photos) == 2 and len(restock.photos) == 3  # at most 3 units drawn
