"""The vision-in-the-loop benchmark's typed result and its markdown (bench/vision_loop.py runs it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.vision_loop_rates import RATES_FILE

SEEDS = {"tune": (301, 302), "report": (401, 402)}
MODES = ("weight_planogram", "statistical", "statistical_rendered_rates", "rendered", "rendered_crop")
CAMERA_MODES = MODES[1:]
# Pi 4 (Cortex-A72, 1.5 GHz) against this x86 core for the int8 SSD MobileNet v1 (XNNPACK, one thread): an
# assumed factor, not measured here (no Pi here); reports for this model on a Pi 4 are in the 70-110 ms range per
# one-thread invoke against 14.7 ms CPU here (docs/bench/vision.md, bare invoke), i.e. x5-7. The low end is used.
PI4_FACTOR = 5.0
BARE_INVOKE_MS = 14.7  # CPU ms of one bare invoke on this machine, quiet (docs/bench/vision.md, 1 thread)


@dataclass(frozen=True)
class ModeScore:
    units: Mapping[str, float]  # unit-level tp/fp/fn/precision/recall/f1
    review: Mapping[str, float]  # review rate, precision on unflagged events (bench.item_scoring.review_summary)

    @property
    def f1(self) -> float:
        return float(self.units["f1"])

    @property
    def review_rate(self) -> float:
        return float(self.review["review_rate"])

    @property
    def precision_unflagged(self) -> float:
        return float(self.review["precision_unflagged"])


@dataclass(frozen=True)
class TwinScore:
    """The events weight alone flags `twin` between label-distinct SKUs, and how each camera settled them."""

    events: int
    settled: Mapping[str, int]  # mode -> settled correctly (right answer, not flagged)
    wrong_unflagged: Mapping[str, int]  # mode -> accepted but wrong
    events_camera_up: int  # of `events`, those the rendered camera was up for (no outage in the window)
    settled_camera_up: Mapping[str, int]

    def share(self, mode: str) -> float:
        return self.settled[mode] / self.events if self.events else 0.0

    def share_camera_up(self, mode: str) -> float:
        return self.settled_camera_up[mode] / self.events_camera_up if self.events_camera_up else 0.0


@dataclass(frozen=True)
class SeedRun:
    seed: int
    interactions: int
    weight_events: int
    frames: int  # detector invokes on whole rendered frames
    windows: int  # and on the touched plates' windows (rendered_crop)
    detect_ms: float  # their total time (resize, invoke, output decoding)
    render_ms: float  # rendering + JPEG coding and decoding of those frames (the simulator's cost, not the node's)
    events_with_frames: int  # weight events whose window had frames
    camera_down_events: int  # weight events the rendered camera was down for
    wall_s: float


@dataclass(frozen=True)
class VisionLoopResult:
    seeds: tuple[int, ...]
    split: str  # the photos the rendered camera showed
    runs: tuple[SeedRun, ...]
    modes: Mapping[str, ModeScore]  # pooled over the seeds
    twins: TwinScore
    pi4_factor: float
    load_average: tuple[float, float, float]  # at the start of the run
    crop_scale: float

    @property
    def interactions(self) -> int:
        return sum(r.interactions for r in self.runs)

    @property
    def invokes_per_event(self) -> float:
        """Whole-frame invokes per weight event with frames (the rendered mode)."""
        events = sum(r.events_with_frames for r in self.runs)
        return sum(r.frames for r in self.runs) / events if events else 0.0

    @property
    def window_invokes_per_event(self) -> float:
        """Plate-window invokes per weight event with frames, on top of the whole frames (rendered_crop)."""
        events = sum(r.events_with_frames for r in self.runs)
        return sum(r.windows for r in self.runs) / events if events else 0.0

    @property
    def ms_per_invoke(self) -> float:
        invokes = sum(r.frames + r.windows for r in self.runs)
        return sum(r.detect_ms for r in self.runs) / invokes if invokes else 0.0


def render_markdown(result: VisionLoopResult) -> str:
    load = " / ".join(f"{v:.1f}" for v in result.load_average)
    lines = [
        f"Seeds {', '.join(map(str, result.seeds))} (tuning seeds: {', '.join(map(str, SEEDS['tune']))}), "
        f"{result.interactions} interactions on a 5-plate shelf with label-distinct weight twins (orange / large "
        "apple; 1 L juice / 1 kg carrots), 80 SPS; rendered frames with the "
        f"**{result.split}** photos through the real detector (coco_ssd_mobilenet_v1_1.0_quant, threshold 0.5); "
        "every mode on the same weight events, one FusionStage each. `statistical_rendered_rates`: the statistical "
        f"camera with its rates re-measured on rendered frames (measure photos; {RATES_FILE.name}). "
        f"`rendered_crop`: also detecting on a window around the touched plate (crop_scale {result.crop_scale:g}). "
        f"Load average at the start: {load}.",
        "",
        "| evidence | unit F1 | review rate | precision unflagged | unflagged (wrong) |",
        "|---|---|---|---|---|",
    ]
    for mode, score in result.modes.items():
        lines.append(f"| {mode} | {score.f1:.3f} | {score.review_rate:.3f} | {score.precision_unflagged:.4f} | "
                     f"{score.review['unflagged']} ({score.review['unflagged_wrong']}) |")
    t = result.twins
    lines += [
        "",
        f"Weight alone flags `twin` between label-distinct SKUs on {t.events} events ({t.events_camera_up} with the "
        "camera up). Settled correctly (right answer, not flagged), of all / of those with the camera up, and "
        "accepted but wrong:",
        "",
        "| evidence | settled | settled, camera up | accepted wrong |",
        "|---|---|---|---|",
    ]
    for mode in CAMERA_MODES:
        lines.append(f"| {mode} | {t.settled[mode]} ({t.share(mode):.0%}) | {t.settled_camera_up[mode]} "
                     f"({t.share_camera_up(mode):.0%}) | {t.wrong_unflagged[mode]} |")
    lines += ["", "Real detector against the statistical camera (points = percentage points; target: within 2):", "",
              "| real detector | against | unit F1 | review rate | precision unflagged |", "|---|---|---|---|---|"]
    for real in ("rendered", "rendered_crop"):
        for stat in ("statistical", "statistical_rendered_rates"):
            a, b = result.modes[real], result.modes[stat]
            review = 100 * (a.review_rate - b.review_rate)
            lines.append(f"| {real} | {stat} | {100 * (a.f1 - b.f1):+.1f} | {review:+.1f}"
                         f" | {100 * (a.precision_unflagged - b.precision_unflagged):+.1f} |")
    best = max(("rendered", "rendered_crop"), key=t.share)
    lines += ["", f"Targets ({best}): twins settled {t.share(best):.0%} (>= 80 %: "
              f"{'met' if t.share(best) >= 0.8 else 'not met'}); precision unflagged "
              f"{result.modes[best].precision_unflagged:.4f} (>= 0.995: "
              f"{'met' if result.modes[best].precision_unflagged >= 0.995 else 'not met'})."]
    per_event = result.invokes_per_event + result.window_invokes_per_event
    ms = result.ms_per_invoke
    pi4_ms = ms * result.pi4_factor
    lines += [
        "",
        f"Detector cost: {result.invokes_per_event:.1f} whole-frame invokes per weight event with frames "
        f"(+ {result.window_invokes_per_event:.1f} plate windows with crop), {ms:.1f} ms CPU per invoke here "
        f"(resize + invoke + output decoding, one interpreter thread; {BARE_INVOKE_MS:g} ms for a bare invoke on a "
        f"quiet host): {result.invokes_per_event * ms:.0f} ms CPU per event, {per_event * ms:.0f} ms with crop. "
        f"A Pi 4 class CPU, assuming x{result.pi4_factor:g} per invoke (x5-7; not measured): ~{pi4_ms:.0f} ms per "
        f"invoke, {1000 / max(1e-9, pi4_ms):.1f} invokes/s per core: whole frames at the 10 fps active rate take "
        f"{10 * pi4_ms / 1000:.2f} cores while the shelf is handled, {20 * pi4_ms / 1000:.2f} with one plate window "
        "per frame; the Pi 4 has 4.",
    ]
    return "\n".join(lines) + "\n"
