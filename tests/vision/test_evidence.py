"""Plate regions, hands, evidence aggregation and the bounded snapshot store (pure logic, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.model import Detection
from edge.vision.evidence import AnalysedFrame, build_evidence
from edge.vision.geometry import box_overlap_fraction, point_in_polygon
from edge.vision.regions import PlateRegion, assign, plate_of, touched_plates
from edge.vision.snapshots import SnapshotStore

LEFT = PlateRegion("p1", ((0, 0), (320, 0), (320, 480), (0, 480)))
RIGHT = PlateRegion("p2", ((320, 0), (640, 0), (640, 480), (320, 480)))
# A slanted quadrilateral (camera looking down at an angle), away from the other two.
SLANTED = PlateRegion("p3", ((700, 100), (900, 120), (880, 300), (720, 280)))
REGIONS = [LEFT, RIGHT, SLANTED]


def det(label: str, score: float, box: tuple[int, int, int, int]) -> Detection:
    return Detection(label, 0, score, box)


def test_polygon_geometry() -> None:
    assert point_in_polygon((800, 200), SLANTED.polygon)
    assert not point_in_polygon((890, 110), SLANTED.polygon)  # above the slanted top edge
    assert box_overlap_fraction((220, 0, 420, 100), LEFT.polygon) == pytest.approx(0.5)
    assert box_overlap_fraction((1000, 0, 1100, 100), LEFT.polygon) == 0.0


def test_detections_go_to_the_plate_holding_their_centre_or_most_of_them() -> None:
    assert plate_of(det("apple", 0.9, (100, 100, 200, 200)), REGIONS, 0.3) == "p1"
    assert plate_of(det("apple", 0.9, (780, 180, 820, 220)), REGIONS, 0.3) == "p3"
    # centre off every plate, 40% of the box on p3's bounding area: assigned by overlap
    assert plate_of(det("apple", 0.9, (650, 150, 750, 250)), REGIONS, 0.3) == "p3"
    assert plate_of(det("apple", 0.9, (650, 150, 750, 250)), REGIONS, 0.6) is None
    assert plate_of(det("apple", 0.9, (1000, 500, 1100, 600)), REGIONS, 0.3) is None


def test_hand_marks_touched_plates_and_is_not_an_item() -> None:
    detections = [det("person", 0.8, (600, 0, 760, 200)), det("banana", 0.7, (350, 50, 450, 150))]
    assert touched_plates(detections, REGIONS, "person") == {"p2", "p3"}
    assigned = assign(detections, REGIONS, 0.3, "person")
    assert [d.label for d in assigned["p2"]] == ["banana"] and assigned["p1"] == [] and assigned["p3"] == []


def test_evidence_best_and_mean_per_label_frames_and_best_frame() -> None:
    frames = [
        AnalysedFrame(1.0, 10, (det("apple", 0.6, (10, 10, 60, 60)), det("apple", 0.5, (100, 10, 150, 60)))),
        AnalysedFrame(1.1, 11, (det("apple", 0.8, (10, 10, 60, 60)), det("person", 0.9, (300, 0, 400, 100)))),
        AnalysedFrame(1.2, 12, (det("orange", 0.7, (400, 10, 450, 60)),)),
    ]
    result = build_evidence(frames, REGIONS, "person", 0.3)
    p1, p2, p3 = result.evidence["p1"], result.evidence["p2"], result.evidence["p3"]
    assert p1.labels == {"apple": (0.8, pytest.approx(0.7))}  # per-frame maxima 0.6 and 0.8
    assert p1.frames == 3 and p1.hand_present is True  # the hand box straddles p1 and p2
    assert p2.labels == {"orange": (0.7, 0.7)} and p2.hand_present is True
    assert p3.labels == {} and p3.hand_present is False and p3.snapshot is None
    assert result.best_frame == {"p1": 11, "p2": 12}


def test_snapshot_store_is_bounded_by_count_and_bytes(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots", max_count=3, max_bytes=10_000)
    ids = [store.save(bytes([i]) * 1000, t=1_700_000_000 + i) for i in range(5)]
    assert store.ids() == ids[2:]
    assert store.get(ids[0]) is None and store.get(ids[4]) == bytes([4]) * 1000
    big = store.save(b"x" * 9_500, t=1_700_000_010)
    assert store.ids() == [big] and store.total_bytes() <= 10_000
    with pytest.raises(ValueError, match="malformed"):
        store.get("../../etc/passwd")
    assert not list((tmp_path / "snapshots").glob("*.tmp"))


def test_snapshot_store_reopened_keeps_its_bounds_and_drops_half_written_files(tmp_path: Path) -> None:
    directory = tmp_path / "snapshots"
    first = SnapshotStore(directory, max_count=10)
    ids = [first.save(bytes([i]) * 100, t=1_700_000_000 + i) for i in range(6)]
    (directory / "1700000009000-000099.tmp").write_bytes(b"cut short by a power loss")
    (directory / "notes.txt").write_text("not ours: left alone")
    reopened = SnapshotStore(directory, max_count=4)  # the node restarted with a tighter bound
    assert reopened.ids() == ids[2:]
    assert not list(directory.glob("*.tmp")) and (directory / "notes.txt").exists()
    newest = reopened.save(b"n" * 100, t=1_700_000_100)
    assert reopened.ids() == [*ids[3:], newest]


def test_evidence_counts_the_frames_each_label_was_seen_in() -> None:
    orange, apple = det("orange", 0.6, (10, 10, 60, 60)), det("apple", 0.7, (100, 10, 150, 60))
    frames = [AnalysedFrame(1.0 + i / 10, i, (orange, orange) if i % 5 else (orange, apple)) for i in range(20)]
    evidence = build_evidence(frames, REGIONS, "person", 0.3).evidence
    assert evidence["p1"].label_frames == {"orange": 20, "apple": 4}  # two boxes in one frame count once
    assert evidence["p1"].frames == 20 and evidence["p2"].label_frames == {}
