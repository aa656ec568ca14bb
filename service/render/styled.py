"""Stage 5c: the PNG writers of a styled code's scene (``scene``: any pattern, eyes, gradient,
frame, label), with the logo and background layers if any.

Each piece is rasterised (tiles for the modules, signed distances for the rest; numpy). Without
images the pieces go into one 8-bit palette image (``write_scene_palette``); with them libvips
composites the pieces, the gradient and the images in one pass outside the GIL and writes
8-bit RGBA (``write_scene_rgba``).
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape

import numpy as np
import pyvips

from ..lru import LRU
from .color import RGBA
from .overlay import Box, Overlay, background_layers, logo_image
from .patterns import NONE, PATTERNS, tiles
from .png import palette, write_indexed
from .scene import FONT, Piece, Scene
from .shapes import coverage

__all__ = ["write_scene_palette", "write_scene_rgba"]


def _mask(array: np.ndarray) -> pyvips.Image:
    h, w = array.shape
    return pyvips.Image.new_from_memory(np.ascontiguousarray(array).data, w, h, 1, "uchar")


def _inked(mask: pyvips.Image, ink: RGBA) -> pyvips.Image:
    return (
        mask.linear([0, 0, 0, ink[3] / 255], [ink[0], ink[1], ink[2], 0])
        .cast("uchar")
        .copy(interpretation="srgb")
    )


def _gradient_inked(mask: pyvips.Image, top: RGBA, bottom: RGBA) -> pyvips.Image:
    h = mask.height
    y = (pyvips.Image.xyz(mask.width, h)[1] + 0.5) / h
    ink = y.linear([b - a for a, b in zip(top, bottom)], list(top))
    alpha = ink[3] * mask / 255
    return ink[:3].bandjoin(alpha).cast("uchar").copy(interpretation="srgb")


def _modules_mask(sc: Scene) -> np.ndarray:
    lay = sc.layout
    tile = tiles(sc.pattern, lay.ppm, sc.edge)
    cells = np.where(sc.cells == NONE, PATTERNS[sc.pattern].count, sc.cells)
    n, ppm = lay.modules, lay.ppm
    return tile[cells].transpose(0, 2, 1, 3).reshape(n * ppm, n * ppm)


_masks: LRU[object, np.ndarray] = LRU(24)


def _piece_mask(piece: Piece) -> pyvips.Image:
    return _mask(_piece_array(piece))


def _piece_array(piece: Piece) -> np.ndarray:
    x, y, w, h = piece.box
    cov = _masks.get(piece.key) if piece.key is not None else None
    if cov is None:
        cov = coverage(
            piece.shape,
            w,
            h,
            piece.scale,
            (x - piece.x) / piece.scale,
            (y - piece.y) / piece.scale,
            piece.edge,
        )
        if piece.key is not None and cov.size <= 4_000_000:
            _masks.put(piece.key, cov)
    return cov


_labels: LRU[tuple[str, int, int], np.ndarray] = LRU(16)


def _label_array(text: str, w: int, h: int) -> np.ndarray:
    """The caption's coverage, fitted to w x h by pango (slow: kept for the next item)."""
    key = (text, w, h)
    found = _labels.get(key)
    if found is None:
        try:
            mask = pyvips.Image.text(
                escape(text), font=f"{FONT} Bold", width=w, height=h, align="centre"
            ).gravity("centre", w, h)
        except pyvips.Error:  # pango laid out nothing (validation refuses such captions)
            mask = pyvips.Image.black(w, h)
        found = np.ndarray(
            buffer=mask.cast("uchar").write_to_memory(), dtype=np.uint8, shape=(h, w)
        )
        _labels.put(key, found)
    return found


def _label_mask(text: str, w: int, h: int) -> pyvips.Image:
    return _mask(_label_array(text, w, h))


def write_scene_rgba(
    sc: Scene, dpi: int, overlay: Overlay | None, box: Box | None, assets: Mapping[str, bytes]
) -> bytes:
    lay = sc.layout
    sx, sy = lay.offset, lay.offset + lay.dy
    layers: list[pyvips.Image] = []
    xs: list[int] = []
    ys: list[int] = []

    def add(image: pyvips.Image, x: int, y: int) -> None:
        layers.append(image)
        xs.append(x)
        ys.append(y)

    if overlay is not None and overlay.background is not None:
        for layer in background_layers(overlay.background, lay, dpi, sc.bg, assets):
            add(layer, sx, sy)
    mask = _mask(_modules_mask(sc))
    add(_gradient_inked(mask, *sc.gradient) if sc.gradient else _inked(mask, sc.fg), sx, sy)
    for piece in sc.pieces:
        add(_inked(_piece_mask(piece), piece.ink), piece.box[0], piece.box[1])
    if sc.label is not None:
        x, y, w, h = sc.label.rect
        add(_inked(_label_mask(sc.label.text, w, h), sc.label.ink), x, y)
    if overlay is not None and overlay.logo is not None and box is not None:
        add(logo_image(overlay.logo, box, assets), box.x, box.y)
    base = (
        pyvips.Image.black(lay.pixels, lay.pixels, bands=4)
        .new_from_image(list(sc.bg))
        .copy(interpretation="srgb")
    )
    out = base.composite(layers, "over", x=xs, y=ys).cast("uchar")
    out = out.copy(xres=dpi / 25.4, yres=dpi / 25.4)
    return bytes(out.pngsave_buffer(compression=2, filter="up", keep="none"))


_LEVELS = 16  # coverage levels per ink in the palette image


def write_scene_palette(sc: Scene, dpi: int, compression: int) -> bytes:
    """The scene as an 8-bit palette PNG (no images): each ink gets 15 coverage levels
    pre-composited over what it is drawn on, a gradient 48 steps of 3; a pixel takes the last
    layer covering it. Five times faster than compositing RGBA in libvips, and a quarter of
    the bytes."""
    lay = sc.layout
    size = lay.pixels
    sx, sy = lay.offset, lay.offset + lay.dy
    colours: list[RGBA] = [sc.bg]
    index = np.zeros((size, size), dtype=np.uint8)
    layers: list[tuple[np.ndarray, int, int, RGBA, RGBA]] = []
    if sc.gradient is None:
        layers.append((_modules_mask(sc), sx, sy, sc.fg, sc.bg))
    else:
        _gradient_modules(sc, index, colours)
    for piece in sc.pieces:
        layers.append((_piece_array(piece), piece.box[0], piece.box[1], piece.ink, sc.bg))
    if sc.label is not None:
        x, y, w, h = sc.label.rect
        layers.append((_label_array(sc.label.text, w, h), x, y, sc.label.ink, sc.label.under))
    bases: dict[tuple[RGBA, RGBA], int] = {}
    for mask, x, y, ink, under in layers:
        base = bases.get((ink, under))
        if base is None:
            base = bases[(ink, under)] = len(colours) - 1
            colours.extend(palette(ink, under, _LEVELS)[1:])
        mask, x, y = _clipped(mask, x, y, size)
        level = ((mask.astype(np.uint16) * (_LEVELS - 1) + 127) // 255).astype(np.uint8)
        region = index[y : y + mask.shape[0], x : x + mask.shape[1]]
        np.copyto(region, level + np.uint8(base), where=level > 0)
    return write_indexed(index, colours, dpi, compression)


def _clipped(mask: np.ndarray, x: int, y: int, size: int) -> tuple[np.ndarray, int, int]:
    """The part of a layer drawn at (x, y) that lies on a ``size`` square image: a piece's box
    (an eye with its anti-aliasing margin) may start outside it when the quiet zone is 0."""
    left, top = max(0, -x), max(0, -y)
    h, w = mask.shape
    right, bottom = min(w, size - x), min(h, size - y)
    return mask[top : max(top, bottom), left : max(left, right)], x + left, y + top


_GRADIENT_STEPS = 48  # colours down the symbol; ~19 px apart at 3 in x 300 dpi: no banding
_GRADIENT_LEVELS = 4  # coverage levels per step, as the plain fast path has


def _gradient_modules(sc: Scene, index: np.ndarray, colours: list[RGBA]) -> None:
    """The modules of a vertical gradient into ``index``: 48 colour steps x 3 coverage levels
    of the palette, each step's colour taken at its middle."""
    assert sc.gradient is not None
    top, bottom = sc.gradient
    lay = sc.layout
    sym, sx, sy = lay.symbol_pixels, lay.offset, lay.offset + lay.dy
    base = len(colours)
    for step in range(_GRADIENT_STEPS):
        t = (step + 0.5) / _GRADIENT_STEPS
        ink = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
        colours.extend(palette(ink, sc.bg, _GRADIENT_LEVELS)[1:])  # type: ignore[arg-type]
    mask = _modules_mask(sc)
    level = ((mask.astype(np.uint16) * (_GRADIENT_LEVELS - 1) + 127) // 255).astype(np.uint8)
    rows = ((np.arange(sym) + 0.5) * _GRADIENT_STEPS // sym).astype(np.uint8)
    values = base + rows[:, None] * (_GRADIENT_LEVELS - 1) + level - 1
    region = index[sy : sy + sym, sx : sx + sym]
    np.copyto(region, values.astype(np.uint8), where=level > 0)
