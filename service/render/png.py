"""Stage 5a: the PNG writer. A palette image (1 bit for square shapes, 4 bits when edges are
anti-aliased), written band by band: one band per module row, each module row's pixels built
once from cached tiles, rows Up-filtered (repeated rows become zeros) and zlib-compressed as
they come, so memory stays at one band whatever the image size. Carries its dpi in pHYs.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

import numpy as np

from .color import RGBA
from .geometry import BL, BR, LIGHT, TL, TR, Geometry
from .layout import Layout

__all__ = ["palette", "tiles", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def palette(fg: RGBA, bg: RGBA, levels: int) -> list[RGBA]:
    """Entry k is the foreground at coverage k/(levels-1) composited over the background."""
    out: list[RGBA] = []
    for k in range(levels):
        sa = fg[3] / 255 * k / (levels - 1)
        ba = bg[3] / 255
        a = sa + ba * (1 - sa)
        if a == 0:
            out.append((0, 0, 0, 0))
            continue
        rgb = [round((sa * f + ba * (1 - sa) * b) / a) for f, b in zip(fg[:3], bg[:3])]
        out.append((rgb[0], rgb[1], rgb[2], round(a * 255)))
    return out


@lru_cache(maxsize=512)
def tiles(ppm: int, radius: float, levels: int) -> np.ndarray:
    """Palette indices of every cell kind at ``ppm`` pixels: shape (17, ppm, ppm)."""
    out = np.zeros((LIGHT + 1, ppm, ppm), dtype=np.uint8)
    top = levels - 1
    if radius == 0:
        out[:LIGHT] = top
        return out
    r = radius * ppm
    c = np.arange(ppm) + 0.5
    y, x = np.meshgrid(c, c, indexing="ij")
    corner_cover = {}
    # corner -> (centre of its arc, which side of the centre the corner lies on, per axis)
    for bit, (sx, sy) in {TL: (-1, -1), TR: (1, -1), BR: (1, 1), BL: (-1, 1)}.items():
        cx = r if sx < 0 else ppm - r
        cy = r if sy < 0 else ppm - r
        dx = np.maximum(sx * (x - cx), 0)
        dy = np.maximum(sy * (y - cy), 0)
        corner_cover[bit] = np.clip(r - np.hypot(dx, dy) + 0.5, 0, 1)
    for kind in range(LIGHT):
        cover = np.ones((ppm, ppm))
        for bit, cc in corner_cover.items():
            if kind & bit:
                cover = np.minimum(cover, cc)
        out[kind] = np.rint(cover * top).astype(np.uint8)
    return out


def _pack(rows: np.ndarray, depth: int) -> np.ndarray:
    if depth == 1:
        return np.packbits(rows, axis=1)
    if rows.shape[1] % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
    return (rows[:, 0::2] << 4) | rows[:, 1::2]


def write_png(geom: Geometry, layout: Layout, fg: RGBA, bg: RGBA, dpi: int,
              compression: int = 6) -> bytes:
    levels, depth = (2, 1) if geom.radius == 0 else (16, 4)
    tile = tiles(layout.ppm, geom.radius, levels)
    size, ppm, off, sym = layout.pixels, layout.ppm, layout.offset, layout.symbol_pixels
    rowbytes = (size * depth + 7) // 8
    comp = zlib.compressobj(compression, zlib.DEFLATED, 15, 9)
    parts: list[bytes] = []
    prev = np.zeros(rowbytes, dtype=np.uint8)

    def emit(band: np.ndarray) -> None:
        nonlocal prev
        out = np.empty((band.shape[0], rowbytes + 1), dtype=np.uint8)
        out[:, 0] = 2  # Up filter: each row minus the one above it
        out[0, 1:] = band[0] - prev
        out[1:, 1:] = band[1:] - band[:-1]
        prev = band[-1]
        parts.append(comp.compress(out.tobytes()))

    blank = np.zeros((1, rowbytes), dtype=np.uint8)
    if off:
        emit(np.broadcast_to(blank, (off, rowbytes)))
    full = np.zeros((ppm, size), dtype=np.uint8)
    uniform = geom.radius == 0
    for cells in geom.cells:
        if uniform:
            full[0, off:off + sym] = np.repeat(tile[cells, 0, 0], ppm)
            band = np.broadcast_to(_pack(full[:1], depth), (ppm, rowbytes))
        else:
            full[:, off:off + sym] = tile[cells].transpose(1, 0, 2).reshape(ppm, sym)
            band = _pack(full, depth)
        emit(band)
    bottom = size - off - sym
    if bottom:
        emit(np.broadcast_to(blank, (bottom, rowbytes)))
    parts.append(comp.flush())

    colors = palette(fg, bg, levels)
    ihdr = struct.pack(">IIBBBBB", size, size, depth, 3, 0, 0, 0)
    plte = b"".join(bytes(c[:3]) for c in colors)
    chunks = [_chunk(b"IHDR", ihdr), _chunk(b"PLTE", plte)]
    if any(c[3] != 255 for c in colors):
        chunks.append(_chunk(b"tRNS", bytes(c[3] for c in colors)))
    ppmetre = round(dpi / 0.0254)
    chunks.append(_chunk(b"pHYs", struct.pack(">IIB", ppmetre, ppmetre, 1)))
    chunks.append(_chunk(b"IDAT", b"".join(parts)))
    chunks.append(_chunk(b"IEND", b""))
    return _SIGNATURE + b"".join(chunks)
