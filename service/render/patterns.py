"""Stage 4 for styled codes: every module pattern of the contract as a table entry.

A pattern turns the dark-module matrix (finder patterns already removed: the eye stage draws
them) into one small integer per module, its *kind* (``NONE`` for nothing drawn), and gives the
shape of each kind in unit module coordinates (``service.render.shapes``). The PNG writer
rasterises each kind once per pixel size into a tile and gathers tiles; the SVG writer writes
each module's shape, so both draw the same figures. Patterns that join neighbours (rounded,
liquid, connected-*) choose kinds from the neighbours, and joined edges run to the tile's edge,
so no seam can appear between two dark modules at any size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import msgspec
import numpy as np

from .geometry import BL, BR, TL, TR, Geometry, corners, rounded_cells, square_cells
from .shapes import Circle, Fillet, Poly, RoundRect, Shape, Union, coverage, star_points

__all__ = [
    "NONE",
    "PATTERN_NAMES",
    "PLAIN_PATTERNS",
    "SEPARATED",
    "SMALL_PPM",
    "Pattern",
    "kinds",
    "shape",
    "tiles",
]

NONE = 255
_HALFTONE_LEVELS = 5


def _neighbours(dark: np.ndarray) -> tuple[np.ndarray, ...]:
    p = np.pad(dark, 1)
    return (
        p[:-2, 1:-1],
        p[1:-1, 2:],
        p[2:, 1:-1],
        p[1:-1, :-2],  # up, right, down, left
        p[:-2, :-2],
        p[:-2, 2:],
        p[2:, 2:],
        p[2:, :-2],
    )  # ul, ur, dr, dl


def _rounded_shape(kind: int, r: float = 0.5) -> Shape:
    return RoundRect(0, 0, 1, 1, tuple(r if kind & bit else 0 for bit in (TL, TR, BR, BL)))


def _liquid_kinds(dark: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
    up, right, down, left, ul, ur, dr, dl = _neighbours(dark)
    fillets = (
        (up & left & ul) * TL
        | (up & right & ur) * TR
        | (down & right & dr) * BR
        | (down & left & dl) * BL
    ).astype(np.uint8)
    return np.where(dark, corners(dark), np.where(fillets > 0, 16 + fillets, NONE))


def _liquid_shape(kind: int) -> Shape:
    if kind < 16:
        return _rounded_shape(kind)
    bits = kind - 16
    spots = {TL: (0, 0), TR: (1, 0), BR: (1, 1), BL: (0, 1)}
    return Union([Fillet(x, y, 0.5) for bit, (x, y) in spots.items() if bits & bit])


def _connected_kinds(dark: np.ndarray, horizontal: bool) -> np.ndarray:
    up, right, down, left, *_ = _neighbours(dark)
    before, after = (left, right) if horizontal else (up, down)
    return np.where(dark, before * 2 + after, NONE).astype(np.uint8)


def _connected_shape(kind: int, horizontal: bool) -> Shape:
    """A bar 0.8 of a module across, running the whole module along (to the tile's edge), its
    free ends rounded 0.2. Pill ends (0.1 in, rounded 0.4) lost zbar codes the squares code
    reads, measured with 22 contents: after JPEG 30 connected-v 15 (squares 18; 20 now), and
    inside a frame connected-h after the bilinear 3 px/module copy 16 (squares 21; 22 now)."""
    rb = 0.0 if kind & 2 else 0.2
    ra = 0.0 if kind & 1 else 0.2
    if horizontal:
        return RoundRect(0, 0.1, 1, 0.9, (rb, ra, ra, rb))
    return RoundRect(0.1, 0, 0.9, 1, (rb, rb, ra, ra))


def _halftone_kinds(dark: np.ndarray, tone: np.ndarray | None, function: np.ndarray) -> np.ndarray:
    """Module size follows ``tone`` (0 light .. 1 dark: a background image's darkness under
    each module, or a gentle radial shading without one); function patterns stay whole."""
    n = dark.shape[0]
    if tone is None:
        i, j = np.indices((n, n))
        c = (n - 1) / 2
        tone = 1 - np.hypot(i - c, j - c) / (c * 1.5)
    level = np.clip(np.rint(tone * (_HALFTONE_LEVELS - 1)), 0, _HALFTONE_LEVELS - 1)
    kinds = np.where(function, _HALFTONE_LEVELS, level).astype(np.uint8)
    return np.where(dark, kinds, NONE).astype(np.uint8)


def _halftone_shape(kind: int) -> Shape:
    if kind == _HALFTONE_LEVELS:
        return RoundRect(0, 0, 1, 1)
    # from 0.62 to 0.9 of a module (was 0.45 to 0.85, then 0.55): zbar lost the lightest
    # modules to the 3 px/module nearest copy, inside a frame 13 of 22 where squares read
    # 15, and with every content at its own phase (tests/degrade.place) 16 where squares
    # read 18 at 0.55; 0.62 and 0.7 hold it
    half = (0.62 + 0.28 * kind / (_HALFTONE_LEVELS - 1)) / 2
    return RoundRect(0.5 - half, 0.5 - half, 0.5 + half, 0.5 + half)


Kinds = Callable[[np.ndarray, np.ndarray | None, np.ndarray], np.ndarray]


class Pattern(msgspec.Struct, frozen=True):
    kinds: Kinds  # (dark, tone, function-pattern mask) -> kind per module
    shape: Callable[[int, int], Shape]  # (kind, pixels per module) -> shape in module units
    count: int  # kinds 0 .. count-1
    # the plain writers' cells (pre-packed PNG tiles, SVG path runs): squares and rounded,
    # when no style asks for more; None for the patterns only the styled writers draw
    plain: Callable[[np.ndarray], Geometry] | None = None
    # modules drawn apart, light between them (dot, star, ...): what is left to find a
    # finder's square corners by is the eyes alone
    separated: bool = False
    # drawn with soft edges in PNG (``shapes.soft_edge``): not the frame pattern, whose 1 px
    # gap between ring and centre a ramp would fill
    soft: bool = False


_SQUARE = RoundRect(0, 0, 1, 1)
# Below this many pixels per module a shape cannot be drawn, only greyed: the separated
# shapes fall back to whole squares (full ink, crisp), as the plain pattern has.
SMALL_PPM = 4


def _single(shape: Shape, small: Shape | None = None) -> Pattern:
    """One shape for every module; ``small`` (a fuller one) from 4 to 6 px per module."""

    def pick(kind: int, ppm: int) -> Shape:
        if ppm < SMALL_PPM:
            return _SQUARE
        return small if small is not None and ppm < 7 else shape

    return Pattern(
        lambda dark, tone, fn: np.where(dark, 0, NONE).astype(np.uint8), pick, 1, soft=True
    )


def _framed_square(kind: int, ppm: int) -> Shape:
    """A ring and a centre (which scanners sample) with a gap between, on whole pixels so the
    gap is crisp in both formats. The centre is tied to the ring by a bridge in the middle of
    each side: a closed ring around a centre reads, along a scan line, as a small finder
    pattern (dark 2, light 1, dark 5, light 1, dark 2 at 11 px per module), and a scanner that
    finds hundreds of finders finds none; with the bridges every line through the module's
    middle is solid ink. Below 6 px per module there is no room for a gap: a square."""
    if ppm < 6:
        return _SQUARE
    ring = max(1, round(0.2 * ppm)) / ppm
    # 1 px below 40 px per module: a 2 px gap at 31 (a version 1 code at 900 px) fell on
    # a 3 px/module nearest copy's samples at some phases (zxing-cpp 21/22, squares 22)
    gap = max(1, math.floor(0.05 * ppm)) / ppm
    half = max(1, round(0.17 * ppm)) / ppm  # half the bridge (narrower read worse)
    a, b = ring, 1 - ring
    c, d = ring + gap, 1 - ring - gap
    m0, m1 = 0.5 - half, 0.5 + half
    return Union(
        [
            RoundRect(0, 0, 1, a),
            RoundRect(0, b, 1, 1),
            RoundRect(0, a, a, b),
            RoundRect(b, a, 1, b),
            RoundRect(c, c, d, d),
            RoundRect(a, m0, c, m1),
            RoundRect(d, m0, b, m1),  # left and right bridges
            RoundRect(m0, a, m1, c),
            RoundRect(m0, d, m1, b),
        ]
    )  # top and bottom


def _whole(fn: np.ndarray) -> np.ndarray:
    """The function modules a separated pattern draws whole: alignment patterns, format and
    version information (not the timing lines, which keep the pattern's look)."""
    keep = fn.copy()
    keep[6, :] = keep[:, 6] = False
    return keep


def _alignment(fn: np.ndarray) -> np.ndarray:
    """The alignment patterns alone: ``_whole`` without the format and version information
    (the finders' 9 x 9 corners and the 6 x 3 version blocks)."""
    keep = _whole(fn)
    n = fn.shape[0]
    keep[:9, :9] = keep[:9, n - 8 :] = keep[n - 8 :, :9] = False
    keep[:6, n - 11 : n - 8] = keep[n - 11 : n - 8, :6] = False
    return keep


def _solid_function(spec: Pattern, whole: Callable[[np.ndarray], np.ndarray] = _whole) -> Pattern:
    """The same pattern with the alignment patterns and the format and version information
    (or what ``whole`` chooses of them) drawn as whole squares (one more kind), as halftone
    and the eyes already are. zbar reads those first; a cheap (aliasing) bilinear scaler to
    ~3 px per module blurred separated shapes out of them: 15 of 22 dot codes read, 22 of 22
    with these modules whole."""

    def kinds_(dark: np.ndarray, tone: np.ndarray | None, fn: np.ndarray) -> np.ndarray:
        out = spec.kinds(dark, tone, fn)
        return np.where(dark & whole(fn), spec.count, out).astype(np.uint8)

    def shape(kind: int, ppm: int) -> Shape:
        return _SQUARE if kind == spec.count else spec.shape(kind, ppm)

    return Pattern(kinds_, shape, spec.count + 1, separated=True, soft=spec.soft)


def _halftone_small(kind: int, ppm: int) -> Shape:
    """Halftone's modules keep at least ~50 % ink from 4 to 7 px per module (the size of the
    lightest level grows) and are whole squares below: at ~2 px per module its lightest
    modules came out 20-47 % ink and did not read."""
    if ppm < SMALL_PPM or kind == _HALFTONE_LEVELS:
        return _SQUARE
    if ppm < 8:
        side = 0.7 + 0.25 * kind / (_HALFTONE_LEVELS - 1)
        return RoundRect(0.5 - side / 2, 0.5 - side / 2, 0.5 + side / 2, 0.5 + side / 2)
    return _halftone_shape(kind)


PATTERNS: dict[str, Pattern] = {
    "squares": Pattern(
        lambda d, t, f: np.where(d, 0, NONE).astype(np.uint8),
        lambda k, ppm: _SQUARE,
        1,
        plain=square_cells,
    ),
    "rounded": Pattern(
        lambda d, t, f: np.where(d, corners(d), NONE).astype(np.uint8),
        lambda k, ppm: _rounded_shape(k),
        16,
        plain=rounded_cells,
    ),
    "dot": _solid_function(_single(Circle(0.5, 0.5, 0.45), Circle(0.5, 0.5, 0.52))),
    "diamond": _solid_function(
        _single(
            Poly([(0.5, 0), (1, 0.5), (0.5, 1), (0, 0.5)]),
            Poly([(0.3, 0), (0.7, 0), (1, 0.3), (1, 0.7), (0.7, 1), (0.3, 1), (0, 0.7), (0, 0.3)]),
        )
    ),
    "hexagon": _solid_function(
        _single(
            Poly(
                [(0.5, 0.0), (0.933, 0.25), (0.933, 0.75), (0.5, 1.0), (0.067, 0.75), (0.067, 0.25)]
            )
        )
    ),
    "star": _solid_function(
        _single(
            Poly(star_points(0.5, 0.52, 0.5, 0.3, 5)), Poly(star_points(0.5, 0.52, 0.55, 0.36, 5))
        )
    ),
    "frame": _solid_function(
        Pattern(lambda d, t, f: np.where(d, 0, NONE).astype(np.uint8), _framed_square, 1)
    ),
    "liquid": Pattern(lambda d, t, f: _liquid_kinds(d, t), lambda k, ppm: _liquid_shape(k), 32),
    # joined along one axis already: the alignment patterns alone are whole. zxing-cpp
    # locates the bottom-right alignment pattern as a ring around a dot, which a pattern cut
    # into bars is not; with circle eye borders (no square corner to fit) and 7 deg + 8 %
    # keystone it read 0/22 codes, 19/22 with them whole (the 3 misses: version 1, which has
    # none). Whole format information too cost zbar 3 codes of 22 after JPEG 30 (19 -> 16).
    "connected-h": _solid_function(
        Pattern(
            lambda d, t, f: _connected_kinds(d, True),
            lambda k, ppm: _connected_shape(k, True),
            4,
            soft=True,
        ),
        _alignment,
    ),
    "connected-v": _solid_function(
        Pattern(
            lambda d, t, f: _connected_kinds(d, False),
            lambda k, ppm: _connected_shape(k, False),
            4,
            soft=True,
        ),
        _alignment,
    ),
    "halftone": Pattern(
        _halftone_kinds, _halftone_small, _HALFTONE_LEVELS + 1, separated=True, soft=True
    ),
}
PATTERN_NAMES = tuple(PATTERNS)
# the patterns the plain writers draw (no style): the fast path, a capability of the entry
PLAIN_PATTERNS = frozenset(name for name, p in PATTERNS.items() if p.plain is not None)
SEPARATED = frozenset(name for name, p in PATTERNS.items() if p.separated)


def shape(dark: np.ndarray, pattern: str) -> Geometry:
    """The plain writers' cells of a pattern in ``PLAIN_PATTERNS``."""
    plain = PATTERNS[pattern].plain
    if plain is None:
        raise ValueError(f"pattern {pattern!r} is drawn by the styled writers only")
    return plain(dark)


def kinds(
    pattern: str, dark: np.ndarray, tone: np.ndarray | None, function: np.ndarray
) -> np.ndarray:
    return PATTERNS[pattern].kinds(dark, tone, function)


@lru_cache(maxsize=16)  # up to ~5 MB each at 310 px per module
def tiles(pattern: str, ppm: int, edge: float = 0.0) -> np.ndarray:
    """Coverage (0-255) of every kind at ``ppm`` pixels per module: (count + 1, ppm, ppm); the
    last tile is empty, for ``NONE``. ``edge``: a soft edge's width in pixels, for the
    patterns drawn with one (``Pattern.soft``); within half of it from a tile's side the edge
    stays plain, so where a shape meets its neighbour (a whole square, a joined bar) the two
    tiles still join without a seam."""
    spec = PATTERNS[pattern]
    out = np.zeros((spec.count + 1, ppm, ppm), dtype=np.uint8)
    soft = edge if spec.soft else 0.0
    if soft:
        side = np.minimum(np.arange(ppm) + 0.5, ppm - 0.5 - np.arange(ppm))
        near = np.minimum(side[None, :], side[:, None]) < soft / 2
    for kind in range(spec.count):
        if pattern == "liquid" and kind >= 16 and kind == 16:
            continue  # no fillet: nothing
        shape = spec.shape(kind, ppm)
        out[kind] = coverage(shape, ppm, ppm, ppm)
        if soft:
            out[kind] = np.where(near, out[kind], coverage(shape, ppm, ppm, ppm, edge=soft))
    return out
