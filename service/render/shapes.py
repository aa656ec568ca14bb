"""Shapes, one description for both writers: each shape gives a signed distance (negative
inside, in the units it was built in) that the PNG side samples at pixel centres for
anti-aliased coverage, and an SVG path outline of the same figure. Circles and arcs are exact
in both; polygons are polygons in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "Circle",
    "Fillet",
    "Poly",
    "Ring",
    "RoundRect",
    "Shape",
    "Union",
    "coverage",
    "seal_points",
    "soft_edge",
    "star_points",
]

# A soft edge: the ink ramps from 0 to full over ``soft_edge(ppm)`` pixels centred on the
# outline (3.5 px from 7 px per module, 2.5 px from 11), where the plain anti-aliased edge
# ramps over about one. A lossy copy rings at a sharp edge: after JPEG at quality 30 the
# ringing around eye borders and separated modules gave zbar's scan lines edges that are not
# there. Measured at 900 px over 22 contents at their own phases, zbar read 8-10 codes of the
# separated patterns where squares read 13, 20-22 with soft edges; zxing-cpp read all of them
# either way.
# The width is in pixels, not a share of a module, because the ringing is: JPEG works on 8 px
# blocks at any scale. A tenth of a module (then at most 2.5 px) left the eyes of a framed
# code too sharp: over 352 contents at 3 in x 300 dpi after JPEG 30, zbar read the banners'
# squares code 328-331 times and the separated patterns 274-311; with 2.5 px everywhere, 352
# and 332-351 (tests/render/test_robustness: what is left is 16 px per module). 2.5-3.2 px
# read the same there; 3 px cost the circle eye border 4 codes of 352 after the phone-like
# capture (304, its floor 307). The outline (the 50 % contour) is where it was.
# From 7 px per module (was 10): over 176 contents at 0.8-1 in x 300 dpi (6-10 px per module)
# after JPEG 30, zbar read the plain-edged separated patterns 69-73 of 88 at 7 px per module
# and 57-62 at 9 (connected-v 74) where the squares code read 83 and 79; soft, 88 at 7 and 8
# and 71-82 at 9 (squares, its finders soft too, 88 at each). At 6 px the plain edges read
# 65-66 of 66; at 9 soft edges cost the separated patterns 5-9 codes of 88 after noise sigma
# 20 (79-83, squares 88), where they gain 14-22 after JPEG 30. Below 11 px per module the
# ramp is 3.5 px: over 176 contents at 0.8-1.35 in (5-13 px per module), at 9 px zbar read
# the separated patterns 130-146 of 154 after JPEG 30 with 2.5 px (squares 154) and 141-144
# after noise sigma 20 (squares 153), at 10 px 34-57 of 88 after the noise (squares 62);
# with 3.5 px all at the floor but at 10 px the star (77 after JPEG, 51 after the noise),
# the frame pattern (77) and the diamond (82 after JPEG; squares 88). From 12 px 3.5 px cost
# the circle eyes zbar's JPEG column (79 of 88 at 12 px), so the wider ramp stops at 10.
# A module's ramp stays plain within half its width of the tile's sides (patterns.tiles), so
# at 7-8 px per module the modules are nearly plain and the soft part is mostly the eyes.
SOFT_FROM_PPM = 7
SOFT_PX_SMALL = 3.5
SOFT_SMALL_BELOW_PPM = 11
SOFT_PX = 2.5


def soft_edge(ppm: float, inverted: bool = False) -> float:
    """The width in pixels of a soft edge at ``ppm`` pixels per module; 0: a plain edge. An
    inverted code (light modules on dark) keeps plain edges below 11 px per module: read as
    its negative, white on #0D47A1 at 8 px per module with soft finders failed zbar's clean
    read of 1 content in 220 (each width 1.5-3.5 px; black on white, and every dark ink on
    a light paper measured, all 1 100)."""
    if ppm < SOFT_FROM_PPM or (inverted and ppm < SOFT_SMALL_BELOW_PPM):
        return 0.0
    return SOFT_PX_SMALL if ppm < SOFT_SMALL_BELOW_PPM else SOFT_PX


def _n(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Shape:
    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def path(self, s: float, ox: float, oy: float) -> str:
        """The outline scaled by ``s`` and moved by (ox, oy), as SVG path data."""
        raise NotImplementedError


class RoundRect(Shape):
    """x0, y0, x1, y1 and a radius per corner (tl, tr, br, bl)."""

    def __init__(
        self, x0: float, y0: float, x1: float, y1: float, radii: Sequence[float] = (0, 0, 0, 0)
    ) -> None:
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.radii = tuple(radii)

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        cx, cy = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2
        hx, hy = (self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2
        tl, tr, br, bl = self.radii
        px, py = x - cx, y - cy
        r = np.where(px < 0, np.where(py < 0, tl, bl), np.where(py < 0, tr, br))
        qx = np.abs(px) - hx + r
        qy = np.abs(py) - hy + r
        outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
        return outside + np.minimum(np.maximum(qx, qy), 0) - r

    def path(self, s: float, ox: float, oy: float) -> str:
        x0, y0, x1, y1 = (ox + self.x0 * s, oy + self.y0 * s, ox + self.x1 * s, oy + self.y1 * s)
        tl, tr, br, bl = (r * s for r in self.radii)
        d = [f"M{_n(x0 + tl)} {_n(y0)}H{_n(x1 - tr)}"]
        if tr:
            d.append(f"A{_n(tr)} {_n(tr)} 0 0 1 {_n(x1)} {_n(y0 + tr)}")
        d.append(f"V{_n(y1 - br)}")
        if br:
            d.append(f"A{_n(br)} {_n(br)} 0 0 1 {_n(x1 - br)} {_n(y1)}")
        d.append(f"H{_n(x0 + bl)}")
        if bl:
            d.append(f"A{_n(bl)} {_n(bl)} 0 0 1 {_n(x0)} {_n(y1 - bl)}")
        d.append(f"V{_n(y0 + tl)}")
        if tl:
            d.append(f"A{_n(tl)} {_n(tl)} 0 0 1 {_n(x0 + tl)} {_n(y0)}")
        return "".join(d) + "Z"


class Circle(Shape):
    def __init__(self, cx: float, cy: float, r: float) -> None:
        self.cx, self.cy, self.r = cx, cy, r

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.hypot(x - self.cx, y - self.cy) - self.r

    def path(self, s: float, ox: float, oy: float) -> str:
        cx, cy, r = ox + self.cx * s, oy + self.cy * s, self.r * s
        return (
            f"M{_n(cx - r)} {_n(cy)}A{_n(r)} {_n(r)} 0 1 1 {_n(cx + r)} {_n(cy)}"
            f"A{_n(r)} {_n(r)} 0 1 1 {_n(cx - r)} {_n(cy)}Z"
        )


class Poly(Shape):
    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        self.points = np.array(points, dtype=float)

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v = self.points
        d = np.full(x.shape, np.inf)
        inside = np.zeros(x.shape, dtype=bool)
        for i in range(len(v)):
            (ax, ay), (bx, by) = v[i], v[i - 1]
            ex, ey = bx - ax, by - ay
            wx, wy = x - ax, y - ay
            t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey), 0, 1)
            d = np.minimum(d, np.hypot(wx - ex * t, wy - ey * t))
            crosses = (ay > y) != (by > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                xint = (bx - ax) * (y - ay) / (by - ay) + ax
            inside ^= crosses & (x < xint)
        return np.where(inside, -d, d)

    def path(self, s: float, ox: float, oy: float) -> str:
        pts = [f"{_n(ox + px * s)} {_n(oy + py * s)}" for px, py in self.points]
        return "M" + "L".join(pts) + "Z"


class Union(Shape):
    def __init__(self, parts: Sequence[Shape]) -> None:
        self.parts = list(parts)

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = self.parts[0].sdf(x, y)
        for part in self.parts[1:]:
            out = np.minimum(out, part.sdf(x, y))
        return out

    def path(self, s: float, ox: float, oy: float) -> str:
        return "".join(p.path(s, ox, oy) for p in self.parts)


class Ring(Shape):
    """``outer`` minus ``inner`` (drawn with fill-rule evenodd)."""

    def __init__(self, outer: Shape, inner: Shape) -> None:
        self.outer, self.inner = outer, inner

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.maximum(self.outer.sdf(x, y), -self.inner.sdf(x, y))

    def path(self, s: float, ox: float, oy: float) -> str:
        return self.outer.path(s, ox, oy) + self.inner.path(s, ox, oy)


class Fillet(Shape):
    """The concave corner piece between two joined modules: the unit-square corner at
    (cx, cy) outside a circle of radius r centred r away from it on both axes."""

    def __init__(self, cx: float, cy: float, r: float) -> None:
        self.cx, self.cy, self.r = cx, cy, r
        self.sx = 1 if cx == 0 else -1  # direction into the cell
        self.sy = 1 if cy == 0 else -1

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = self.r
        box = RoundRect(
            min(self.cx, self.cx + self.sx * r),
            min(self.cy, self.cy + self.sy * r),
            max(self.cx, self.cx + self.sx * r),
            max(self.cy, self.cy + self.sy * r),
        )
        hole = Circle(self.cx + self.sx * r, self.cy + self.sy * r, r)
        return np.maximum(box.sdf(x, y), -hole.sdf(x, y))

    def path(self, s: float, ox: float, oy: float) -> str:
        r = self.r * s
        cx, cy = ox + self.cx * s, oy + self.cy * s
        ax, ay = cx + self.sx * r, cy
        bx, by = cx, cy + self.sy * r
        sweep = 1 if self.sx * self.sy < 0 else 0
        return (
            f"M{_n(cx)} {_n(cy)}L{_n(ax)} {_n(ay)}A{_n(r)} {_n(r)} 0 0 {sweep} {_n(bx)} {_n(by)}Z"
        )


def star_points(
    cx: float, cy: float, outer: float, inner: float, points: int, rotate: float = -math.pi / 2
) -> list[tuple[float, float]]:
    out = []
    for k in range(points * 2):
        r = outer if k % 2 == 0 else inner
        a = rotate + k * math.pi / points
        out.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return out


def seal_points(
    cx: float, cy: float, half: float, amplitude: float, points: int, power: float = 4.0
) -> list[tuple[float, float]]:
    """A seal: ``points`` spikes around a superellipse |x|^p + |y|^p = half^p (a rounded
    square at p = 4), each tip ``amplitude`` (a fraction of the radius) outside it and each
    notch as far inside; the first tip points up."""
    out = []
    for k in range(points * 2):
        a = -math.pi / 2 + k * math.pi / points
        c, s = math.cos(a), math.sin(a)
        r = half / (abs(c) ** power + abs(s) ** power) ** (1 / power)
        r *= 1 + amplitude if k % 2 == 0 else 1 - amplitude
        out.append((cx + r * c, cy + r * s))
    return out


def coverage(
    shape: Shape,
    width: int,
    height: int,
    scale: float,
    x0: float = 0,
    y0: float = 0,
    edge: float = 0.0,
) -> np.ndarray:
    """uint8 coverage (0-255) of ``shape`` on a width x height pixel grid, where one shape unit
    is ``scale`` pixels and pixel (0, 0)'s corner is at shape point (x0, y0); ``edge``: the
    width in pixels of a soft edge (``soft_edge``), 0 for the plain anti-aliased one."""
    if edge > 0:
        x, y = np.meshgrid(
            x0 + (np.arange(width) + 0.5) / scale, y0 + (np.arange(height) + 0.5) / scale
        )
        ramp = np.clip(0.5 - shape.sdf(x, y) * (scale / edge), 0, 1)
        return np.rint(ramp * 255).astype(np.uint8)
    total = np.zeros((height, width))
    for sub_y in (0.25, 0.75):  # 2 x 2 samples per pixel, each anti-aliased over its half:
        for sub_x in (0.25, 0.75):  # close to area coverage, even for sub-pixel gaps
            xs = x0 + (np.arange(width) + sub_x) / scale
            ys = y0 + (np.arange(height) + sub_y) / scale
            x, y = np.meshgrid(xs, ys)
            total += np.clip(0.5 - shape.sdf(x, y) * scale * 2, 0, 1)
    return np.rint(total * (255 / 4)).astype(np.uint8)
