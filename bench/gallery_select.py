"""How the appearance descriptor was chosen: leave-one-photo-out between look-alike families on the TEACH photos.

For each of the 18 sku-photos families, every teach photo (edge.sim.photo_rates.split_photos' measure half)
gives `events` events of 2 jittered crops each (edge.sim.camera.photos.jittered_crop, as the gallery benchmark's
crops); an event's descriptor is the renormalised mean of its crops' (CropEmbedder.describe). For a pair of
families, each photo in turn is left out: its events are classified by the nearest robust centre (the
splitter's: the mean of the 80 % nearest the median) between the pair, the centres made of the other photos'
events. A pair's figure is the share of events right. Pairs: every two families the detector gives one label
(76: 21 of apples, 55 of cartons), the four plates of bench/gallery.py and p3's rivals from p4 (fusion lets
a milk carton put back on the yoghurt plate compete there).

The test (held-out) photos are not read, except with `--held-out`: then, for the old and the chosen
descriptor only, each pair's centres are made of all its teach events and the test photos' events (jittered
with seed 79) are classified; run once, after the choice. Run (3-5 min on an idle machine; not a registered
benchmark):

    .venv/bin/python -m bench.gallery_select [--events 6] [--seed 77] [--held-out]
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.gallery_world import IMAGES, MODEL
from edge.hw import pixels
from edge.hw.features import find_tap
from edge.sim.camera.photos import TEACH, TEST, PhotoLibrary, Split, jittered_crop
from edge.sim.photo_rates import FAMILY_LABEL
from edge.vision.appearance import colour_descriptor, colour_descriptor_v1, hsv
from edge.vision.appearance_splitter import SplitterSettings, robust_centre

PLATES = {"p1": ("Golden-Delicious", "Pink-Lady"), "p2": ("Bravo-Apple-Juice", "God-Morgon-Orange-Juice"),
          "p3": ("Arla-Natural-Yoghurt", "Yoggi-Strawberry-Yoghurt"),
          "p4": ("Arla-Medium-Fat-Milk", "Arla-Standard-Milk")}
RIVALS = [(y, m) for y in PLATES["p3"] for m in PLATES["p4"]]
TAPS = ("Conv2d_11_pointwise", "Conv2d_13_pointwise")
Part = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    floats: int
    plates: tuple[float, float, float, float]
    rivals_min: float
    mean: float
    worst: float
    passing: int  # pairs at >= 0.98


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _grid_pool(feature_map: np.ndarray, grid: int) -> np.ndarray:
    """Cell-area weighted means of the map over a grid x grid split of the whole box."""
    def weights(n: int) -> np.ndarray:
        edges, cells = np.linspace(0, n, grid + 1), np.arange(n)
        return np.clip(np.minimum(edges[1:, None], cells + 1) - np.maximum(edges[:-1, None], cells), 0, None)
    wy, wx = weights(feature_map.shape[0]), weights(feature_map.shape[1])
    pooled = np.einsum("ih,jw,hwc->ijc", wy, wx, feature_map) / (wy.sum(1)[:, None, None] * wx.sum(1)[None, :, None])
    return np.asarray(pooled.reshape(-1), np.float32)


def _cells_v1(crop: np.ndarray) -> np.ndarray:
    """crop-v1-style colour histogram (12 x 2 hue x saturation, 4 values, grey share) per 2 x 2 cell."""
    half = crop.shape[0] // 2
    out = []
    for cell in (crop[:half, :half], crop[:half, half:], crop[half:, :half], crop[half:, half:]):
        hue, sat, val = hsv(cell)
        coloured = (sat >= 0.15) & (val >= 0.12)
        h = np.minimum((hue[coloured] * 12).astype(int), 11)
        s = np.minimum(((sat[coloured] - 0.15) / 0.85 * 2).astype(int), 1)
        hs = np.bincount(h * 2 + s, minlength=24) / hue.size
        v = np.bincount(np.minimum((val * 4).astype(int), 3), minlength=4) / hue.size
        out.append(np.concatenate([np.sqrt(hs), 0.5 * np.sqrt(v), [np.sqrt(1 - coloured.mean())]]))
    return np.concatenate(out)


def _centre_weighted_v1(crop: np.ndarray, sigma: float = 0.2) -> np.ndarray:
    """crop-v1's colour histogram with each pixel weighted by a Gaussian around the crop's centre."""
    n = crop.shape[0]
    t = (np.arange(n) + 0.5) / n - 0.5
    w = np.outer(np.exp(-t ** 2 / (2 * sigma ** 2)), np.exp(-t ** 2 / (2 * sigma ** 2))).reshape(-1)
    hue, sat, val = hsv(crop)
    coloured = (sat >= 0.15) & (val >= 0.12)
    h = np.minimum((hue[coloured] * 18).astype(int), 17)
    s = np.minimum(((sat[coloured] - 0.15) / 0.85 * 4).astype(int), 3)
    hs = np.bincount(h * 4 + s, weights=w[coloured], minlength=72) / w.sum()
    v = np.bincount(np.minimum((val * 8).astype(int), 7), weights=w, minlength=8) / w.sum()
    return np.concatenate([np.sqrt(hs), 0.5 * np.sqrt(v), [np.sqrt(1 - (w * coloured).sum() / w.sum())]])


def _hue36_v1(crop: np.ndarray) -> np.ndarray:
    """crop-v1's colour histogram with 36 hue bins (10 degrees) instead of 18."""
    hue, sat, val = hsv(crop)
    coloured = (sat >= 0.15) & (val >= 0.12)
    h = np.minimum((hue[coloured] * 36).astype(int), 35)
    s = np.minimum(((sat[coloured] - 0.15) / 0.85 * 4).astype(int), 3)
    hs = np.bincount(h * 4 + s, minlength=144) / hue.size
    v = np.bincount(np.minimum((val * 8).astype(int), 7), minlength=8) / hue.size
    return np.concatenate([np.sqrt(hs), 0.5 * np.sqrt(v), [np.sqrt(1 - coloured.mean())]])


COLOUR_PARTS: dict[str, Part] = {"colour-v1": colour_descriptor_v1, "colour-v2": colour_descriptor,
                                 "colour-v1 2x2 cells": _cells_v1, "colour-v1 centre-weighted": _centre_weighted_v1,
                                 "colour-v1 36 hues": _hue36_v1}
CANDIDATES: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
    ("crop-v1 (old): colour-v1 + Conv13", (("colour-v1", 1.0), ("Conv2d_13_pointwise g1", 1.0))),
    ("colour-v1 alone", (("colour-v1", 1.0),)),
    ("Conv13 alone (global)", (("Conv2d_13_pointwise g1", 1.0),)),
    ("Conv13 2x2 grid alone", (("Conv2d_13_pointwise g2", 1.0),)),
    ("Conv11 alone (global)", (("Conv2d_11_pointwise g1", 1.0),)),
    ("Conv11 2x2 grid alone", (("Conv2d_11_pointwise g2", 1.0),)),
    ("colour-v1 per 2x2 cell", (("colour-v1 2x2 cells", 1.0),)),
    ("colour-v1 centre-weighted", (("colour-v1 centre-weighted", 1.0),)),
    ("colour-v1 with 36 hues", (("colour-v1 36 hues", 1.0),)),
    ("colour-v1 2x2 cells + Conv13", (("colour-v1 2x2 cells", 1.0), ("Conv2d_13_pointwise g1", 1.0))),
    ("colour-v2 alone", (("colour-v2", 1.0),)),
    ("colour-v2 + Conv13", (("colour-v2", 1.0), ("Conv2d_13_pointwise g1", 1.0))),
    ("colour-v2 + Conv13 2x2 grid", (("colour-v2", 1.0), ("Conv2d_13_pointwise g2", 1.0))),
    ("colour-v2 + Conv11", (("colour-v2", 1.0), ("Conv2d_11_pointwise g1", 1.0))),
    ("crop-v2 (chosen): colour-v2 + 0.25 colour-v1 + Conv13",
     (("colour-v2", 1.0), ("colour-v1", 0.25), ("Conv2d_13_pointwise g1", 1.0))),
    ("colour-v2 + 0.5 colour-v1 + Conv13", (("colour-v2", 1.0), ("colour-v1", 0.5), ("Conv2d_13_pointwise g1", 1.0))),
)


def crops_and_features(events: int, seed: int, split: Split = TEACH
                       ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[str]]:
    """Per crop: every part (unit norm), its family index and photo index (events x 2 crops per photo)."""
    from edge.hw.runtime import load_interpreter

    library = PhotoLibrary(IMAGES, split)
    families = sorted(f for f in (IMAGES / "sku-photos").iterdir() if f.is_dir() and f.name in FAMILY_LABEL)
    names = [f.name for f in families]
    interpreter = load_interpreter(MODEL, threads=1, keep_intermediates=True)
    taps = {name: find_tap(interpreter, f"MobilenetV1/{name}/Relu6") for name in TAPS}
    index = interpreter.get_input_details()[0]["index"]
    resized, rgb = np.empty((300, 300, 3), np.uint8), np.empty((1, 300, 300, 3), np.uint8)
    parts: dict[str, list[np.ndarray]] = {}
    family, photo = [], []
    for fi, name in enumerate(names):
        for pi, item in enumerate(library.families[name]):
            rng = np.random.default_rng([fi, pi, seed])
            image = library.image(item)
            for _ in range(events * 2):
                crop = jittered_crop(image, rng)
                pixels.resize_into(crop, resized, "linear")
                pixels.bgr_to_rgb(resized, rgb[0])
                interpreter.set_tensor(index, rgb)
                interpreter.invoke()
                for tap_name, tap in taps.items():
                    feature_map = tap.read(interpreter)
                    for grid in (1, 2):
                        pooled = _grid_pool(feature_map, grid).astype(np.float16).astype(np.float32)
                        parts.setdefault(f"{tap_name} g{grid}", []).append(np.sqrt(np.maximum(pooled, 0)))
                for part_name, describe in COLOUR_PARTS.items():
                    parts.setdefault(part_name, []).append(describe(crop))
                family.append(fi)
                photo.append(pi)
    return {k: _unit(np.asarray(v, np.float64)) for k, v in parts.items()}, np.array(family), np.array(photo), names


def _centre(rows: np.ndarray) -> np.ndarray:
    """A SKU's centre as the splitter makes it (its trim)."""
    return robust_centre(rows, SplitterSettings().trim)


def _events(parts: dict[str, np.ndarray], spec: Sequence[tuple[str, float]]) -> np.ndarray:
    total = sum(w for _, w in spec)
    crops = _unit(np.concatenate([np.sqrt(w / total) * parts[p] for p, w in spec], axis=1))
    return np.asarray(_unit(crops[0::2] + crops[1::2]))  # an event: its two crops' mean, renormalised


def held_out(teach: tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[str]],
             test: tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[str]], name: str,
             spec: Sequence[tuple[str, float]]) -> Row:
    """Centres from every teach event of a pair, the test photos' events classified between them."""
    (tp, tf, _, names), (sp, sf, _, _) = teach, test
    train, check = _events(tp, spec), _events(sp, spec)
    tf, sf = tf[0::2], sf[0::2]
    labels = [FAMILY_LABEL[n] for n in names]
    score: dict[frozenset[str], float] = {}
    for a, b in itertools.combinations(range(len(names)), 2):
        if labels[a] != labels[b]:
            continue
        ca, cb = _centre(train[tf == a]), _centre(train[tf == b])
        right = [*(np.linalg.norm(check[sf == a] - ca, axis=1) < np.linalg.norm(check[sf == a] - cb, axis=1)),
                 *(np.linalg.norm(check[sf == b] - cb, axis=1) < np.linalg.norm(check[sf == b] - ca, axis=1))]
        score[frozenset((names[a], names[b]))] = float(np.mean(right))
    values = np.array(list(score.values()))
    plates = tuple(score[frozenset(PLATES[p])] for p in ("p1", "p2", "p3", "p4"))
    return Row(name, train.shape[1], plates, min(score[frozenset(r)] for r in RIVALS),  # type: ignore[arg-type]
               float(values.mean()), float(values.min()), int((values >= 0.98).sum()))


def evaluate(parts: dict[str, np.ndarray], family: np.ndarray, photo: np.ndarray, names: Sequence[str],
             name: str, spec: Sequence[tuple[str, float]]) -> Row:
    events = _events(parts, spec)
    ef, ep = family[0::2], photo[0::2]
    labels = [FAMILY_LABEL[n] for n in names]
    pairs = [(a, b) for a, b in itertools.combinations(range(len(names)), 2) if labels[a] == labels[b]]
    score: dict[frozenset[str], float] = {}
    for a, b in pairs:
        right: list[bool] = []
        for own, other in ((a, b), (b, a)):
            rival = _centre(events[ef == other])
            for p in np.unique(ep[ef == own]):
                test = events[(ef == own) & (ep == p)]
                mine = _centre(events[(ef == own) & (ep != p)])
                right += list(np.linalg.norm(test - mine, axis=1) < np.linalg.norm(test - rival, axis=1))
        score[frozenset((names[a], names[b]))] = float(np.mean(right))
    values = np.array(list(score.values()))
    plates = tuple(score[frozenset(PLATES[p])] for p in ("p1", "p2", "p3", "p4"))
    return Row(name, events.shape[1], plates, min(score[frozenset(r)] for r in RIVALS),  # type: ignore[arg-type]
               float(values.mean()), float(values.min()), int((values >= 0.98).sum()))


def render(rows: Sequence[Row], events: int, seed: int) -> str:
    lines = [f"Teach photos only, {events} events of 2 jittered crops per photo (jitter seed {seed}); leave-one-photo-"
             "out, nearest robust centre.", "",
             "| descriptor | floats | p1 apples | p2 juices | p3 yoghurts | p4 milks | p3 vs p4 rivals (worst) | "
             "76 pairs: mean | worst | >= 0.98 |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.floats} | " + " | ".join(f"{v:.3f}" for v in r.plates) +
                     f" | {r.rivals_min:.3f} | {r.mean:.3f} | {r.worst:.3f} | {r.passing} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6, help="events per teach photo (2 crops each)")
    parser.add_argument("--seed", type=int, default=77, help="jitter seed")
    parser.add_argument("--held-out", action="store_true", help="also the old and chosen descriptor on the test photos")
    args = parser.parse_args(argv)
    teach = crops_and_features(args.events, args.seed)
    rows = [evaluate(*teach, name, spec) for name, spec in CANDIDATES]
    print(render(rows, args.events, args.seed))
    if args.held_out:
        test = crops_and_features(args.events, 79, TEST)
        chosen = [CANDIDATES[0], next(c for c in CANDIDATES if c[0].startswith("crop-v2"))]
        print("\nHeld out (test photos, jitter seed 79; centres from every teach event):\n")
        print("\n".join(render([held_out(teach, test, name, spec) for name, spec in chosen], args.events,
                                args.seed).splitlines()[2:]))


if __name__ == "__main__":
    main()
