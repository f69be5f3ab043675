"""Turn scenario actions into physics (shapes, vibration, creep, line faults) and ground truth.

The resolver keeps the shelf's stock as it goes (which exact units lie on each plate, what the
shopper carries), so a put-back puts back the very unit that was picked, with its own weight.
It is stateful so a live simulator can add actions while running (`add`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edge.errors import ConfigError
from edge.sim.layout import ShelfLayout
from edge.sim.scenario import FAULT_KINDS, Action, Scenario
from edge.sim.shapes import Shape, damped_step, ramp, ring, split_over
from edge.sim.stock import Stock
from edge.sim.tags import static_tags
from edge.sim.truth import TruthRecord


@dataclass(frozen=True, slots=True)
class Handling:
    """Shelf vibration while a hand is on it: plate-level sigma over [t0, t1)."""

    t0: float
    t1: float
    plate: int
    sigma_g: float
    key: int  # seeds this window's own noise stream (independent of render block sizes)


@dataclass(frozen=True, slots=True)
class LineFault:
    """Something the MCU or the link does to the lines themselves (applied by the encoder)."""

    kind: str  # glitch | dropout | drop_lines | corrupt | reboot
    t0: float
    t1: float
    channel: int | None = None
    mode: str = ""
    key: int = 0


@dataclass
class Resolved:
    truth: TruthRecord
    t_change: float | None = None  # when the final load change began (lift / release); None for no change
    shapes: list[Shape] = field(default_factory=list)


class Resolver:
    def __init__(self, scenario: Scenario, layout: ShelfLayout) -> None:
        self.scenario = scenario
        self.layout = layout
        self.physics = layout.physics
        self.rng = np.random.default_rng([scenario.seed, 0xAC7])
        self.shapes: list[Shape] = []
        self.handling: list[Handling] = []
        self.creep: list[tuple[float, int, float]] = []  # (t, channel, grams of load change)
        self.faults: list[LineFault] = []
        self.resolved: list[Resolved] = []
        self.stock = Stock(scenario, layout.plate_names(), self.rng)
        self.initial_load = np.zeros(layout.channels)
        self._stock_the_shelf()

    # ----------------------------------------------------------------- set-up
    def _stock_the_shelf(self) -> None:
        for declared in self.scenario.planogram:
            self.layout.plate_index(declared.plate)  # a slot on a plate the shelf lacks is an error
        for plate in self.layout.plates:
            slots = self.scenario.slots(plate.name)
            trays = [s.tray_g for s in slots if s.tray_g is not None]
            tray = trays[0] if trays else self.rng.uniform(*self.physics.tray_g)
            for slot in slots:  # a mixed plate holds several SKUs
                units = [self.stock.new_unit(slot.sku) for _ in range(slot.stock)]
                self.stock.place([plate.name], slot.sku, units, 1.0)
            load = tray + sum(g for _, g in self.stock.units[plate.name])
            weights = self._position(len(plate.channels))
            self.initial_load[list(plate.channels)] += split_over(plate.channels, load, weights)

    def _position(self, cells: int) -> np.ndarray:
        """Where on the plate a load sits, as the share each cell carries."""
        return 1.0 + 0.4 * self.rng.uniform(-1.0, 1.0, size=cells)

    def _u(self, bounds: tuple[float, float]) -> float:
        return float(self.rng.uniform(*bounds))

    # ----------------------------------------------------------------- actions
    def resolve_all(self) -> list[Resolved]:
        for action in sorted(self.scenario.actions, key=lambda a: a.at):
            self.add(action)
        # overlapping actions append slightly out of order; the renderer walks these by time
        self.creep.sort(key=lambda event: event[0])
        self.handling.sort(key=lambda window: window.t0)
        self.faults.sort(key=lambda fault: fault.t0)
        return self.resolved

    def add(self, action: Action) -> Resolved:
        where = f"{action.kind} at {action.at:g} s"
        try:
            for plate in action.plate_list():
                self.layout.plate_index(plate)
            handler = getattr(self, f"_{action.kind}")
            resolved: Resolved = handler(action)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        self.shapes.extend(resolved.shapes)
        self.resolved.append(resolved)
        return resolved

    def _truth(self, kind: str, a: Action, t_settled: float, plates: dict[str, float], **kw: object) -> TruthRecord:
        detail = str(kw.get("detail", ""))
        if a.note:
            detail = f"{detail}; {a.note}" if detail else a.note
        record = TruthRecord(
            id=len(self.resolved),
            kind=kind,  # type: ignore[arg-type]
            t_start=a.at,
            t_settled=t_settled,
            plates=plates,
            sku=kw.get("sku"),  # type: ignore[arg-type]
            count=int(kw.get("count", 0)),  # type: ignore[call-overload]
            expect_event=kind in {"pick", "put", "restock"},
            detail=detail,
            misplaced=bool(kw.get("misplaced", False)),
        )
        return record.with_tags(static_tags(self.scenario, record, self._present(record)))

    def _present(self, record: TruthRecord) -> set[str]:
        """SKUs lying on the record's plates now (misplaced units included)."""
        present = {sku for plate in record.plates for sku, _ in self.stock.units.get(plate, [])}
        return present | {sku for pair, sku, _, _ in self.stock.across if set(pair) & set(record.plates)}

    def _channels(self, plates: list[str], shares: list[float]) -> tuple[tuple[int, ...], np.ndarray]:
        """Channels under `plates`, and each channel's share of a load (plates split by `shares`)."""
        channels: list[int] = []
        weights: list[float] = []
        for name, share in zip(plates, shares, strict=True):
            spec = self.layout.plates[self.layout.plate_index(name)]
            position = self._position(len(spec.channels))
            channels.extend(spec.channels)
            weights.extend(share * position / position.sum())
        return tuple(channels), np.asarray(weights)

    def _shake(self, t0: float, t1: float, plates: list[str]) -> None:
        """The touched plates and their neighbours vibrate while the hand is on the shelf."""
        touched = {self.layout.plate_index(p) for p in plates}
        for index in sorted(touched | {n for p in touched for n in self.layout.neighbours(p)}):
            sigma = self.physics.handling_sigma(float(self.rng.standard_normal()))
            key = int(self.rng.integers(2**31))
            self.handling.append(Handling(t0, t1, index, sigma, key))

    def _hand(self) -> float:
        low, high = self.physics.hand_press_g
        return float(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def _pick(self, a: Action) -> Resolved:
        plates = a.plate_list()
        detail = ""
        if len(plates) == 2:
            total, sku, shares = self.stock.take_across(plates, a.sku)
            detail = f"item across {plates[0]}+{plates[1]}; "
        else:
            sku = a.sku or self.stock.default_sku(plates[0])
            total, shares = sum(self.stock.take(plates[0], sku, a.count)), [1.0]
        hand = self._hand()
        dwell = self._u(self.physics.dwell_s)
        settle, freq = self._u(self.physics.settle_s), self._u(self.physics.oscillation_hz)
        channels, weights = self._channels(plates, shares)
        press = ramp(a.at, self._u((0.08, 0.25)), channels, split_over(channels, hand, weights))
        lift = damped_step(a.at + dwell, settle, freq, channels, split_over(channels, -(total + hand), weights))
        deltas = {p: -total * s for p, s in zip(plates, shares, strict=True)}
        self._record_creep(lift.t0, channels, -total * weights / weights.sum())
        self._shake(a.at, lift.t0 + 0.1, plates)
        detail += f"hand {hand:.0f} g for {dwell:.2f} s"
        t_settled = max(lift.settled_at(abs(d) + hand * s) for d, s in zip(deltas.values(), shares, strict=True))
        truth = self._truth("pick", a, t_settled, deltas, sku=sku, count=a.count, detail=detail)
        return Resolved(truth, lift.t0, [press, lift])

    def _put(self, a: Action, kind: str = "put") -> Resolved:
        plates = a.plate_list()
        sku = a.sku or self.stock.default_sku(plates[0])
        placements = a.count if kind == "restock" else 1
        per_place = 1 if kind == "restock" else a.count
        t = a.at
        shapes: list[Shape] = []
        total = 0.0
        shares = [a.split, 1.0 - a.split] if len(plates) == 2 else [1.0]
        channels, weights = self._channels(plates, shares)
        t_settled = t
        for _ in range(placements):
            source = self.stock.from_basket if kind == "put" else self.stock.new_unit
            units = [source(sku) for _ in range(per_place)]
            grams = sum(units)
            total += grams
            self.stock.place(plates, sku, units, a.split)
            held = grams * self._u((-0.5, 0.3))  # hand still carrying part of it, or pressing it down
            held = math.copysign(max(abs(held), 20.0), held)
            settle, freq = self._u(self.physics.settle_s), self._u(self.physics.oscillation_hz)
            arrive = damped_step(t, self._u((0.2, 0.4)), freq, channels, split_over(channels, grams + held, weights))
            release_at = t + self._u((0.3, 0.9))
            release = damped_step(release_at, settle, freq, channels, split_over(channels, -held, weights))
            shapes += [arrive, release]
            self._record_creep(release_at, channels, grams * weights / weights.sum())
            t_settled = max(arrive.settled_at(), release.settled_at())
            t = release_at + self._u((0.3, 0.8))
        self._shake(a.at, t_settled - 0.2, plates)
        deltas = {p: total * s for p, s in zip(plates, shares, strict=True)}
        detail = f"item across {plates[0]}+{plates[1]}" if len(plates) == 2 else ""
        home = self.scenario.home(sku)
        misplaced = kind == "put" and not any(self.scenario.belongs(p, sku) for p in plates)
        if misplaced and len(plates) == 1:
            detail = f"wrong plate: {sku} belongs on {'+'.join(home) or 'no plate'}"
        count = a.count
        truth = self._truth(kind, a, t_settled, deltas, sku=sku, count=count, detail=detail, misplaced=misplaced)
        return Resolved(truth, shapes[-1].t0, shapes)

    def _restock(self, a: Action) -> Resolved:
        return self._put(a, kind="restock")

    def _bump(self, a: Action) -> Resolved:
        centre = self.layout.plate_index(a.plate) if a.plate else int(self.rng.integers(len(self.layout.plates)))
        strength = a.grams or float(math.exp(self.rng.uniform(math.log(20.0), math.log(300.0))))
        freq = self._u(self.physics.oscillation_hz)
        shapes: list[Shape] = []
        for index, plate in enumerate(self.layout.plates):
            distance = abs(index - centre)
            amplitude = strength * (1.0, 0.4, 0.15)[min(distance, 2)] * float(self.rng.choice([-1.0, 1.0]))
            channels, weights = self._channels([plate.name], [1.0])
            shapes.append(
                ring(a.at, self._u(self.physics.settle_s), freq, channels, split_over(channels, amplitude, weights))
            )
        names = self.layout.plate_names()
        settled = max(s.settled_at() for s in shapes)
        truth = self._truth(
            "bump", a, settled, dict.fromkeys(names, 0.0), detail=f"knock {strength:.0f} g at {names[centre]}"
        )
        return Resolved(truth, None, shapes)

    def _lean(self, a: Action) -> Resolved:
        plates = a.plate_list()
        force = a.grams or self._u((1500.0, 12000.0))
        hold = a.duration_s or self._u((1.0, 6.0))
        rise = self._u((0.2, 0.6))
        channels, _ = self._channels(plates, [1.0 / len(plates)] * len(plates))
        front = np.full(len(channels), 0.2 / max(len(channels) - 1, 1))
        front[0] = 0.8 if len(channels) > 1 else 1.0  # an elbow on the front edge loads one cell most
        push = ramp(a.at, rise, channels, split_over(channels, force, front))
        release = damped_step(
            a.at + rise + hold,
            self._u(self.physics.settle_s),
            self._u(self.physics.oscillation_hz),
            channels,
            split_over(channels, -force, front),
        )
        self._shake(a.at, release.t0, plates)
        truth = self._truth(
            "lean", a, release.settled_at(), dict.fromkeys(plates, 0.0), detail=f"lean {force:.0f} g for {hold:.1f} s"
        )
        return Resolved(truth, None, [push, release])

    def _fault(self, a: Action, duration: float, channel: int | None, mode: str, detail: str) -> Resolved:
        key = int(self.rng.integers(2**31))
        self.faults.append(LineFault(a.kind, a.at, a.at + duration, channel, mode, key))
        plates = {}
        if channel is not None:
            plates = {p.name: 0.0 for p in self.layout.plates if channel in p.channels}
        kind = "fault" if a.kind in FAULT_KINDS else "reboot"
        return Resolved(self._truth(kind, a, a.at + duration, plates, detail=detail), None, [])

    def _pick_channel(self, a: Action) -> int:
        if a.channel is not None:
            if a.channel >= self.layout.channels:
                raise ConfigError(f"channel {a.channel} does not exist (0..{self.layout.channels - 1})")
            return a.channel
        spec = self.layout.plates[self.layout.plate_index(a.plate or "")]
        return int(self.rng.choice(spec.channels))

    def _glitch(self, a: Action) -> Resolved:
        channel = self._pick_channel(a)
        mode = a.mode or str(self.rng.choice(["bitflip", "bitflip", "rail", "zero"]))
        return self._fault(a, 0.0, channel, mode, f"glitch: one {mode} sample on channel {channel}")

    def _dropout(self, a: Action) -> Resolved:
        channel = self._pick_channel(a)
        duration = a.duration_s or self._u((0.3, 5.0))
        return self._fault(a, duration, channel, "", f"channel {channel} not answering for {duration:.2f} s")

    def _drop_lines(self, a: Action) -> Resolved:
        duration = a.duration_s or self._u((0.02, 0.5))
        return self._fault(a, duration, None, "", f"lines lost for {duration:.2f} s")

    def _corrupt(self, a: Action) -> Resolved:
        mode = a.mode or str(self.rng.choice(["bitflip", "truncate"]))
        return self._fault(a, 0.0, None, mode, f"one {mode} line")

    def _reboot(self, a: Action) -> Resolved:
        duration = a.duration_s or self._u((0.5, 2.0))
        return self._fault(a, duration, None, "", f"MCU reboot, silent for {duration:.2f} s")

    def _camera_down(self, a: Action) -> Resolved:
        """The camera delivers no frames for a while: no load change, only truth (for the camera models)."""
        duration = a.duration_s or self._u((10.0, 60.0))
        truth = self._truth("camera", a, a.at + duration, {}, detail=f"camera down for {duration:.1f} s")
        return Resolved(truth, None, [])

    def _record_creep(self, t: float, channels: tuple[int, ...], grams: np.ndarray) -> None:
        self.creep.extend((t, c, float(g)) for c, g in zip(channels, grams, strict=True))

    def plate_stock(self) -> dict[str, list[tuple[str, float]]]:
        return self.stock.contents()
