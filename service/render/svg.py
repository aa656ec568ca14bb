"""Stage 5b: the SVG writer. Same geometry and pixel grid as the PNG (the viewBox is the PNG's
pixel size), one ``<path>`` for all dark modules (each horizontal run one sub-path, so abutting
modules never show seams), and the physical size in inches.
"""

from __future__ import annotations

import numpy as np

from .color import RGBA
from .geometry import BL, BR, LIGHT, TL, TR, Geometry
from .layout import Layout

__all__ = ["paint", "write_svg"]


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
