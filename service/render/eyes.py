"""Stage 4c: the eyes (finder patterns), drawn as three whole shapes rather than as modules.

Shapes are in module units within the 7 x 7 finder: a border ring (outer 7, inner 5, one module
thick, as scanners expect) and a 3 x 3 centre; the optional outer frame is a thin ring in the
light separator around each eye. ``leaf-<corner>``: all corners round but that one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .shapes import Poly, Ring, RoundRect, Shape, Union, seal_points, star_points

__all__ = [
    "BORDERS",
    "CENTRES",
    "EYE_DEFAULTS",
    "ROUND_BORDERS",
    "centre_in",
    "eye_origins",
    "outer_ring",
]

_CORNERS = ("tl", "tr", "br", "bl")
_ROUND = 2.6  # the circle border's corner radius (BORDERS); 3.2 and up broke under rotation


def _leaf(corner: str, r: float, x0: float, x1: float) -> RoundRect:
    return RoundRect(x0, x0, x1, x1, tuple(0 if c == corner else r for c in _CORNERS))


def _octagon(x0: float, x1: float, c: float) -> Poly:
    return Poly(
        [
            (x0 + c, x0),
            (x1 - c, x0),
            (x1, x0 + c),
            (x1, x1 - c),
            (x1 - c, x1),
            (x0 + c, x1),
            (x0, x1 - c),
            (x0, x0 + c),
        ]
    )


def _cut_diamond(half: float, cut: float) -> Poly:
    """A diamond ``half`` modules from its centre to each tip, the tips cut flat ``cut`` from
    the centre (an octagon with long diagonal sides), centred in the 7 x 7 finder."""
    c, d = 3.5, half - cut
    return Poly(
        [
            (c - d, c - cut),
            (c + d, c - cut),
            (c + cut, c - d),
            (c + cut, c + d),
            (c + d, c + cut),
            (c - d, c + cut),
            (c - cut, c + d),
            (c - cut, c - d),
        ]
    )


def _leaf_ring(corner: str) -> Shape:
    return Ring(_leaf(corner, 2.2, 0, 7), _leaf(corner, 1.2, 1, 6))


BORDERS: dict[str, Callable[[], Shape]] = {
    "square": lambda: Ring(RoundRect(0, 0, 7, 7), RoundRect(1, 1, 6, 6)),
    "rounded": lambda: Ring(RoundRect(0, 0, 7, 7, (2,) * 4), RoundRect(1, 1, 6, 6, (1,) * 4)),
    # not a true circle: a rounded square whose sides keep 1.8 modules straight, its hole's
    # corners of radius 1.6. Scanners fit the finder's outline to find its corners; on a
    # circle they found none, and 7 deg of rotation with 8 % keystone read 3 of 22
    # (zxing-cpp) and 6 of 22 (zbar). With corners of radius 3 (sides 1 module straight, a
    # hole of radius 2) zbar read 316-329 of 352 after the 3 px/module bilinear copy, where
    # squares read 352 (radius 2.8: 81 of 88, 2.7: 85, 2.6: 87-88, squares 88), and plain
    # (a soft edge cost it more there) its JPEG column too: a halftone code 217 of 352
    # (squares 241). At 2.6, soft: 342-352 after the bilinear copy, 350-352 after JPEG 30.
    "circle": lambda: Ring(
        RoundRect(0, 0, 7, 7, (_ROUND,) * 4), RoundRect(1, 1, 6, 6, (_ROUND - 1,) * 4)
    ),
    # frame and leaf: smaller chamfers and radii than before (1.6/1.2 and 2.6/1.6). On a
    # version 1 symbol (no alignment pattern) decoders take the perspective from the
    # finders' corners; with a separated pattern, 7 deg + 8 % keystone read 0/72 (frame)
    # and 5/72 (leaf) of dot, halftone and star codes across centres, 72/72 now
    "frame": lambda: Ring(_octagon(0, 7, 1.2), _octagon(1, 6, 0.8)),
    **{f"leaf-{c}": functools.partial(_leaf_ring, c) for c in _CORNERS},
}

# Borders whose hole has no square corner. On a version 1 symbol (no alignment pattern)
# zxing-cpp takes the perspective from the finders once it has fitted a square to the
# bottom-left one's hole; with these it cannot, samples a parallelogram, and a separated
# pattern under 7 deg + 8 % keystone lost every version 1 code (19/22 where squares read 22).
# Such a style is drawn at version 2 at least (items.validation): every version from 2 up
# read 22/22. A squarer hole thinned the ring's corners (13/22 after a 3 px/module copy).
ROUND_BORDERS = frozenset({"circle", "leaf-tl", "leaf-tr", "leaf-br", "leaf-bl"})

# Every border is drawn with a soft edge in PNG (shapes.soft_edge; the scene): after JPEG at
# quality 30 zbar read 13 of 22 codes with plain-edged eyes, 22 with soft-edged borders. The
# circle border was plain outside a frame while its corners had radius 3: at its floor after
# the bilinear copy, a soft edge cost it 3-4 codes of 22 there. Not the centres: a soft
# centre cost zbar a code after the phone-like capture. Nor a border in an ink paler than the
# modules' (scene._soft_border): its soft slope fell under zbar's edge threshold.


# A scanner finds a finder along scan lines through its centre, horizontal and vertical
# (zbar only those), where dark 1 : light 1 : dark 3 : light 1 : dark 1 holds; the centre must
# cross ~3 modules of ink on a band of lines as tall as a square centre's. Measured with 22
# contents, each at its own phase on the capture's pixel grid (tests/degrade.place), zbar
# after the phone-like capture read: square 20, a true circle of radius 1.5 13 (1.6: 15, 1.7:
# 17, 1.8: 16), a rounded square 3.2 wide with corners of radius 1.3 20, the leaf 3 wide 17
# and 3.2 wide 20, the diamond cut 0.6 in 13 (cut 0.8: 18, 0.9: 20, 1.0: 21), the star 8, the
# sunburst 12 (longer spikes on a rounded square: 17). zxing-cpp read 21-22 of 22 in every
# case.
# Hence the circle centre is a rounded square (as the circle border is) and the diamond an
# octagon. Those figures were 22 contents; over 88 (squares 82 of 88 after the phone-like
# capture, floor 78) the 3.2-wide circle (radius 1.3) read 70, the 3.2-wide leaf 69, and the
# eye_shape circle (circle border and centre) 67: 22 contents had been lucky. What reads is
# the square's width with small corners: 3 wide, radius 1.2 read 70-73, radius 1.0 77-82
# (77 in four borders of five), radius 0.9 78-79 in six borders, framed or not; 3.1 wide
# radius 1.1 71. The leaf 3 wide, radius 0.9: 81 in six borders, 76-80 in a rounded frame
# (framed squares 82). So the circle and the leaf are 3 modules wide with corners of radius
# 0.9, the circle next to the rounded centre (radius 0.8: 80). A rounder circle costs zbar's
# phone reads. The band below does not tell those apart (3.1 wide radius 1.1 has more band
# than 3 wide radius 1.0 and read 71).
# The rule behind those figures: a scan line passes zbar's test (each of light, 3-module ink
# and light within half a module of 1 : 3 : 1) only where the centre's ink begins and ends
# near the square's sides, so a centre must keep the square's extent along a band of rows
# and of columns (the circle centre keeps it on 2.3 modules each way at 0.3 module of
# margin, the true circle on 1.5, the star on 0.8). The sunburst is 20 short spikes around a
# squarish superellipse, where it was 20 spikes around a circle (1.3 modules of band): zbar
# 19 of 22 and 38 of 44 after the phone-like capture where that read 11 and 25 (squares 20
# and 42). Over 352 contents, where that column stops swinging by a few codes for a
# hundredth of a module (squares 324 of 352, 92.0 %, floor 87.0 %), the sunburst around a
# rounded square 3.1 wide (p = 4, spikes 8 %) read 291 (82.7 %) and the diamond 3.2 wide
# 301 (85.5 %); 3 wide, as the circle and the leaf: the sunburst around p = 6 with spikes
# of 5 % 315 (89.5 %; p = 8, 1.55, 5 %: 317, but 71-75 of 88 after the nearest copy where
# p = 6 reads 78-85), the diamond cut 1 module in 323 (91.8 %; with sides 1.8 straight, 4.8
# tip to tip: 314). The five-pointed star stays: no five-pointed star keeps more than 0.9
# module of band, its zbar gap is listed in the README; a four-pointed one that reads is a
# pinched square.
CENTRES: dict[str, Callable[[], Shape]] = {
    "square": lambda: RoundRect(2, 2, 5, 5),
    "rounded": lambda: RoundRect(2, 2, 5, 5, (0.8,) * 4),
    # circle and leaf: 3 modules wide, corners of radius 0.9 (were 3.2 wide, radius 1.3; see
    # above)
    "circle": lambda: RoundRect(2, 2, 5, 5, (0.9,) * 4),
    "leaf-tl": lambda: _leaf("tl", 0.9, 2, 5),
    # sunburst: 20 spikes 5 % out and in around a squarer superellipse (p = 6), 3 modules
    # wide; see above
    "sunburst": lambda: Poly(seal_points(3.5, 3.5, 1.5, 0.05, 20, 6.0)),
    # star: larger than the first (1.75/1.25 was 3 modules wide on a band a third as tall,
    # and a 3 px/module nearest copy sampled it as light: 13/22 with zxing-cpp); 2.0/1.45,
    # centred 0.1 module low, its points 0.6-0.9 module from the ring. 22/22 with zxing-cpp
    # after every damage.
    "star": lambda: Poly(star_points(3.5, 3.6, 2.0, 1.45, 5)),
    # diamond: 5 modules tip to tip, its tips cut flat 1 module in (an octagon 3 wide whose
    # sides run 2 straight; was cut 0.9 in, 3.2 wide); the pointed diamond (3.7 tip to tip)
    # read 13/22 with zxing-cpp after the nearest copy and 0/22 with zbar after the
    # phone-like capture.
    "diamond": lambda: _cut_diamond(2.5, 1.5),
    # cross: arms 2.4 modules thick (were 1.6, then 2.2), 2.8 long, ending 0.1 module inside
    # the 3 x 3 centre's square (the 2.2 arms ran 0.1 past it, into the light ring): after a
    # phone-like capture the thin cross read 3/22 with both decoders; 20/22 with zbar now
    # (squares 20).
    "cross": lambda: Union([RoundRect(2.1, 2.3, 4.9, 4.7), RoundRect(2.3, 2.1, 4.7, 4.9)]),
}


def centre_in(border: str, centre: str) -> Shape:
    """The centre as drawn inside ``border``: ``CENTRES``' shape, but for the leaf inside the
    circle border, whose point is rounded 0.4 module. Its point aims into the hole's round
    corner (radius 2 then, 1.6 now). When the leaf was 3.2 modules wide that left 0.44 module
    of light where the square ring keeps a module, and a 3 px/module nearest copy closed it:
    zxing-cpp read 20 of 22 codes (in a frame 18), squares 22; rounded 0.4, 22 of 22. At 3
    modules wide the point keeps the square centre's light (0.59 module in the radius-2 hole,
    0.75 in today's); rounded it keeps more (measured so: 88 of 88 after the nearest copy;
    with zbar after the phone-like capture 308 of 352 in today's border, squares 324)."""
    if border == "circle" and centre == "leaf-tl":
        return RoundRect(2, 2, 5, 5, (0.4, 0.9, 0.9, 0.9))
    return CENTRES[centre]()


# eye_shape -> (border, centre) when those are not given
EYE_DEFAULTS = {
    "square": ("square", "square"),
    "rounded": ("rounded", "rounded"),
    "circle": ("circle", "circle"),
    "frame": ("frame", "square"),
}


def outer_ring(border: str, thin: bool = False) -> Shape:
    """A ring in the separator, following the eye's outline: 0.25 module thick, 0.5-0.75
    module outside the eye; ``thin``, 0.15 thick, 0.55-0.7 out. The scene draws it thin when
    its ink stands out more than the eye border's: a black ring around #C62828 eyes (leaf-bl
    border, sunburst centre) was taken for the finder's edge after a 3 px/module nearest
    copy, and zxing-cpp read 10/22 codes over hexagon, 13/22 over squares (22/22 thin, and
    22/22 without the ring). Not thin otherwise: around black eyes the thin ring cost zbar
    codes after JPEG 30 (15/22 where squares read 18)."""
    r = {"square": 0.0, "frame": 0.0, "circle": _ROUND + 0.75}.get(border, 2.8)
    out, within = (0.7, 0.55) if thin else (0.75, 0.5)
    return Ring(
        RoundRect(-out, -out, 7 + out, 7 + out, (r,) * 4),
        RoundRect(-within, -within, 7 + within, 7 + within, (max(0, r - (out - within)),) * 4),
    )


def eye_origins(n: int) -> list[tuple[int, int]]:
    """(column, row) of each finder's top-left module."""
    return [(0, 0), (n - 7, 0), (0, n - 7)]
