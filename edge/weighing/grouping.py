"""Turn closed per-plate segments into weight events: one event per item, even across plates.

Segments whose changes began within `onset_s` of each other and whose decisive moves (the
first times each plate passed 25/50/75 % of the way to its new level: the lift of a pick, the
arrival of a put; compared by the median of the three gaps) happened within `change_s` form a
cluster: an item lying across plates moves them as one rigid body, while two
hands on neighbouring plates almost never lift at the same instant. If `adjacent_only`, only
neighbouring plates (consecutive in the config's plate list) can cluster. The Weigher makes a
cluster wait (at most `wait_s` after its first segment closed) while a plate that started with
it is still active or a neighbouring plate still shakes (a hand on the shelf).
Then members whose change is significant form the event if their total reaches
`min_event_g`; members of opposite sign are separate events (a pick and a put at once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.model import Quality, WeightEvent
from edge.weighing.plate import Segment
from edge.weighing.shape import proportionality_error
from edge.weighing.trace import plate_trace

MAX_BLUR_S = 0.3
MIN_SHARE = 0.05  # smallest share of an item across plates, relative to its largest share
PROFILE_TELLING = 0.6  # largest normalized profile error the 'same profile' test may allow


@dataclass(frozen=True, slots=True)
class GroupingParams:
    min_event_g: float
    onset_s: float
    change_s: float
    wait_s: float
    adjacent_only: bool
    noisy_sigma_g: float
    smooth_span: int  # samples in ~0.1 s (smoothing before comparing profiles)
    profile_onset_s: float
    profile_same_g: float
    profile_differ_g: float

    @property
    def share_g(self) -> float:
        """Smallest change of one plate that counts as its share of a multi-plate item."""
        return 0.2 * self.min_event_g


@dataclass(frozen=True, slots=True)
class Decision:
    commit: list[int]  # plate indices whose new level becomes their reference
    reject: list[int]
    events: list[WeightEvent]


def clusters(segments: list[Segment], params: GroupingParams) -> list[list[Segment]]:
    """Connected groups of segments that belong together (on neighbouring plates)."""
    ordered = sorted(segments, key=lambda s: (s.t_start, s.plate))
    groups: list[list[Segment]] = []
    for segment in ordered:
        linked = [group for group in groups if any(_together(segment, other, params) for other in group)]
        merged = [segment]
        for group in linked:  # a segment may join two groups into one (a chain across plates)
            merged += group
            groups.remove(group)
        groups.append(sorted(merged, key=lambda s: (s.t_start, s.plate)))
    return groups


def _together(a: Segment, b: Segment, params: GroupingParams) -> bool:
    if params.adjacent_only and abs(a.plate - b.plate) != 1:
        return False
    if (a.delta_g > 0) != (b.delta_g > 0):
        return False  # one rigid item moves both plates the same way
    onset = abs(a.t_start - b.t_start)
    # when the decisive moves happened: a plate shaken by a neighbour's earlier handling opens early
    moved = min(onset, abs(a.t_marks[1] - b.t_marks[1]))
    if moved > max(params.onset_s, params.profile_onset_s):
        return False
    mismatch = profile_mismatch_g(a, b, params.smooth_span)
    if mismatch > params.profile_differ_g:
        return False  # not proportional all along: two hands, even if they lifted in the same instant
    # the profile test speaks only when both shares are well above the vibration it allows
    telling = params.profile_same_g * math.sqrt(1.0 / a.delta_g**2 + 1.0 / b.delta_g**2) <= PROFILE_TELLING
    if telling and mismatch <= params.profile_same_g and moved <= params.profile_onset_s:
        return True  # one profile on both plates: the onset of a small share under vibration is late
    if onset > params.onset_s:
        return False
    # a small share under strong vibration blurs its half-way time: allow 3 sigma of it (<= 0.3 s)
    blur = min(3.0 * math.hypot(a.t_change_sigma, b.t_change_sigma), MAX_BLUR_S)
    gaps = sorted(abs(x - y) for x, y in zip(a.t_marks, b.t_marks, strict=True))
    return gaps[len(gaps) // 2] <= max(params.change_s, blur)  # the median of the three marks


def profile_mismatch_g(a: Segment, b: Segment, smooth_span: int) -> float:
    """How far the two plates' changes are from proportional, in grams of shelf vibration that
    would explain it (RMS of the normalized difference over the normalized noise of a unit)."""
    error = proportionality_error(a.trace, b.trace, a.level_before, a.level_after, b.level_before, b.level_after,
                                  smooth_span)
    return error / math.sqrt(1.0 / a.delta_g**2 + 1.0 / b.delta_g**2) if math.isfinite(error) else math.inf


def started_with(group: list[Segment], active_since: float, plate: int, params: GroupingParams) -> bool:
    """Could a still-active plate be part of this cluster?"""
    return any(
        abs(active_since - s.t_start) <= params.onset_s and (not params.adjacent_only or abs(plate - s.plate) == 1)
        for s in group
    )


def decide(group: list[Segment], plate_names: list[str], faulty_channels: dict[int, list[int]],
           params: GroupingParams) -> Decision:
    """Which members commit, which are rejected, and the events they make."""
    # a plate carrying under 5 % of the largest share is not part of the item (a level nudged by
    # the handling, not a share of it): it is left out, its change carried to its next event
    largest = max(abs(s.delta_g) for s in group)
    significant = [s for s in group if abs(s.delta_g) >= max(4.0 * s.sigma_g, params.share_g, MIN_SHARE * largest)]
    events: list[WeightEvent] = []
    committed: list[Segment] = []
    for sign in (-1.0, 1.0):
        side = [s for s in significant if math.copysign(1.0, s.delta_g) == sign]
        total = sum(s.delta_g for s in side)
        if abs(total) >= params.min_event_g:
            events.append(_event(side, plate_names, faulty_channels, params))
            committed += side
    commit = sorted(s.plate for s in committed)
    reject = sorted(s.plate for s in group if s.plate not in commit)
    return Decision(commit, reject, sorted(events, key=lambda e: e.t_start))


def _event(side: list[Segment], plate_names: list[str], faulty_channels: dict[int, list[int]],
           params: GroupingParams) -> WeightEvent:
    side = sorted(side, key=lambda s: s.plate)
    flags: list[str] = []
    faulty = [s.plate for s in side if s.faulty or faulty_channels.get(s.plate)]
    for plate in faulty:
        channels = faulty_channels.get(plate) or []
        flags.append(f"faulty_channel:{plate_names[plate]}" + "".join(f":{c}" for c in channels))
    forced = any(s.forced for s in side)
    noisy = any(s.noise_g > params.noisy_sigma_g for s in side)
    if forced:
        flags.append("forced")
    if noisy:
        flags.append("noisy")
    if len(side) > 1:
        flags.append("multi_plate")
    if any(s.outage for s in side):
        flags.append("serial_outage")
    quality: Quality = "faulty_channel" if faulty else "forced" if forced else "noisy" if noisy else "settled"
    return WeightEvent(
        t_start=min(s.t_start for s in side),
        t_end=max(s.t_end for s in side),
        plate_deltas={plate_names[s.plate]: round(s.delta_g, 3) for s in side},
        delta_g=round(sum(s.delta_g for s in side), 3),
        sigma_g=round(math.sqrt(sum(s.sigma_g**2 for s in side)), 3),
        quality=quality,
        flags=tuple(flags),
        traces=tuple(t for s in side if (t := plate_trace(plate_names[s.plate], s.trace)) is not None),
    )
