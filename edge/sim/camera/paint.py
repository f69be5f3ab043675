"""Pure numpy painting for the rendered camera: soft shapes, pasted photos, motion blur, blending.

Everything works on float32 (or float64) BGR arrays in 0..255; shapes are anti-aliased by a one-pixel
ramp of their signed distance, which keeps edges from looking cut out with scissors.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.floating]
Colour = tuple[float, float, float]


def _grid(x0: int, y0: int, w: int, h: int) -> tuple[Float, Float]:
    ys, xs = np.mgrid[y0 : y0 + h, x0 : x0 + w]
    return xs.astype(np.float32) + 0.5, ys.astype(np.float32) + 0.5


def fill_rounded_box(image: Float, box: tuple[float, float, float, float], colour: Colour, radius: float) -> None:
    """A filled rectangle with rounded corners, blended in place (clipped to the image)."""
    x0, y0, x1, y1 = box
    ix0, iy0 = max(0, int(x0) - 1), max(0, int(y0) - 1)
    ix1, iy1 = min(image.shape[1], int(x1) + 2), min(image.shape[0], int(y1) + 2)
    if ix1 <= ix0 or iy1 <= iy0:
        return
    xs, ys = _grid(ix0, iy0, ix1 - ix0, iy1 - iy0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    qx = np.abs(xs - cx) - ((x1 - x0) / 2 - radius)
    qy = np.abs(ys - cy) - ((y1 - y0) / 2 - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - radius
    alpha = np.clip(0.5 - outside, 0.0, 1.0)[..., None]
    region = image[iy0:iy1, ix0:ix1]
    region[:] = region * (1 - alpha) + np.asarray(colour, np.float32) * alpha


def soft_ellipse(h: int, w: int, feather: float, power: float = 2.0) -> Float:
    """Alpha of an ellipse (power 2; higher: a rounded rectangle) filling an h x w box, fading out over
    `feather` (fraction of the radius)."""
    xs, ys = _grid(0, 0, w, h)
    r = (np.abs((xs - w / 2) / (w / 2)) ** power + np.abs((ys - h / 2) / (h / 2)) ** power) ** (1 / power)
    return np.clip((1.0 - r) / max(feather, 1e-3), 0.0, 1.0).astype(np.float32)


class Layer:
    """A foreground (arm, hand, item, shopper) painted over a box of the frame, then blurred along
    its motion and blended onto the frame. Pixels outside the frame are simply not drawn."""

    def __init__(self, box: tuple[int, int, int, int], frame_w: int, frame_h: int) -> None:
        x0, y0, x1, y1 = box
        self.x0, self.y0 = max(0, x0), max(0, y0)
        self.x1, self.y1 = min(frame_w, x1), min(frame_h, y1)
        w, h = max(0, self.x1 - self.x0), max(0, self.y1 - self.y0)
        self.rgb = np.zeros((h, w, 3), np.float32)
        self.alpha = np.zeros((h, w), np.float32)

    @property
    def empty(self) -> bool:
        return self.alpha.size == 0

    def _window(self, box: tuple[float, float, float, float]) -> tuple[slice, slice, Float, Float] | None:
        """The part of the layer a shape's bounding box covers: (rows, cols, xs, ys), None if none."""
        x0, y0 = max(self.x0, int(box[0]) - 1), max(self.y0, int(box[1]) - 1)
        x1, y1 = min(self.x1, int(box[2]) + 2), min(self.y1, int(box[3]) + 2)
        if x1 <= x0 or y1 <= y0:
            return None
        xs, ys = _grid(x0, y0, x1 - x0, y1 - y0)
        return slice(y0 - self.y0, y1 - self.y0), slice(x0 - self.x0, x1 - self.x0), xs, ys

    def _put(self, rows: slice, cols: slice, alpha: Float, colour: Float) -> None:
        a = alpha[..., None]
        rgb = self.rgb[rows, cols]
        rgb *= 1 - a
        rgb += colour * a
        self.alpha[rows, cols] = alpha + self.alpha[rows, cols] * (1 - alpha)

    def capsule(
        self, p0: tuple[float, float], p1: tuple[float, float], radius: float, colour: Colour, shade: float = 0.25
    ) -> None:
        """A thick segment with round ends (an arm), darker towards its edges (a rounded limb)."""
        box = (min(p0[0], p1[0]) - radius, min(p0[1], p1[1]) - radius,
               max(p0[0], p1[0]) + radius, max(p0[1], p1[1]) + radius)  # fmt: skip
        window = self._window(box)
        if window is None:
            return
        rows, cols, xs, ys = window
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        length2 = max(dx * dx + dy * dy, 1e-6)
        t = np.clip(((xs - p0[0]) * dx + (ys - p0[1]) * dy) / length2, 0.0, 1.0)
        dist = np.hypot(xs - (p0[0] + t * dx), ys - (p0[1] + t * dy))
        alpha = np.clip(radius - dist + 0.5, 0.0, 1.0)
        light = 1.0 - shade * np.clip(dist / max(radius, 1.0), 0.0, 1.0) ** 2
        self._put(rows, cols, alpha, np.asarray(colour, np.float32) * light[..., None])

    def ellipse(
        self, centre: tuple[float, float], radii: tuple[float, float], colour: Colour, shade: float = 0.2
    ) -> None:
        window = self._window((centre[0] - radii[0], centre[1] - radii[1], centre[0] + radii[0], centre[1] + radii[1]))
        if window is None:
            return
        rows, cols, xs, ys = window
        r = np.hypot((xs - centre[0]) / radii[0], (ys - centre[1]) / radii[1])
        alpha = np.clip((1.0 - r) * min(radii) + 0.5, 0.0, 1.0)
        light = 1.0 - shade * np.clip(r, 0.0, 1.0) ** 2
        self._put(rows, cols, alpha, np.asarray(colour, np.float32) * light[..., None])

    def paste(self, patch: Float, patch_alpha: Float, at: tuple[int, int]) -> None:
        """A photo (h x w x 3) with its alpha, top-left corner at frame pixel `at`."""
        px, py = at
        h, w = patch_alpha.shape
        fx0, fy0 = max(px, self.x0), max(py, self.y0)
        fx1, fy1 = min(px + w, self.x1), min(py + h, self.y1)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        src = (slice(fy0 - py, fy1 - py), slice(fx0 - px, fx1 - px))
        dst = (slice(fy0 - self.y0, fy1 - self.y0), slice(fx0 - self.x0, fx1 - self.x0))
        a = patch_alpha[src]
        self.rgb[dst] = self.rgb[dst] * (1 - a[..., None]) + patch[src] * a[..., None]
        self.alpha[dst] = a + self.alpha[dst] * (1 - a)

    def motion_blur(self, dx: float, dy: float) -> None:
        """Average of the layer shifted along (dx, dy) pixels (the path during the exposure)."""
        steps = int(min(12, round(max(abs(dx), abs(dy)) / 1.5)))
        if steps < 2 or self.empty:
            return
        premultiplied = self.rgb * self.alpha[..., None]
        acc_rgb = np.zeros_like(premultiplied)
        acc_alpha = np.zeros_like(self.alpha)
        for k in range(steps):
            sx = round(dx * (k / (steps - 1) - 0.5))
            sy = round(dy * (k / (steps - 1) - 0.5))
            _add_shifted(acc_rgb, premultiplied, sx, sy)
            _add_shifted(acc_alpha, self.alpha, sx, sy)
        acc_alpha /= steps
        self.rgb = (acc_rgb / steps / np.maximum(acc_alpha, 1e-6)[..., None]).astype(np.float32)
        self.alpha = acc_alpha

    def onto(self, image: Float) -> None:
        if self.empty:
            return
        region = image[self.y0 : self.y1, self.x0 : self.x1]
        a = self.alpha[..., None]
        region[:] = region * (1 - a) + self.rgb * a


def _add_shifted(acc: Float, src: Float, sx: int, sy: int) -> None:
    """acc += src moved by (sx, sy), without wrapping around the edges."""
    h, w = src.shape[:2]
    if abs(sx) >= w or abs(sy) >= h:
        return
    dst_y, src_y = (slice(sy, h), slice(0, h - sy)) if sy >= 0 else (slice(0, h + sy), slice(-sy, h))
    dst_x, src_x = (slice(sx, w), slice(0, w - sx)) if sx >= 0 else (slice(0, w + sx), slice(-sx, w))
    acc[dst_y, dst_x] += src[src_y, src_x]
