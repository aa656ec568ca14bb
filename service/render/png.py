"""Stage 5a: the PNG writer. A palette image (1 bit for square shapes, 2 bits when edges are
anti-aliased or the finders soft). Square shapes build each module row's pixel row once and
repeat it; other shapes gather cached per-cell tiles for groups of module rows (about 2
million pixels at a time, so memory stays bounded at any size); soft finders are cached packed
patches laid over their rows. Rows are Up-filtered (a repeated row becomes
zeros) and deflated as they come: by default with ISA-L (``isal``) at its level 1, which on
this data is four times faster than zlib's fastest strategy and compresses smaller. Carries
its dpi in pHYs.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache

import msgspec
import numpy as np
from isal import isal_zlib

from .color import RGBA
from .eyes import BORDERS, CENTRES, eye_origins
from .geometry import BL, BR, LIGHT, TL, TR, Geometry
from .layout import Layout
from .shapes import coverage

__all__ = [
    "Written",
    "index_image",
    "index_region",
    "palette",
    "palette_chunks",
    "tiles",
    "write_indexed",
    "write_png",
]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Anti-aliased edges: 4 coverage levels (2-bit palette). Against 16 levels (4-bit) it halves the
# bytes zlib has to read, and at print resolutions the difference does not show.
AA_DEPTH = 2
AA_LEVELS = 1 << AA_DEPTH
_GROUP_PIXELS = 2_000_000


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


@lru_cache(maxsize=32)  # up to 1.6 MB each (310 px per module): bounded bytes
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
    per = 8 // depth  # pixels per byte
    if rows.shape[1] % per:
        rows = np.pad(rows, ((0, 0), (0, per - rows.shape[1] % per)))
    out = rows[:, 0::per] << (8 - depth)
    for k in range(1, per):
        out |= rows[:, k::per] << (8 - depth * (k + 1))
    return out


def _levels(geom: Geometry) -> tuple[int, int]:
    return (2, 1) if geom.radius == 0 and not geom.finder_edge else (AA_LEVELS, AA_DEPTH)


# -- soft finders: the square eye's border with a soft edge (``shapes.soft_edge``) as a styled
# code draws it, the centre plain. After JPEG at quality 30 zbar read the plain squares code
# 241 of 352 contents at 3 in x 300 dpi (204 at 2 in), the same code with soft-edged borders
# 352 (4 coverage levels, as written here: 352 too).


@lru_cache(maxsize=64)
def _finder_patch(ppm: int, edge: float, lead: int, depth: int) -> np.ndarray:
    """The packed rows of one finder with a soft-edged border, ``reach`` pixels of light
    around it above and below, ``lead`` pixels before it (to start on a byte), and light to
    the byte its ramp ends in. All of it is the finder, the quiet zone or the separator
    (light; the ramp and the padding reach at most 5 px into it, a module is at least 7)."""
    reach = math.ceil(edge / 2)
    per = 8 // depth
    width = -(-(lead + 7 * ppm + reach) // per) * per
    height = 7 * ppm + 2 * reach
    x0, y0 = -lead / ppm, -reach / ppm
    ring = coverage(BORDERS["square"](), width, height, ppm, x0, y0, edge)
    centre = coverage(CENTRES["square"](), width, height, ppm, x0, y0)
    top = (1 << depth) - 1
    cover = np.maximum(ring, centre).astype(np.float32)
    return _pack(np.rint(cover * (top / 255)).astype(np.uint8), depth)


def _finder_patches(
    geom: Geometry, layout: Layout, depth: int
) -> list[tuple[int, int, np.ndarray]]:
    """(first row, first byte, packed rows) of each finder's patch; none for plain finders."""
    if not geom.finder_edge:
        return []
    per, n = 8 // depth, geom.cells.shape[0]
    ppm, off, reach = layout.ppm, layout.offset, math.ceil(geom.finder_edge / 2)
    out = []
    for col, row in eye_origins(n):
        fx, fy = off + col * ppm, off + row * ppm
        start = (fx - reach) // per  # may be before the image (no quiet zone): clipped
        patch = _finder_patch(ppm, geom.finder_edge, fx - start * per, depth)
        out.append((fy - reach, start, patch))
    return out


def _patched(rows: np.ndarray, top: int, patches: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """``rows`` (image rows from ``top``) with the parts of ``patches`` that fall in them."""
    h, w = rows.shape
    hits = [(y, x, p) for y, x, p in patches if y < top + h and y + p.shape[0] > top]
    if not hits:
        return rows
    if not rows.flags.writeable:  # a blank margin's broadcast view
        rows = rows.copy()
    for y, x, p in hits:
        a, b = max(y, top), min(y + p.shape[0], top + h)
        xa, xb = max(x, 0), min(x + p.shape[1], w)
        rows[a - top : b - top, xa:xb] = p[a - y : b - y, xa - x : xb - x]
    return rows


def _module_row_groups(geom: Geometry, layout: Layout) -> Iterator[tuple[int, np.ndarray]]:
    """(first module row, cells) in groups of about 2 million pixels: few numpy calls, and
    temporaries bounded at any size."""
    group = max(1, _GROUP_PIXELS // (layout.ppm * layout.pixels))
    for first in range(0, geom.cells.shape[0], group):
        yield first, geom.cells[first : first + group]


class _Placement(msgspec.Struct, frozen=True):
    """How packed cell tiles go into packed rows, for one layout's horizontal geometry.

    A cell of ``ppm`` pixels starts at bit ``phase`` of a byte and spans ``width`` bytes, so a
    byte may hold the end of one cell and the start of the next. The cells are split into
    ``period`` classes (every ``period``-th cell) whose members start at the same phase, exactly
    ``stride`` bytes apart, and never share a byte: each class is one gather of pre-packed tiles
    and one OR into the row, and the classes together draw every cell.
    """

    period: int
    stride: int
    starts: tuple[int, ...]  # per class: the byte its first cell starts in
    phases: tuple[int, ...]  # per class: the pixel, within that byte, where its cells start
    widths: tuple[int, ...]  # per class: the bytes a cell spans


@lru_cache(maxsize=256)
def _placement(ppm: int, offset: int, per: int) -> _Placement:
    phases = [(offset + c * ppm) % per for c in range(per)]
    widest = max(-(-(ph + ppm) // per) for ph in phases)
    period = per // math.gcd(ppm, per)
    period *= -(-widest * per // (period * ppm))  # whole multiples until no byte is shared
    first = [offset + r * ppm for r in range(period)]
    return _Placement(
        period,
        period * ppm // per,
        tuple(x // per for x in first),
        tuple(x % per for x in first),
        tuple(-(-(x % per + ppm) // per) for x in first),
    )


@lru_cache(maxsize=32)
def _packed_tiles(ppm: int, radius: float, levels: int, phase: int, width: int) -> np.ndarray:
    """Every cell kind's tile packed at ``phase``: one ``width``-byte item per pixel row (a
    single row for square shapes, whose rows are all the same)."""
    depth = (levels - 1).bit_length()
    per = 8 // depth
    tile = tiles(ppm, radius, levels)
    rows = 1 if radius == 0 else ppm
    wide = np.zeros((LIGHT + 1, rows, width * per), dtype=np.uint8)
    wide[:, :, phase : phase + ppm] = tile[:, :rows]
    packed = _pack(wide.reshape((LIGHT + 1) * rows, width * per), depth)
    return np.ascontiguousarray(packed).view(f"V{width}").reshape(LIGHT + 1, rows)


_KINDS = LIGHT + 1  # cell kinds: the corner sets of a dark module, and light
_CONTEXT_TABLE_BYTES = 1_500_000  # the pair tables of one layout, at most (else per-class gather)


@lru_cache(maxsize=16)
def _pair_tables(
    ppm: int, radius: float, levels: int, offset: int, per: int
) -> tuple[tuple[tuple[int, int, np.ndarray], ...], np.ndarray | None]:
    """The packed row bytes each cell owns, for every pair (its kind, its right neighbour's).

    A byte is owned by the cell holding its first pixel, so each cell's bytes, in the order
    of the cells, are exactly a packed row's bytes, and (modules at least a byte wide) a byte
    holds pixels of its owner and at most its right neighbour. Cells whose start has the same
    phase in a byte own the same number of bytes: per phase class (every ``period``-th cell,
    ``period`` as ``_placement``'s smallest), (first byte owned, bytes owned, the
    ``(kind * 17 + right kind) * ppm + pixel row`` table of them). With the table of the margin
    byte before the first cell, when the symbol does not start on a byte (indexed
    ``kind * ppm + pixel row`` by the first cell)."""
    depth = (levels - 1).bit_length()
    tile = tiles(ppm, radius, levels)
    classes = []
    for r in range(per // math.gcd(ppm, per)):
        x = offset + r * ppm
        first = -(-x // per)  # the first byte starting within the cell
        skip = first * per - x  # its pixels before that byte: the left neighbour's
        width = -(-(x + ppm) // per) - first
        spill = skip + per * width - ppm  # the right neighbour's pixels in the last byte
        wide = np.zeros((_KINDS, _KINDS, ppm, width * per), dtype=np.uint8)
        wide[:, :, :, : ppm - skip] = tile[:, None, :, skip:]
        wide[:, :, :, ppm - skip :] = tile[None, :, :, :spill]
        packed = _pack(wide.reshape(-1, width * per), depth)
        classes.append((first, width, np.ascontiguousarray(packed).view(f"V{width}").reshape(-1)))
    lead = None
    phase = offset % per
    if phase:
        wide = np.zeros((_KINDS, ppm, per), dtype=np.uint8)
        wide[:, :, phase:] = tile[:, :, : per - phase]
        lead = _pack(wide.reshape(-1, per), depth).reshape(-1)
    return tuple(classes), lead


def _paired(ppm: int, per: int, radius: float) -> bool:
    """Whether ``_pair_rows`` draws this layout: shaped tiles (square ones repeat one row), at
    least a byte wide, and pair tables of bounded size."""
    if radius == 0 or ppm < per:
        return False
    period = per // math.gcd(ppm, per)
    return _KINDS * _KINDS * ppm * (ppm // per + 1) * period <= _CONTEXT_TABLE_BYTES


def _pair_rows(
    geom: Geometry, layout: Layout, levels: int, per: int, rowbytes: int
) -> Iterator[np.ndarray]:
    """The symbol's packed rows of shaped tiles, a group of module rows at a time: per phase
    class one take, in row order, from the table of the bytes each cell owns by its pair
    (``_pair_tables``), into the rows."""
    ppm, off, n = layout.ppm, layout.offset, geom.cells.shape[0]
    classes, lead = _pair_tables(ppm, geom.radius, levels, off, per)
    period = len(classes)
    stride = period * ppm // per
    y = np.arange(ppm)
    for _, cells in _module_row_groups(geom, layout):
        m = cells.shape[0]
        kinds = np.full((m, n + 1), LIGHT, dtype=np.intp)  # the light margin on the right
        kinds[:, :n] = cells
        pairs = kinds[:, :n] * (_KINDS * ppm) + kinds[:, 1:] * ppm
        band = np.zeros((m * ppm, rowbytes + stride), dtype=np.uint8)
        for r, (first, width, table) in enumerate(classes):
            k = -(-(n - r) // period)
            owned = table.take(pairs[:, r::period][:, None, :] + y[:, None])
            owned = owned.view(np.uint8).reshape(m * ppm, k, width)
            band[:, first : first + k * stride].reshape(-1, k, stride)[:, :, :width] = owned
        if lead is not None:
            band[:, off // per] = lead.take(kinds[:, :1] * ppm + y).reshape(-1)
        yield band[:, :rowbytes]


def _packed_rows(geom: Geometry, layout: Layout, levels: int, depth: int) -> Iterator[np.ndarray]:
    """The image's packed rows, top to bottom, in blocks (blank margins as broadcast views).
    Each cell's pixel rows are gathered pre-packed, so nothing is packed per image: shaped
    tiles by the bytes each cell owns (``_pair_rows``), else per phase class; square shapes
    build one row per module row and repeat it."""
    size, ppm, off, sym = layout.pixels, layout.ppm, layout.offset, layout.symbol_pixels
    per = 8 // depth
    rowbytes = -(-size // per)
    if off:
        yield _blank(off, rowbytes)
    if _paired(ppm, per, geom.radius):
        yield from _pair_rows(geom, layout, levels, per, rowbytes)
    else:
        yield from _class_rows(geom, layout, levels, per, rowbytes)
    bottom = size - off - sym
    if bottom:
        yield _blank(bottom, rowbytes)


@lru_cache(maxsize=256)
def _blank(rows: int, rowbytes: int) -> np.ndarray:
    """Blank margin rows: a read-only broadcast view."""
    return np.broadcast_to(np.zeros((1, rowbytes), dtype=np.uint8), (rows, rowbytes))


def _class_rows(
    geom: Geometry, layout: Layout, levels: int, per: int, rowbytes: int
) -> Iterator[np.ndarray]:
    """The symbol's packed rows a group of module rows at a time, one gather of pre-packed
    tiles and one OR per phase class (``_placement``)."""
    ppm, off = layout.ppm, layout.offset
    n = geom.cells.shape[0]
    place = _placement(ppm, off, per)
    slack = rowbytes + place.stride  # room for the last class's view past the row's end
    high = 1 if geom.radius == 0 else ppm  # distinct pixel rows per module row
    for _, cells in _module_row_groups(geom, layout):
        band = np.zeros((cells.shape[0] * high, slack), dtype=np.uint8)
        for r in range(min(place.period, n)):
            start, width = place.starts[r], place.widths[r]
            tile = _packed_tiles(ppm, geom.radius, levels, place.phases[r], width)
            picked = tile[cells[:, r :: place.period]]  # (rows, cells, high) of width bytes
            k = picked.shape[1]
            parts = np.ascontiguousarray(picked.transpose(0, 2, 1)).view(np.uint8)
            target = band[:, start : start + k * place.stride].reshape(-1, k, place.stride)
            target[:, :, :width] |= parts.reshape(-1, k, width)
        rows = band[:, :rowbytes]
        yield np.repeat(rows, ppm, axis=0) if high == 1 else rows


class _Deflater:
    """Up-filtered rows (each minus the one above, so repeated rows become zeros) deflated as
    they come."""

    def __init__(self, rowbytes: int, compression: int) -> None:
        self.rowbytes = rowbytes
        # ISA-L's level 1: on these rows 4x faster than zlib's run-length strategy, and smaller
        self.comp = (
            isal_zlib.compressobj(1)
            if compression == 0
            else zlib.compressobj(compression, zlib.DEFLATED, 15, 9)
        )
        self.parts: list[bytes] = []
        self.prev = np.zeros(rowbytes, dtype=np.uint8)

    def emit(self, rows: np.ndarray, up_only_repeats: bool = False) -> None:
        """``up_only_repeats``: rows that do not repeat the one above are left unfiltered
        (for palette indices of a photo: the difference of two unrelated indices is noise to
        deflate, 30 % more bytes)."""
        out = np.empty((rows.shape[0], self.rowbytes + 1), dtype=np.uint8)
        out[:, 0] = 2
        out[0, 1:] = rows[0] - self.prev
        np.subtract(rows[1:], rows[:-1], out=out[1:, 1:])
        if up_only_repeats:
            changed = out[:, 1:].any(axis=1)
            out[changed, 0] = 0
            out[changed, 1:] = rows[changed]
        self.prev = rows[-1]
        self.parts.append(self.comp.compress(out.data))

    def finish(self) -> bytes:
        self.parts.append(self.comp.flush())
        return b"".join(self.parts)


@lru_cache(maxsize=256)
def _palette_and_chunks(fg: RGBA, bg: RGBA, levels: int) -> tuple[list[RGBA], list[bytes]]:
    """``palette`` and its chunks, once per ink pair (callers must not change them)."""
    colours = palette(fg, bg, levels)
    return colours, palette_chunks(colours)


def palette_chunks(colours: Sequence[RGBA] | np.ndarray) -> list[bytes]:
    """PLTE, and tRNS where an entry is not opaque, of RGBA palette entries."""
    table = np.asarray(colours, dtype=np.uint8).reshape(-1, 4)
    out = [_chunk(b"PLTE", table[:, :3].tobytes())]
    if (table[:, 3] != 255).any():
        out.append(_chunk(b"tRNS", table[:, 3].tobytes()))
    return out


def _file(ihdr: bytes, extra: list[bytes], idat: bytes, dpi: int) -> bytes:
    ppmetre = round(dpi / 0.0254)
    chunks = [
        _chunk(b"IHDR", ihdr),
        *extra,
        _chunk(b"pHYs", struct.pack(">IIB", ppmetre, ppmetre, 1)),
        _chunk(b"IDAT", idat),
        _chunk(b"IEND", b""),
    ]
    return _SIGNATURE + b"".join(chunks)


class Written:
    """What ``write_png`` wrote, for the read-back: every ``step``-th packed row from
    ``step // 2`` (before filtering and deflate), their bit depth and the palette."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.rows: list[np.ndarray] = []
        self.depth = 8
        self.colours: list[RGBA] = []
        self.width = 0


def write_png(
    geom: Geometry,
    layout: Layout,
    fg: RGBA,
    bg: RGBA,
    dpi: int,
    compression: int = 0,
    written: Written | None = None,
) -> bytes:
    levels, depth = _levels(geom)
    size = layout.pixels
    deflater = _Deflater((size * depth + 7) // 8, compression)
    patches = _finder_patches(geom, layout, depth)
    top = 0
    for rows in _packed_rows(geom, layout, levels, depth):
        if patches:
            rows = _patched(rows, top, patches)
        deflater.emit(rows)
        if written is not None:
            first = (written.step // 2 - top) % written.step
            written.rows.append(rows[first :: written.step])  # rows are not written to again
        top += rows.shape[0]
    colors, chunks = _palette_and_chunks(fg, bg, levels)
    if written is not None:
        written.depth, written.colours, written.width = depth, colors, size
    ihdr = struct.pack(">IIBBBBB", size, size, depth, 3, 0, 0, 0)
    return _file(ihdr, chunks, deflater.finish(), dpi)


def write_indexed(
    indices: np.ndarray,
    colours: np.ndarray | Sequence[RGBA],
    dpi: int,
    compression: int,
    photo: bool = False,
) -> bytes:
    """The 8-bit palette PNG of ``indices`` (uint8, rows x columns) into ``colours`` (RGBA
    entries): the plain codes over a logo or background image, and the styled codes. Rows are
    Up-filtered (the modules' and a logo's rows differ little from the row above) and deflated
    in groups of about 2 million pixels; over a ``photo``, rows that do not repeat the one
    above are left unfiltered: the difference of two unrelated palette indices is noise to
    deflate (measured: 30 % more bytes)."""
    size = indices.shape[1]
    deflater = _Deflater(size, compression)
    group = max(1, _GROUP_PIXELS // size)
    for top in range(0, indices.shape[0], group):
        deflater.emit(indices[top : top + group], up_only_repeats=photo)
    ihdr = struct.pack(">IIBBBBB", size, indices.shape[0], 8, 3, 0, 0, 0)
    return _file(ihdr, palette_chunks(colours), deflater.finish(), dpi)


def index_region(geom: Geometry, layout: Layout, x: int, y: int, w: int, h: int) -> np.ndarray:
    """The palette indices of one rectangle of the image (what lies under a logo)."""
    levels, _ = _levels(geom)
    tile = tiles(layout.ppm, geom.radius, levels)
    ppm, off, n = layout.ppm, layout.offset, geom.cells.shape[0]
    cells = np.full((n + 2, n + 2), LIGHT, dtype=np.uint8)  # one light module around
    cells[1:-1, 1:-1] = geom.cells
    x0, y0 = x - off + ppm, y - off + ppm  # in the padded symbol's pixels
    c0, c1 = max(0, x0 // ppm), min(n + 2, -(-(x0 + w) // ppm))
    r0, r1 = max(0, y0 // ppm), min(n + 2, -(-(y0 + h) // ppm))
    block = (
        tile[cells[r0:r1, c0:c1]].transpose(0, 2, 1, 3).reshape((r1 - r0) * ppm, (c1 - c0) * ppm)
    )
    return block[y0 - r0 * ppm : y0 - r0 * ppm + h, x0 - c0 * ppm : x0 - c0 * ppm + w]


def index_image(geom: Geometry, layout: Layout) -> tuple[np.ndarray, int]:
    """The whole image's palette indices (for the overlay stage), and the palette's size."""
    levels, _ = _levels(geom)
    tile = tiles(layout.ppm, geom.radius, levels)
    size, ppm, off, sym = layout.pixels, layout.ppm, layout.offset, layout.symbol_pixels
    out = np.zeros((size, size), dtype=np.uint8)
    for first, cells in _module_row_groups(geom, layout):
        k = cells.shape[0]
        top = off + first * ppm
        out[top : top + k * ppm, off : off + sym] = (
            tile[cells].transpose(0, 2, 1, 3).reshape(k * ppm, sym)
        )
    return out, levels
