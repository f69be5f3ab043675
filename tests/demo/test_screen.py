"""The demo's score (edge/demo/screen.py): what the hub received, matched one to one against the simulator's
ground truth, counted from when the node was weighing; an item across two plates may come as one weight event
per plate, and each of those matches it."""

from __future__ import annotations

import io

from edge.demo.screen import DemoView
from edge.hub.tracker import HubRecord
from edge.sim.truth import TruthKind, TruthRecord

T0 = 1_796_000_000.0


def truth(id: int, t: float, plates: dict[str, float]) -> TruthRecord:
    kind: TruthKind = "put" if sum(plates.values()) > 0 else "pick"
    return TruthRecord(id, kind, T0 + t, T0 + t + 2.0, plates, "gum-pack", 1, True, "")


def weight_event(seq: int, t: float, deltas: dict[str, float]) -> HubRecord:
    body = {"t_start_unix": T0 + t, "t_end_unix": T0 + t + 2.0, "plate_deltas_g": deltas,
            "delta_g": sum(deltas.values())}
    return HubRecord(0.0, "t", "s", "n", "event", True, [], None, {"kind": "weight", "seq": seq, "body": body})


def view_of(records: list[HubRecord], weighing_from: float | None, shown: list[TruthRecord]) -> DemoView:
    view = DemoView(io.StringIO(), live=False, header="")
    for record in records:
        view.on_record(record)
    view.weighing_from = weighing_from
    view.flush(shown)
    return view


def test_an_item_across_two_plates_reported_per_plate_matches_twice_a_single_plate_one_once() -> None:
    shown = [truth(0, 10.0, {"p3": 11.5, "p4": 21.1}), truth(1, 20.0, {"p1": -265.0})]
    view = view_of([weight_event(1, 10.0, {"p4": 20.5}), weight_event(2, 10.0, {"p3": 11.7}),
                    weight_event(3, 20.0, {"p1": -264.0}), weight_event(4, 20.2, {"p1": -263.0})], T0, shown)
    assert [event.truth.id if event.truth else None for event in view.events] == [0, 0, 1, None]
    assert (len(view.scored), view.matched) == (4, 3)


def test_events_of_changes_begun_before_the_node_was_weighing_are_not_scored() -> None:
    shown = [truth(0, 1.0, {"p3": -32.0}), truth(1, 20.0, {"p1": -265.0})]
    records = [weight_event(1, 1.0, {"p3": -32.0}), weight_event(2, 20.0, {"p1": -264.0})]
    view = view_of(records, T0 + 10.0, shown)
    assert view.received == 2 and [event.seq for event in view.scored] == [2] and view.matched == 1
    assert view_of(records, None, shown).scored == []  # never weighing: nothing to score
