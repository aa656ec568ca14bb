"""What we measure against, run in the same process as the measurement.

- ``obvious_zip``: the script a user would write: segno -> PNG -> zipfile.
- ``native_floor_zip``: a native encoder (zxing-cpp) plus a minimal scanline PNG writer (each
  module row packed once, repeated, zlib level 1) and a stored ZIP: the floor per item.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import segno


def obvious_zip(contents: list[str], size_inches: float = 3, dpi: int = 300) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i, content in enumerate(contents):
            qr = segno.make(content, error="m")
            scale = max(1, round(size_inches * dpi / (qr.symbol_size()[0])))
            buf = io.BytesIO()
            qr.save(buf, kind="png", scale=scale, border=4, dpi=dpi)
            archive.writestr(f"qr-{i + 1:04d}.png", buf.getvalue())
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def native_png(content: str, pixels: int = 900, dpi: int = 300) -> bytes:
    import zxingcpp

    code = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    matrix = np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128
    n = matrix.shape[0]
    ppm = pixels // (n + 8)
    off = (pixels - n * ppm) // 2
    rowbytes = (pixels + 7) // 8
    raw = bytearray()
    blank = b"\x00" + bytes(rowbytes)
    raw += blank * off
    for row in matrix:
        line = np.zeros(pixels, dtype=bool)
        line[off : off + n * ppm] = np.repeat(row, ppm)
        packed = b"\x00" + np.packbits(~line).tobytes()
        raw += packed * ppm
    raw += blank * (pixels - off - n * ppm)
    ihdr = struct.pack(">IIBBBBB", pixels, pixels, 1, 0, 0, 0, 0)
    phys = struct.pack(">IIB", round(dpi / 0.0254), round(dpi / 0.0254), 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"pHYs", phys)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 1))
        + _chunk(b"IEND", b"")
    )


def native_floor_zip(contents: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for i, content in enumerate(contents):
            archive.writestr(f"qr-{i + 1:04d}.png", native_png(content))
    return out.getvalue()
