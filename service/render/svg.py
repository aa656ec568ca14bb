"""Stage 5b: the SVG writers. Same geometry and pixel grid as the PNG (the viewBox is the PNG's
pixel size) and the physical size in inches. Plain codes (``write_svg``): one ``<path>`` for all
dark modules, each horizontal run one sub-path, so abutting modules never show seams. A styled
code's scene (``write_scene_svg``): one path per layer (not one element per module), a
``linearGradient`` and a ``<text>`` caption.
"""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import escape

import numpy as np
import pyvips

from .color import RGBA
from .geometry import BL, BR, LIGHT, TL, TR, Geometry
from .layout import Layout
from .patterns import NONE, PATTERNS
from .scene import FONT, Scene
from .shapes import Shape

__all__ = ["paint", "write_scene_svg", "write_svg"]

_FONT_CSS = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"


def paint(attr: str, c: RGBA) -> str:
    """A fill or stroke attribute, with its opacity when the colour has alpha."""
    value = f'{attr}="#{c[0]:02x}{c[1]:02x}{c[2]:02x}"'
    return value + (f' {attr}-opacity="{c[3] / 255:.3f}"' if c[3] != 255 else "")


def _num(v: float) -> str:
    return f"{v:g}"


def _run(x: int, y: int, w: int, h: int, r: float, first: int, last: int) -> str:
    """One run of dark modules; only its end modules can have rounded corners."""
    tl, bl = (r if first & TL else 0), (r if first & BL else 0)
    tr, br = (r if last & TR else 0), (r if last & BR else 0)
    d = [f"M{_num(x + tl)} {y}h{_num(w - tl - tr)}"]
    if tr:
        d.append(f"a{_num(r)} {_num(r)} 0 0 1 {_num(r)} {_num(r)}")
    d.append(f"v{_num(h - tr - br)}")
    if br:
        d.append(f"a{_num(r)} {_num(r)} 0 0 1 -{_num(r)} {_num(r)}")
    d.append(f"h-{_num(w - bl - br)}")
    if bl:
        d.append(f"a{_num(r)} {_num(r)} 0 0 1 -{_num(r)} -{_num(r)}")
    d.append(f"v-{_num(h - bl - tl)}")
    if tl:
        d.append(f"a{_num(r)} {_num(r)} 0 0 1 {_num(r)} -{_num(r)}")
    return "".join(d) + "z"


def write_svg(
    geom: Geometry,
    layout: Layout,
    fg: RGBA,
    bg: RGBA,
    size_inches: float,
    below: str = "",
    above: str = "",
) -> bytes:
    """``below`` and ``above``: extra elements under and over the modules (overlay layers)."""
    ppm, off, size = layout.ppm, layout.offset, layout.pixels
    r = geom.radius * ppm
    parts: list[str] = []
    for row, cells in enumerate(geom.cells):
        dark = np.concatenate(([False], cells != LIGHT, [False]))
        edges = np.flatnonzero(dark[1:] != dark[:-1])
        y = off + row * ppm
        for start, stop in zip(edges[0::2].tolist(), edges[1::2].tolist()):
            parts.append(
                _run(
                    off + start * ppm,
                    y,
                    (stop - start) * ppm,
                    ppm,
                    r,
                    int(cells[start]),
                    int(cells[stop - 1]),
                )
            )
    inches = _num(size_inches)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{inches}in" '
        f'height="{inches}in" viewBox="0 0 {size} {size}">'
    )
    body = [head]
    if bg[3]:
        body.append(f'<rect width="{size}" height="{size}" {paint("fill", bg)}/>')
    body.append(below)
    body.append(f'<path {paint("fill", fg)} d="{"".join(parts)}"/>')
    body.append(above)
    body.append("</svg>\n")
    return "".join(body).encode()


def _stop(offset: int, c: RGBA) -> str:
    opacity = f' stop-opacity="{c[3] / 255:.3f}"' if c[3] != 255 else ""
    return f'<stop offset="{offset}" stop-color="#{c[0]:02x}{c[1]:02x}{c[2]:02x}"{opacity}/>'


def write_scene_svg(sc: Scene, size_inches: float, below: str = "", above: str = "") -> bytes:
    lay = sc.layout
    size, ppm = lay.pixels, lay.ppm
    sx, sy = lay.offset, lay.offset + lay.dy
    spec = PATTERNS[sc.pattern]
    shapes: dict[int, Shape] = {}
    parts: list[str] = []
    rows, cols = np.nonzero(sc.cells != NONE)
    for r, c in zip(rows.tolist(), cols.tolist()):
        kind = int(sc.cells[r, c])
        shape = shapes.get(kind)
        if shape is None:
            shape = shapes[kind] = spec.shape(kind, ppm)
        parts.append(shape.path(ppm, sx + c * ppm, sy + r * ppm))
    inches = f"{size_inches:g}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{inches}in" '
        f'height="{inches}in" viewBox="0 0 {size} {size}">'
    ]
    if sc.gradient:
        top, bottom = sc.gradient
        out.append(
            f'<defs><linearGradient id="qg" gradientUnits="userSpaceOnUse" x1="0" '
            f'y1="{sy}" x2="0" y2="{sy + lay.symbol_pixels}">{_stop(0, top)}'
            f"{_stop(1, bottom)}</linearGradient></defs>"
        )
    if sc.bg[3]:
        out.append(f'<rect width="{size}" height="{size}" {paint("fill", sc.bg)}/>')
    out.append(below)
    fill = 'fill="url(#qg)"' if sc.gradient else paint("fill", sc.fg)
    out.append(f'<path {fill} d="{"".join(parts)}"/>')
    groups: dict[tuple[RGBA, bool], list[str]] = {}
    for piece in sc.pieces:
        if piece.svg:
            groups.setdefault((piece.ink, piece.evenodd), []).append(
                piece.shape.path(piece.scale, piece.x, piece.y)
            )
    for (ink, evenodd), paths in groups.items():
        rule = ' fill-rule="evenodd"' if evenodd else ""
        out.append(f'<path {paint("fill", ink)}{rule} d="{"".join(paths)}"/>')
    if sc.label is not None:
        text, ink = sc.label.text, sc.label.ink
        x, y, w, h = sc.label.rect
        font = _label_font_px(text, w, h)
        out.append(
            f'<text x="{x + w / 2:g}" y="{y + h / 2:g}" font-family="{_FONT_CSS}" '
            f'font-weight="bold" font-size="{font:g}" text-anchor="middle" '
            f'dominant-baseline="central" {paint("fill", ink)}>{escape(text)}</text>'
        )
    out.append(above)
    out.append("</svg>\n")
    return "".join(out).encode()


@lru_cache(maxsize=64)
def _label_font_px(text: str, w: int, h: int) -> float:
    """The size libvips' text() picks to fit the box, so both formats agree (two pango
    layouts: kept for the next item with the same caption)."""
    try:
        mask = pyvips.Image.text(
            escape(text), font=f"{FONT} Bold", width=w, height=h, align="centre"
        )
        probe = pyvips.Image.text(escape(text), font=f"{FONT} Bold 100", dpi=72)
    except pyvips.Error:  # nothing to lay out (validation refuses such captions)
        return float(h)
    return round(100 * mask.width / max(1, probe.width), 2)
