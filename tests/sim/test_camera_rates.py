"""The statistical camera's rates re-measured from rendered-frame sightings (edge.sim.camera.measure.camera_rates):
per family the hit rate, the hits' best scores, other labels' shares and the hand share; the rest as before."""

from __future__ import annotations

from edge.model import PlateEvidence
from edge.sim.camera.measure import Sighting, camera_rates
from edge.sim.stat_camera import measured_rates


def sighting(labels: dict[str, tuple[float, float]], hand: bool, family: str = "Bravo-Orange-Juice") -> Sighting:
    evidence = PlateEvidence(plate="p1", labels=labels, frames=30, hand_present=hand)
    return Sighting(1, "pick", "bravo-orange-1l", "bottle", f"{family}/x.jpg", family, 30, evidence)


def test_rates_per_family_from_sightings() -> None:
    base = measured_rates()
    seen = [sighting({"bottle": (0.61, 0.55), "cup": (0.7, 0.6), "person": (0.8, 0.8)}, True),
            sighting({}, False), sighting({"book": (0.52, 0.52)}, False), sighting({"bottle": (0.7, 0.6)}, False)]
    rates = camera_rates(seen, base)
    look = rates.looks["Bravo-Orange-Juice"]
    assert look.label == "bottle" and look.hit == 0.5 and look.best_scores == (0.61, 0.7)
    assert look.confusions == {"book": 0.25, "cup": 0.25}  # the hand label is not a confusion
    assert rates.hand_seen == 0.25
    assert rates.looks["Granny-Smith"] == base.looks["Granny-Smith"]  # not measured here: unchanged
    assert rates.no_look == base.no_look and rates.false_per_s == base.false_per_s
