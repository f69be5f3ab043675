"""Render the shelf's signals in fixed blocks of samples, vectorised with numpy.

Per channel, in grams:  physical load (static + transients)          -> `physical`
                        + handling vibration + creep + zero drift + electrical noise
then counts = offset + grams * counts_per_gram, rounded and clipped to the 24-bit rail.

Blocks are a fixed number of samples and the shared random stream is drawn block by block,
so a given seed gives byte-identical output whether it is rendered offline or live.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from edge.sim.layout import ShelfLayout
from edge.sim.physics import ADC_MAX, ADC_MIN
from edge.sim.resolve import Handling, Resolver
from edge.sim.shapes import Shape

T = TypeVar("T")


class _TimeQueue(Generic[T]):
    """Items appended to a growing source list, handed out in time order (live actions arrive late)."""

    def __init__(self, source: list[T], key: Callable[[T], float]) -> None:
        self._source = source
        self._key = key
        self._seen = 0
        self._keys: list[float] = []
        self._items: list[T] = []

    def pop_until(self, t: float) -> list[T]:
        """Every item whose time is before `t`, in time order."""
        for item in self._source[self._seen :]:
            index = bisect.bisect(self._keys, self._key(item))
            self._keys.insert(index, self._key(item))
            self._items.insert(index, item)
        self._seen = len(self._source)
        count = bisect.bisect_left(self._keys, t)
        taken = self._items[:count]
        del self._items[:count], self._keys[:count]
        return taken


@dataclass(frozen=True, slots=True)
class Block:
    first: int  # index of the first sample
    t: np.ndarray  # (n,) seconds from scenario start
    physical: np.ndarray  # (n, channels) true load in grams (what a perfect, drift-free cell would see)
    sensor_g: np.ndarray  # (n, channels) what the cell reports, in grams, before rounding and clipping
    counts: np.ndarray  # (n, channels) int64 raw ADC counts, clipped to the rail


class Renderer:
    def __init__(self, resolver: Resolver, sps: float, seed: int, block_s: float = 1.0, noise: bool = True) -> None:
        self.resolver = resolver
        self.layout: ShelfLayout = resolver.layout
        self.sps = sps
        self.block_len = max(1, round(sps * block_s))
        self.noise = noise
        self.rng = np.random.default_rng([seed, 0x4E01])
        self.next_sample = 0
        self.baseline = resolver.initial_load.copy()
        self._shapes = _TimeQueue(resolver.shapes, lambda shape: shape.t0)
        self._windows = _TimeQueue(resolver.handling, lambda window: window.t0)
        self._creep_events = _TimeQueue(resolver.creep, lambda event: event[0])
        self._active: list[Shape] = []
        self._vibration: dict[int, np.ndarray] = {}
        self._handling_active: list[Handling] = []
        channels = self.layout.channels
        self._creep_total = np.zeros(channels)  # creep every past change will reach
        self._creep_deficit = np.zeros(channels)  # how much of it is still to come, at the block start
        self._walk = np.zeros(channels)

    @property
    def rendered_until(self) -> float:
        """Scenario time of the first sample not rendered yet (new actions must start after it)."""
        return self.next_sample / self.sps

    def next_block(self) -> Block:
        first = self.next_sample
        n = self.block_len
        t = (first + np.arange(n)) / self.sps
        self.next_sample += n
        physical = self._physical(t)
        sensor = physical + self._creep(t)
        if self.noise:
            sensor += self._vibration_in(t) + self._drift(t)
            sensor += self.rng.standard_normal((n, self.layout.channels)) * self.layout.noise_g
        counts = np.rint(sensor * self.layout.counts_per_gram) + self.layout.offsets
        counts = np.clip(counts, ADC_MIN, ADC_MAX).astype(np.int64)
        return Block(first, t, physical, sensor, counts)

    # ------------------------------------------------------------ components
    def _physical(self, t: np.ndarray) -> np.ndarray:
        self._active.extend(self._shapes.pop_until(float(t[-1]) + 0.5 / self.sps))
        still_active: list[Shape] = []
        for shape in self._active:
            if shape.end() <= t[0]:
                self.baseline[list(shape.channels)] += shape.final()
            else:
                still_active.append(shape)
        self._active = still_active
        physical = np.repeat(self.baseline[None, :], len(t), axis=0)
        for shape in self._active:
            physical[:, list(shape.channels)] += np.outer(shape.profile(t), shape.amps)
        return physical

    def _vibration_in(self, t: np.ndarray) -> np.ndarray:
        out = np.zeros((len(t), self.layout.channels))
        t0, t1 = float(t[0]), float(t[-1])
        self._handling_active.extend(self._windows.pop_until(t1 + 0.5 / self.sps))
        self._handling_active = [w for w in self._handling_active if w.t1 >= t0]
        for window in self._handling_active:
            if window.t0 > t1:
                continue
            noise = self._window_noise(window)
            first_sample = math.ceil(window.t0 * self.sps)
            index = np.round(t * self.sps).astype(np.int64) - first_sample
            inside = (index >= 0) & (index < len(noise))
            if not inside.any():
                continue
            spec = self.layout.plates[window.plate]
            per_cell = noise[index[inside]] / len(spec.channels)  # the plate moves as a whole
            for channel in spec.channels:
                out[inside, channel] += per_cell
        return out

    def _window_noise(self, window: Handling) -> np.ndarray:
        """Band-limited vibration for one handling window, sigma as drawn, tapered at both ends."""
        noise = self._vibration.get(window.key)
        if noise is not None:
            return noise
        length = max(1, math.ceil(window.t1 * self.sps) - math.ceil(window.t0 * self.sps))
        rng = np.random.default_rng([window.key, 0x71B])
        width = max(1, round(self.sps / self.layout.physics.vibration_hz))
        raw = rng.standard_normal(length + width - 1)
        kernel = np.ones(width) / math.sqrt(width)  # moving sum keeps unit variance
        noise = np.convolve(raw, kernel, mode="valid") * window.sigma_g
        taper = min(length // 2, max(1, round(0.1 * self.sps)))
        if taper > 1:
            ramp = np.sin(np.linspace(0.0, math.pi / 2, taper)) ** 2
            noise[:taper] *= ramp
            noise[-taper:] *= ramp[::-1]
        self._vibration[window.key] = noise
        if len(self._vibration) > 64:  # forget windows long past; keeps memory flat on long runs
            live = {w.key for w in self._handling_active}
            self._vibration = {k: v for k, v in self._vibration.items() if k in live}
        return noise

    def _creep(self, t: np.ndarray) -> np.ndarray:
        """Each load change creeps by a fraction of itself, approached exponentially (tau per cell)."""
        fraction, tau = self.layout.creep_fraction, self.layout.creep_tau_s
        t0, t_next = float(t[0]), float(t[-1]) + 1.0 / self.sps
        out = self._creep_total[None, :] - self._creep_deficit[None, :] * np.exp(-(t[:, None] - t0) / tau[None, :])
        deficit_end = self._creep_deficit * np.exp(-(t_next - t0) / tau)
        for t_event, channel, grams in self._creep_events.pop_until(t_next):
            amount = fraction[channel] * grams
            after = t >= t_event
            out[after, channel] += amount * (1.0 - np.exp(-(t[after] - t_event) / tau[channel]))
            self._creep_total[channel] += amount
            deficit_end[channel] += amount * math.exp(-(t_next - max(t_event, t0)) / tau[channel])
        self._creep_deficit = deficit_end
        return out

    def _drift(self, t: np.ndarray) -> np.ndarray:
        """Temperature zero drift: random walk plus a slow sinusoid, starting from zero."""
        steps = self.rng.standard_normal((len(t), self.layout.channels))
        steps *= self.layout.drift_walk_g_per_s * math.sqrt(1.0 / self.sps)
        walk = self._walk + np.cumsum(steps, axis=0)
        self._walk = walk[-1].copy()
        amplitude, period, phase = self.layout.drift_sine.T
        sine = amplitude * (np.sin(2 * math.pi * t[:, None] / period + phase) - np.sin(phase))
        return walk + sine
