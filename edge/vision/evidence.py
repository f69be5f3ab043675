"""Aggregate per-frame detections in a time window into one `PlateEvidence` per plate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edge.model import Detection, PlateEvidence
from edge.vision.regions import PlateRegion, assign, touched_plates


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    t: float
    seq: int
    detections: tuple[Detection, ...]


@dataclass(frozen=True, slots=True)
class EvidenceResult:
    evidence: dict[str, PlateEvidence]
    best_frame: dict[str, int]  # plate -> seq of the frame with its best-scoring label


def build_evidence(
    frames: Sequence[AnalysedFrame], regions: Sequence[PlateRegion], hand_label: str, min_overlap: float
) -> EvidenceResult:
    """Per plate: each label's best and mean score (mean of per-frame maxima over frames it was seen in) and
    the number of frames it was seen in, frames analysed, whether a hand touched the plate, and which frame
    showed the plate best."""
    per_label: dict[str, dict[str, list[float]]] = {r.name: {} for r in regions}
    best: dict[str, tuple[float, int]] = {}
    hands: set[str] = set()
    for frame in frames:
        hands |= touched_plates(frame.detections, regions, hand_label)
        for plate, detections in assign(frame.detections, regions, min_overlap, hand_label).items():
            frame_max: dict[str, float] = {}
            for detection in detections:
                frame_max[detection.label] = max(frame_max.get(detection.label, 0.0), detection.score)
            for label, score in frame_max.items():
                per_label[plate].setdefault(label, []).append(score)
                if score > best.get(plate, (-1.0, 0))[0]:
                    best[plate] = (score, frame.seq)
    evidence = {
        plate: PlateEvidence(
            plate=plate,
            labels={label: (max(s), sum(s) / len(s)) for label, s in sorted(labels.items())},
            frames=len(frames),
            hand_present=plate in hands,
            label_frames={label: len(s) for label, s in sorted(labels.items())},
        )
        for plate, labels in per_label.items()
    }
    return EvidenceResult(evidence, {plate: seq for plate, (_, seq) in best.items()})
