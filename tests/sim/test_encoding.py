"""The lines the simulated MCU sends parse back; faults show exactly where the scenario put them."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from edge.loadcell.framing import weight_frame
from edge.loadcell.recording import read_capture, read_header
from edge.sim.mcu import corrupt_line, glitch_value
from edge.sim.offline import DEFAULT_START, simulate_to_capture
from tests.sim.helpers import frame_ok, quiet_scenario, weight_fields

FAULTS = [
    {"at": 3.0, "kind": "drop_lines", "duration_s": 0.1},  # 8 lines at 80 SPS
    {"at": 5.0, "kind": "corrupt", "mode": "bitflip"},
    {"at": 6.0, "kind": "corrupt", "mode": "truncate"},
    {"at": 8.0, "kind": "reboot", "duration_s": 0.5},
    {"at": 10.0, "kind": "dropout", "channel": 3, "duration_s": 1.0},
]


def test_framed_lines_checksum_seq_and_reboot(tmp_path: Path) -> None:
    scenario = quiet_scenario(12.0, FAULTS)
    simulate_to_capture(scenario, tmp_path / "a.cap", tmp_path / "a.jsonl", sps=80)
    header = read_header(tmp_path / "a.cap")
    assert header["protocol"] == "framed" and header["channels"] == "8" and header["sps"] == "80"
    assert "seed=5" in header["source"]
    lines = [raw for _, raw in read_capture(tmp_path / "a.cap")]
    bad = [line for line in lines if not frame_ok(line)]
    assert len(bad) == 2, bad  # exactly the two corrupted lines
    assert lines[0].startswith(b"$I,fw=") and b"ch=8" in lines[0] and b"sps=80" in lines[0]
    infos = [i for i, line in enumerate(lines) if line.startswith(b"$I")]
    assert len(infos) == 2  # boot, and after the reboot
    frames = [(i, weight_fields(line)) for i, line in enumerate(lines) if frame_ok(line) and line.startswith(b"$W")]
    gaps = []
    for (_, prev), (i, cur) in itertools.pairwise(frames):
        if cur[0] != prev[0] + 1:
            gaps.append((prev[0], cur[0], i - 1 in infos))
        assert len(cur[2]) == 8
    # 8 lost lines, 2 corrupted lines (seq skips them), then a restart at 0 right after an info frame
    assert (239, 248, False) in gaps
    restarts = [g for g in gaps if g[1] == 0]
    assert len(restarts) == 1 and restarts[0][2]
    after_reboot = [f for _, f in frames if f[0] < 20 and f[1] < 300]
    assert after_reboot[-1][1] > after_reboot[0][1]  # t_ms restarts near 0 and counts up
    dropout = [f for _, f in frames if f[2][3] is None]
    assert 78 <= len(dropout) <= 81  # channel 3 silent for 1.0 s at 80 SPS
    assert all(v is not None for f in dropout for k, v in enumerate(f[2]) if k != 3)


def test_plain_lines_and_times(tmp_path: Path) -> None:
    simulate_to_capture(quiet_scenario(3.0), tmp_path / "p.cap", tmp_path / "p.jsonl", protocol="plain", sps=10)
    records = list(read_capture(tmp_path / "p.cap"))
    assert records[0][1].startswith(b"shelf-sim")  # boot banner, as Arduino sketches print
    rows = [raw.decode().split(",") for _, raw in records[1:]]
    assert len(rows) == 30 and all(len(r) == 8 for r in rows)
    assert all(-(2**23) <= int(v) < 2**23 for r in rows for v in r)
    times = [t for t, _ in records]
    assert times == sorted(times) and DEFAULT_START <= times[0] < DEFAULT_START + 0.1


def test_plain_grams_firmware_shows_saturation(tmp_path: Path) -> None:
    lean = {"at": 1.0, "kind": "lean", "plate": "p1", "grams": 35000.0, "duration_s": 2.0}
    result = simulate_to_capture(
        quiet_scenario(5.0, [lean]), tmp_path / "g.cap", tmp_path / "g.jsonl", protocol="plain", sps=10,
        plain_units="grams",
    )  # fmt: skip
    rows = [[float(v) for v in raw.decode().split(",")] for _, raw in list(read_capture(tmp_path / "g.cap"))[1:]]
    p3 = [r[4] + r[5] for r in rows]  # not a neighbour of p1: no vibration from the lean
    assert max(p3) - min(p3) < 10.0 and 1000.0 < p3[0] < 10_000.0  # a loaded plate, in grams
    rail = (2**23 - 1 - result.layout.offsets[0]) / result.layout.counts_per_gram[0]
    held = [r[0] for r in rows[22:28]]  # 2.2-2.8 s: the lean is fully on
    assert all(abs(v - rail) < 0.1 for v in held)


@given(
    seq=st.integers(0, 2**32 - 1),
    counts=st.lists(st.one_of(st.none(), st.integers(-(2**23), 2**23 - 1)), min_size=1, max_size=16),
    key=st.integers(0, 2**31 - 1),
    mode=st.sampled_from(["bitflip", "truncate"]),
)
def test_a_corrupted_line_never_passes_the_checksum(seq: int, counts: list[int | None], key: int, mode: str) -> None:
    line = weight_frame(seq, seq * 12, counts)
    assert frame_ok(line)
    bad = corrupt_line(line, mode, key)
    assert not frame_ok(bad)
    assert bad.endswith(b"\n") and bad.count(b"\n") == 1 and b"\r" not in bad  # still exactly one line


@given(value=st.integers(-(2**23), 2**23 - 1), key=st.integers(0, 2**31 - 1))
def test_a_bitflip_glitch_is_far_off_and_in_range(value: int, key: int) -> None:
    wild = glitch_value(value, "bitflip", key)
    assert wild is not None and -(2**23) <= wild < 2**23
    assert abs(wild - value) >= 2**18  # >= ~570 g at 460 counts/g
