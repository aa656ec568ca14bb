"""The read-back stage: every image is decoded before it ships, and must return exactly the
text it encodes.

The PNG as written is decoded (our own palette and 1-bit PNGs directly: inflate, undo the Up
filter, look up the palette; anything else through libvips), flattened onto paper (white, or
black under light modules), and read by zxing-cpp's detector as a phone's would: QR only, no
rotation, downscale or inversion tries, since the image is clean and axis-aligned, but not
its "pure barcode" shortcut, which accepts symbols a camera cannot find (thin frame modules)
and refuses ones it can (round finders). Large modules are sampled down to about 8 pixels per
module (a sharp camera's view; the detector needs no more, and it keeps the read cheap);
smaller ones are read at their real scale. An SVG is read through a PNG of the same scene at
its pixel size.
"""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np
import pyvips
import zxingcpp
from isal import isal_zlib

__all__ = [
    "PLAIN_READ_PPM",
    "READ_PPM",
    "decodes",
    "grey_lut",
    "grey_pixels",
    "palette_png",
    "png_grey",
    "rows_grey",
    "sampling",
]

READ_PPM = 8  # modules wider than this are sampled down to it before reading
# the plain squares and rounded modules (no logo, no style) are whole at any scale: read at 4
PLAIN_READ_PPM = 4
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def grey_pixels(rgba: np.ndarray, inverted: bool) -> np.ndarray:
    """RGBA (any shape ..., 4) over white paper (black under an inverted code), as grey."""
    colour = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    paper = 0.0 if inverted else 255.0
    return np.clip((colour * alpha + paper * (1 - alpha)) @ _LUMA + 0.5, 0, 255).astype(np.uint8)


def palette_png(data: bytes, step: int = 1) -> tuple[np.ndarray, np.ndarray] | None:
    """(indices, RGBA palette) of a palette PNG as our writers make it (Up-filtered rows) or
    as libvips' quantiser does (unfiltered rows, several IDATs), every ``step``-th pixel from
    ``step // 2`` on each axis; None for any other PNG."""
    pos, chunks, idat = 8, {}, []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IDAT":
            idat.append(body)
        elif kind in chunks:
            return None
        else:
            chunks[kind] = body
        pos += 12 + length
    ihdr = chunks.get(b"IHDR")
    if ihdr is None or b"PLTE" not in chunks or not idat:
        return None
    width, height, depth, kind, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    if kind != 3 or interlace or depth not in (1, 2, 4, 8):
        return None
    rowbytes = (width * depth + 7) // 8
    raw = np.frombuffer(isal_zlib.decompress(b"".join(idat)), dtype=np.uint8)
    rows = raw.reshape(height, rowbytes + 1)
    if (rows[:, 0] == 2).all():
        packed = np.cumsum(rows[:, 1:], axis=0, dtype=np.uint8)[step // 2 :: step]  # undo Up
    elif not rows[:, 0].any():
        packed = rows[step // 2 :: step, 1:]
    else:
        return None
    columns, shifts = _columns(width, step, depth)
    indices = (packed[:, columns] >> shifts) & np.uint8((1 << depth) - 1)
    plte = np.frombuffer(chunks[b"PLTE"], dtype=np.uint8).reshape(-1, 3)
    alpha = np.full(len(plte), 255, dtype=np.uint8)
    trns = np.frombuffer(chunks.get(b"tRNS", b""), dtype=np.uint8)
    alpha[: len(trns)] = trns
    return indices, np.ascontiguousarray(np.column_stack([plte, alpha]))


@lru_cache(maxsize=256)
def _columns(width: int, step: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """For the pixels read on a row (every ``step``-th from ``step // 2``): the byte of the
    packed row that holds each, and its shift within the byte."""
    x = np.arange(step // 2, width, step)
    per = 8 // depth
    return x // per, ((per - 1 - x % per) * depth).astype(np.uint8)


def rows_grey(
    packed: np.ndarray, width: int, depth: int, colours: np.ndarray, step: int, inverted: bool
) -> np.ndarray:
    """Grey over paper of packed palette rows (already every ``step``-th), every ``step``-th
    pixel from ``step // 2``."""
    if depth == 1:  # the plain codes: unpacking whole rows in C beats gathering bits
        indices = np.unpackbits(packed, axis=1)[:, step // 2 : width : step]
    else:
        columns, shifts = _columns(width, step, depth)
        indices = (packed[:, columns] >> shifts) & np.uint8((1 << depth) - 1)
    return np.take(grey_lut(colours.tobytes(), inverted), indices)


@lru_cache(maxsize=1024)
def grey_lut(colours: bytes, inverted: bool) -> np.ndarray:
    return grey_pixels(np.frombuffer(colours, dtype=np.uint8).reshape(-1, 4), inverted)


def png_grey(data: bytes, inverted: bool, step: int = 1) -> np.ndarray:
    """The PNG's pixels as grey over paper, every ``step``-th from ``step // 2``."""
    found = palette_png(data, step)
    if found is not None:
        indices, colours = found
        return np.take(grey_lut(colours.tobytes(), inverted), indices)
    image = pyvips.Image.pngload_buffer(data, fail_on="error")
    if not image.hasalpha():
        image = image.bandjoin(255)
    if image.bands == 2:  # grey and alpha
        image = image[0].bandjoin([image[0], image[0], image[1]])
    rgba = np.ndarray(
        buffer=image.cast("uchar").write_to_memory(),
        dtype=np.uint8,
        shape=[image.height, image.width, 4],
    )
    return grey_pixels(rgba[step // 2 :: step, step // 2 :: step], inverted)


def sampling(ppm: int, target: int = READ_PPM) -> int:
    """Every how many pixels to read an image of ``ppm`` pixels per module, to read it at
    about ``target`` pixels per module."""
    return max(1, ppm // target)


def decodes(grey: np.ndarray, content: str | bytes, inverted: bool) -> bool:
    """Whether zxing-cpp reads exactly ``content`` from ``grey`` (an inverted code is read as
    its negative, as a phone's inversion try would)."""
    if inverted:
        grey = 255 - grey
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(grey),
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        try_rotate=False,
        try_downscale=False,
        try_invert=False,
    )
    if len(found) != 1:
        return False
    if isinstance(content, bytes):
        return found[0].bytes == content
    return found[0].text == content
