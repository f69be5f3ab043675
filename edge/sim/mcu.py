"""The microcontroller and its link: samples -> protocol lines, with the faults real hardware has.

Framed: `$W,<seq>,<t_ms>,<c1..cN>*HH` (edge.loadcell.framing), info frame at boot and on `$Q`.
Plain: `c1,c2,...,cN` and a boot banner. Faults: single-sample ADC glitches, a channel not
answering (empty field), lost lines, corrupted lines (bit flip, truncation), MCU reboot
(silence, then info frame, seq and t_ms restart at 0).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from edge.loadcell.framing import info_frame, weight_frame
from edge.sim.layout import ShelfLayout
from edge.sim.physics import ADC_MAX
from edge.sim.render import Block
from edge.sim.resolve import LineFault

Protocol = Literal["framed", "plain"]
FIRMWARE = "sim-1.0"
Line = tuple[float, bytes]  # (seconds from scenario start, when the host receives it; raw line with \n)


def bytes_per_second(channels: int, sps: float, protocol: Protocol) -> float:
    """Serial bandwidth the MCU needs (typical 7-digit counts); compare with baudrate / 10 (8N1)."""
    counts = [-1234567] * channels
    line = (
        weight_frame(123456, 12345678, counts) if protocol == "framed" else (",".join(map(str, counts)) + "\n").encode()
    )
    return len(line) * sps


class McuEncoder:
    def __init__(
        self,
        layout: ShelfLayout,
        sps: float,
        protocol: Protocol,
        faults: list[LineFault],
        seed: int,
        plain_units: Literal["counts", "grams"] = "counts",
    ) -> None:
        self.layout = layout
        self.sps = sps
        self.protocol = protocol
        self.plain_units = plain_units
        self.faults = faults
        self.rng = np.random.default_rng([seed, 0x3C0])
        self.uid = f"SIM{seed & 0xFFFFFFFF:08X}"
        self.clock_ppm = float(self.rng.uniform(-50.0, 50.0))  # MCU crystal vs host clock
        self.seq = 0
        self.boot_sample = 0
        self.silent_until = 0  # samples before this index are not sent; at it the MCU announces its boot
        self._last_host_t = 0.0
        self._fault_index = 0
        self._active: list[LineFault] = []

    def boot_lines(self, t: float) -> list[Line]:
        return [(t, self.info_line())] if self.protocol == "framed" else [(t, self.banner())]

    def info_line(self) -> bytes:
        return info_frame(FIRMWARE, self.layout.channels, self.sps, self.uid)

    def banner(self) -> bytes:
        return f"shelf-sim {FIRMWARE} booting, {self.layout.channels} channels at {self.sps:g} SPS\n".encode()

    def reboot_now(self, sample: int, boot_samples: int) -> None:
        """Power cycle (USB replug, brown-out): silent for `boot_samples`, then a fresh boot."""
        self.silent_until = sample + boot_samples
        self.seq = 0
        self.boot_sample = self.silent_until

    def encode(self, block: Block) -> list[Line]:
        n = len(block.t)
        first = block.first
        host_t = block.t + 0.002 + self.rng.exponential(0.001, size=n)  # USB/driver latency
        faults = self._faults_for(block)
        values: list[list[int | None]] = block.counts.tolist()
        drop = np.zeros(n, dtype=bool)
        corrupt: dict[int, LineFault] = {}
        boots: dict[int, LineFault] = {}
        for fault in faults:
            start, stop = self._samples(fault)
            lo, hi = max(start, first) - first, min(stop, first + n) - first
            if fault.kind == "glitch" and first <= start < first + n and fault.channel is not None:
                value = values[start - first][fault.channel]
                values[start - first][fault.channel] = glitch_value(value, fault.mode, fault.key)
            elif fault.kind == "dropout" and hi > lo and fault.channel is not None:
                for row in values[lo:hi]:
                    row[fault.channel] = None
            elif fault.kind == "drop_lines" and hi > lo:
                drop[lo:hi] = True
            elif fault.kind == "corrupt" and first <= start < first + n:
                corrupt[start - first] = fault
            elif fault.kind == "reboot" and first <= start < first + n:
                boots[start - first] = fault
        lines: list[Line] = []
        for i in range(n):
            sample = first + i
            if i in boots:
                start, stop = self._samples(boots[i])
                self.reboot_now(sample, max(1, stop - start))
            if sample < self.silent_until:
                continue
            t = max(float(host_t[i]), self._last_host_t)
            self._last_host_t = t
            if sample == self.silent_until:
                lines.extend(self.boot_lines(t))
            line = self._line(sample, values[i])
            self.seq += 1
            if drop[i]:
                continue
            if i in corrupt:
                line = corrupt_line(line, corrupt[i].mode, corrupt[i].key)
            lines.append((t, line))
        return lines

    def _line(self, sample: int, counts: list[int | None]) -> bytes:
        if self.protocol == "framed":
            mcu_ms = round((sample - self.boot_sample) / self.sps * 1000.0 * (1.0 + self.clock_ppm * 1e-6))
            return weight_frame(self.seq, mcu_ms, counts)
        if self.plain_units == "grams":  # the firmware converts its (possibly clipped or glitched) reading
            cpg, offsets = self.layout.counts_per_gram, self.layout.offsets
            fields = ["" if c is None else f"{(c - offsets[k]) / cpg[k]:.1f}" for k, c in enumerate(counts)]
        else:
            fields = ["" if c is None else str(c) for c in counts]
        return (",".join(fields) + "\n").encode("ascii")

    def _faults_for(self, block: Block) -> list[LineFault]:
        t_end = float(block.t[-1]) + 1.0 / self.sps
        while self._fault_index < len(self.faults) and self.faults[self._fault_index].t0 < t_end:
            self._active.append(self.faults[self._fault_index])
            self._fault_index += 1
        self._active = [f for f in self._active if self._samples(f)[1] > block.first]
        return list(self._active)

    def _samples(self, fault: LineFault) -> tuple[int, int]:
        start = math.ceil(fault.t0 * self.sps - 1e-9)
        return start, max(start + 1, math.ceil(fault.t1 * self.sps - 1e-9))


def glitch_value(value: int | None, mode: str, key: int) -> int | None:
    """A bad HX711 read: a high bit flipped (`bitflip`), the rail value (`rail`) or `zero`, for one sample."""
    if value is None:
        return None
    if mode == "rail":
        return ADC_MAX
    if mode == "zero":
        return 0
    bit = 18 + key % 6  # bits 18..23: at least ~570 g off
    raw = (value & 0xFFFFFF) ^ (1 << bit)
    return raw - (1 << 24) if raw & 0x800000 else raw


def corrupt_line(line: bytes, mode: str, key: int) -> bytes:
    """One bit flipped inside the checksummed body (`bitflip`), or the line cut short (`truncate`)."""
    body = bytearray(line.rstrip(b"\n"))
    if mode == "truncate" or len(body) < 3:
        return bytes(body[: 1 + key % max(1, len(body) - 1)]) + b"\n"
    star = body.find(b"*")
    # flip inside the checksummed body (a flip in '$', '*' or the hex digits could be case-only)
    lo, hi = (1, star) if body[:1] == b"$" and star > 1 else (0, len(body))
    position = lo + key % (hi - lo)
    for bit in range(8):  # a flip that would fake a line end is not a single corrupted line
        flipped = body[position] ^ (1 << ((key >> 8) + bit) % 8)
        if flipped not in (0x0A, 0x0D):
            body[position] = flipped
            break
    return bytes(body) + b"\n"
