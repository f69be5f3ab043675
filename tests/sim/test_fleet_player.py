"""The fleet player: shopper scenarios, and many shelves played on real ptys by one loop."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

import pytest

from edge.loadcell.framing import QUERY
from edge.sim.engine import Simulation
from edge.sim.fleet_player import MIN_GAP_S, FleetPlayer, PlayedShelf, shopper_scenario
from edge.sim.layout import ShelfLayout
from tests.plugins.waiting import wait_until


def test_shoppers_pick_and_put_back_at_the_asked_rate() -> None:
    scenario = shopper_scenario(7, 1800.0, ["p1", "p2"], per_minute=6.0)
    times = [a.at for a in scenario.actions]
    assert 150 <= len(times) <= 210  # 6 per minute over 30 minutes, give or take the randomness
    assert min(b - a for a, b in itertools.pairwise(times)) >= MIN_GAP_S
    held: list[str] = []
    stock = {slot.plate: slot.stock for slot in scenario.planogram}
    for action in scenario.actions:
        assert action.kind in {"pick", "put"} and action.plate in stock
        if action.kind == "pick":
            stock[action.plate] -= 1
            held.append(action.plate)
        else:
            held.remove(action.plate)  # only what a shopper took is put back, on its own plate
            stock[action.plate] += 1
        assert stock[action.plate] >= 1
    assert shopper_scenario(7, 1800.0, ["p1", "p2"], per_minute=6.0) == scenario


def test_a_rate_faster_than_the_shelf_settles_is_refused() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        shopper_scenario(1, 600.0, ["p1"], per_minute=60.0)


def _read_until(fd: int, wanted: bytes, timeout: float = 10.0) -> bytes:
    data = bytearray()

    def seen() -> bool:
        with contextlib.suppress(BlockingIOError):  # nothing to read yet
            data.extend(os.read(fd, 65536))
        return wanted in data

    assert wait_until(seen, timeout=timeout), f"{wanted!r} not read; got {bytes(data[-300:])!r}"
    return bytes(data)


def test_every_shelf_streams_frames_and_answers_a_query(tmp_path: Path) -> None:
    shelves = []
    for seed in (1, 2, 3):
        layout = ShelfLayout.default(plates=2, cells_per_plate=2, seed=seed)
        scenario = shopper_scenario(seed, 120.0, layout.plate_names(), per_minute=10.0)
        shelves.append(PlayedShelf(f"n{seed}", Simulation(scenario, layout, 20.0), tmp_path / f"tty{seed}",
                                   tmp_path / f"truth{seed}.jsonl"))
    player = FleetPlayer(shelves).start()
    try:
        fds = [os.open(tmp_path / f"tty{seed}", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK) for seed in (1, 2, 3)]
        try:
            for fd in fds:
                assert b"$W," in _read_until(fd, b"\n$W,")  # framed weight lines, at 20 SPS
            os.write(fds[1], QUERY)
            assert b"$I,fw=sim-1.0,ch=4,sps=20" in _read_until(fds[1], b"$I,fw=")
        finally:
            for fd in fds:
                os.close(fd)
    finally:
        player.stop()
    summary = player.summary()
    assert [s["queries_answered"] for s in summary["shelves"]] == [0, 1, 0]
    assert all(s["lines_sent"] > 0 for s in summary["shelves"]) and summary["error"] is None
    assert not (tmp_path / "tty1").exists()  # links removed at the stop, as an unplugged device's
    assert (tmp_path / "truth1.jsonl").exists()
