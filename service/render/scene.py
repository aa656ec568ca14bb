"""Stage 4 of the styled codes: the scene, what to draw in order, each piece a shape in known
units with its ink: the data modules (a kind per module, see ``patterns``), the three eyes,
their outer rings, the frame and its caption. The writers draw a scene as it is: palette or
RGBA PNG (``styled``), SVG (``svg.write_scene_svg``).
"""

from __future__ import annotations

import msgspec
import numpy as np

from .color import RGBA, contrast_ratio, is_inverted
from .encode import function_modules
from .eyes import BORDERS, centre_in, eye_origins, outer_ring
from .job import RenderJob, Style
from .layout import Layout, frame_box
from .patterns import kinds
from .shapes import Ring, RoundRect, Shape, soft_edge

__all__ = ["FONT", "Label", "Piece", "Scene", "scene"]

FONT = "DejaVu Sans"  # the caption's, in both formats
_EYE_MARGIN = 1  # modules around a 7 x 7 eye that its outer ring may use
_NO_STYLE = Style()
_WHITE: RGBA = (255, 255, 255, 255)  # the paper under a transparent background


class Piece(msgspec.Struct):
    shape: Shape
    scale: float  # pixels per shape unit
    x: float  # pixel position of the shape's origin
    y: float
    box: tuple[int, int, int, int]  # pixel rectangle to rasterise: x, y, w, h
    ink: RGBA
    evenodd: bool = False
    key: object = None  # same key, same coverage (an eye part at a given size): cached
    svg: bool = True  # False: another piece draws this shape in SVG (one shape, many boxes)
    edge: float = 0.0  # a soft edge's width in pixels (PNG only: shapes.soft_edge)


class Label(msgspec.Struct):
    text: str
    ink: RGBA
    under: RGBA  # what it is drawn on (a banner, or the background)
    rect: tuple[int, int, int, int]  # x, y, w, h


class Scene(msgspec.Struct):
    layout: Layout
    cells: np.ndarray  # kind per module
    pattern: str
    fg: RGBA
    gradient: tuple[RGBA, RGBA] | None
    bg: RGBA
    pieces: list[Piece]  # eyes, rings, frame, in drawing order
    label: Label | None
    # the soft edge of the patterns and eye borders drawn with one (shapes.soft_edge), in a
    # PNG; 0 in an SVG's scene, so the PNG twin its read-back decodes has the SVG's edges
    edge: float = 0.0


def _text_ink(band: RGBA, bg: RGBA) -> RGBA:
    """The caption on a filled banner: white or black, whichever reads better on it."""
    white, black = (255, 255, 255, 255), (0, 0, 0, 255)
    return white if contrast_ratio(band, white) >= contrast_ratio(band, black) else black


def _frame_pieces(
    style: Style,
    fg: RGBA,
    bg: RGBA,
    pixels: int,
) -> tuple[list[Piece], Label | None]:
    fb = frame_box(pixels, style.frame_style, style.frame_label is not None)
    if fb is None:
        return [], None
    ink = style.frame_color or fg
    t, p = fb.line, pixels
    radius = 4.0 * t if style.frame_style == "rounded" else 0.0
    ring = Ring(
        RoundRect(0, 0, p, p, (radius,) * 4),
        RoundRect(t, t, p - t, p - t, (max(0.0, radius - t),) * 4),
    )
    # rasterised only where it is: four corners and four straight strips
    c = max(t, int(radius) + t)
    boxes = [
        (0, 0, c, c),
        (p - c, 0, c, c),
        (0, p - c, c, c),
        (p - c, p - c, c, c),
        (c, 0, p - 2 * c, t),
        (c, p - t, p - 2 * c, t),
        (0, c, t, p - 2 * c),
        (p - t, c, t, p - 2 * c),
    ]
    key = (style.frame_style, style.frame_label is not None, p)
    pieces = [
        Piece(ring, 1, 0, 0, box, ink, evenodd=True, key=(*key, i), svg=i == 0)
        for i, box in enumerate(boxes)
    ]
    label = None
    text_ink, under = ink, bg
    if style.frame_style.startswith("banner") and fb.band:
        band = RoundRect(t, fb.band_y0, p - t, fb.band_y1)
        pieces.append(
            Piece(band, 1, 0, 0, (t, fb.band_y0, p - 2 * t, fb.band), ink, key=(*key, "band"))
        )
        text_ink, under = _text_ink(ink, bg), ink
    if style.frame_label and fb.band:
        pad = round(fb.band * 0.2)
        label = Label(
            style.frame_label,
            text_ink,
            under,
            (t + pad, fb.band_y0 + pad, p - 2 * (t + pad), fb.band - 2 * pad),
        )
    return pieces, label


def _soft_border(ink: RGBA, module_inks: tuple[RGBA, ...], paper: RGBA) -> bool:
    """Whether an eye border in ``ink`` gets the soft edge: only when it stands out from the
    paper at least as much as every module ink. zbar's scan line takes an edge only where the
    slope reaches a share of the last edge's, and the data modules' edges are sharp: a paler
    border's soft slope falls under it. After JPEG 30, over 88 contents at 3 in x 300 dpi
    (black modules), zbar read eyes in #C62828 11 times with soft borders, 67 with plain
    ones, and #575757 29 against 64 (black eyes: 88 soft, 13 of 22 plain); 1 px read as
    plain, 1.5 px 46."""
    return all(contrast_ratio(ink, paper) >= contrast_ratio(i, paper) for i in module_inks)


def scene(job: RenderJob, dark: np.ndarray, tone: np.ndarray | None) -> Scene:
    style = job.style or _NO_STYLE
    layout = job.layout
    n, ppm = layout.modules, layout.ppm
    sx, sy = layout.offset, layout.offset + layout.dy
    finders = np.zeros((n, n), dtype=bool)
    for col, row in eye_origins(n):
        finders[row : row + 7, col : col + 7] = True
    function = function_modules(job.version)
    cells = kinds(job.pattern, dark & ~finders, tone, function & ~finders)
    eye_ink_b = style.eye_border_color or job.fg
    eye_ink_c = style.eye_center_color or job.fg
    border = BORDERS[style.eye_border]()
    centre = centre_in(style.eye_border, style.eye_center)
    pieces: list[Piece] = []
    m = _EYE_MARGIN
    ring_ink = style.outer_frame_color or job.fg
    paper = job.bg if job.bg[3] == 255 else _WHITE
    # thin where the ring would stand out more than the eye border (eyes.outer_ring)
    thin = contrast_ratio(ring_ink, paper) > contrast_ratio(eye_ink_b, paper)
    ring = outer_ring(style.eye_border, thin) if style.outer_frame else None
    # soft in a PNG: the patterns that have it, and every eye border (eyes.BORDERS) whose ink
    # stands out at least as much as the modules' (not the centres)
    edge = soft_edge(ppm, is_inverted(job.fg, job.bg)) if job.format == "png" else 0.0
    border_edge = edge if _soft_border(eye_ink_b, style.gradient or (job.fg,), paper) else 0.0
    for col, row in eye_origins(n):
        x, y = sx + col * ppm, sy + row * ppm
        box = (x - m * ppm, y - m * ppm, (7 + 2 * m) * ppm, (7 + 2 * m) * ppm)
        if ring is not None:
            pieces.append(
                Piece(
                    ring,
                    ppm,
                    x,
                    y,
                    box,
                    ring_ink,
                    True,
                    ("ring", style.eye_border, thin, ppm),
                )
            )
        pieces.append(
            Piece(
                border,
                ppm,
                x,
                y,
                box,
                eye_ink_b,
                True,
                ("border", style.eye_border, ppm, border_edge),
                edge=border_edge,
            )
        )
        pieces.append(
            Piece(
                centre,
                ppm,
                x,
                y,
                box,
                eye_ink_c,
                False,
                ("centre", style.eye_border, style.eye_center, ppm),
            )
        )
    frame, label = _frame_pieces(style, job.fg, job.bg, layout.pixels)
    return Scene(
        layout, cells, job.pattern, job.fg, style.gradient, job.bg, frame + pieces, label, edge
    )
