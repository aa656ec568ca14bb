"""Independent readers for what the service returns: libvips decodes PNGs, resvg rasterises
SVGs, zxing-cpp and zbar (two unrelated decoders) read the codes, ``zipfile`` opens archives,
and PNG chunks are parsed here by hand (not with the service's writer)."""

from __future__ import annotations

import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import numpy as np
import pyvips
import resvg_py
import zxingcpp
from pyzbar import pyzbar


def _flatten(image: pyvips.Image, inverted: bool) -> pyvips.Image:
    """Transparent pixels onto white paper (black for an inverted code), then grey; an
    inverted code is inverted, so both readers see dark modules on light paper."""
    if image.hasalpha():
        image = image.flatten(background=[0, 0, 0] if inverted else [255, 255, 255])
    image = image.colourspace("b-w") if image.bands >= 3 else image
    if image.bands > 1:
        image = image[0]
    image = image.cast("uchar")
    return image.invert() if inverted else image


def _array(image: pyvips.Image) -> np.ndarray:
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=[image.height, image.width]
    )


def _zxing(grey: pyvips.Image) -> zxingcpp.Barcode:
    # Plain: the text as encoded (the default HRI mode spells control characters "<US>")
    found = zxingcpp.read_barcodes(
        _array(grey), formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain
    )
    assert len(found) == 1, f"expected one QR code, zxing-cpp found {len(found)}"
    return found[0]


_ZBAR_SIDE = 1000  # larger images are box-averaged down to about this (a camera's view)


def _zbar(grey: pyvips.Image) -> list[bytes]:
    """zbar wants a few pixels per module and some paper around the code: a small image is
    enlarged by whole pixels (nearest), a large one box-averaged down by a whole factor
    (zbar's cost grows with the pixels, and 20 px per module tell it nothing 3 600 px do
    not), and every image gets a white margin."""
    side = max(grey.width, grey.height)
    if side < 400:
        k = -(-400 // side)
        grey = grey.zoom(k, k)
    elif side > _ZBAR_SIDE:
        k = -(-side // _ZBAR_SIDE)
        grey = grey.shrink(k, k).cast("uchar")
    pixels = _array(grey)
    # zbar needs paper around the code (quiet_zone 0): more of the code's own paper, its
    # lightest grey. White around an inverted code's paper (white on #0D47A1, inverted: 190)
    # is a frame no page gives it, and cost zbar clean reads of such codes with soft finders:
    # 12 of 220 contents at 0.8-1.2 in x 300 dpi with soft finders from 10 px per module,
    # 163 with 3.5 px ones from 7; with the paper's grey 0 and 1 (shapes.soft_edge)
    margin = max(8, pixels.shape[1] // 8)
    pixels = np.pad(pixels, margin, constant_values=int(pixels.max()))
    h, w = pixels.shape
    found = pyzbar.decode(
        (np.ascontiguousarray(pixels).tobytes(), w, h), symbols=[pyzbar.ZBarSymbol.QRCODE]
    )
    return [f.data for f in found]


def decode_image(data: bytes, *, inverted: bool = False) -> zxingcpp.Barcode:
    """The single QR code in a PNG (or other raster) image; fails if there is not exactly one."""
    return _zxing(_flatten(pyvips.Image.new_from_buffer(data, ""), inverted))


def zbar_read(data: bytes, *, inverted: bool = False) -> list[bytes]:
    """What zbar reads from a PNG (or other raster): the data of every QR code it finds
    (zbar looks for dark-on-light codes only: an inverted one is inverted first)."""
    return _zbar(_flatten(pyvips.Image.new_from_buffer(data, ""), inverted))


def _zbar_carries(found: list[bytes], expected: str | bytes) -> None:
    assert len(found) == 1, f"expected one QR code, zbar found {len(found)}"
    if isinstance(expected, str) and expected.isascii():  # zbar guesses non-ASCII charsets
        assert found[0].decode("utf-8") == expected, (found[0], expected)


def assert_zbar_carries(data: bytes, expected: str | bytes, *, inverted: bool = False) -> None:
    """zbar reads exactly ``expected`` (ASCII text; otherwise, that it finds one code: zbar
    guesses a text encoding for other bytes, and read UTF-8 'é' as Shift-JIS)."""
    _zbar_carries(zbar_read(data, inverted=inverted), expected)


def rasterise_svg(data: bytes, dpi: int) -> bytes:
    return bytes(resvg_py.svg_to_bytes(svg_string=data.decode(), dpi=float(dpi)))


def decode_svg(data: bytes, dpi: int, *, inverted: bool = False) -> zxingcpp.Barcode:
    return decode_image(rasterise_svg(data, dpi), inverted=inverted)


def assert_carries(barcode: zxingcpp.Barcode, expected: str | bytes) -> None:
    if isinstance(expected, bytes):
        assert barcode.bytes == expected, (barcode.bytes, expected)
    else:
        assert barcode.text == expected, (barcode.text, expected)


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: dict[bytes, bytes] = {}
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.setdefault(kind, data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return chunks


def png_size_and_dpi(data: bytes) -> tuple[int, int, float]:
    chunks = png_chunks(data)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    ppx, ppy, unit = struct.unpack(">IIB", chunks[b"pHYs"])
    assert unit == 1 and ppx == ppy
    return width, height, ppx * 0.0254


def svg_inches(data: bytes) -> tuple[float, float]:
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    w, h = root.get("width", ""), root.get("height", "")
    m_w, m_h = re.fullmatch(r"([\d.]+)in", w), re.fullmatch(r"([\d.]+)in", h)
    assert m_w and m_h, (w, h)
    return float(m_w.group(1)), float(m_h.group(1))


def open_zip(data: bytes) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    """The archive, checked whole, and its manifest; every item of every test batch says it was
    read back (``verified``), and what was repaired or is worth a warning is well formed."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    for item in manifest["items"]:
        assert item["verified"] is True, item
        assert isinstance(item.get("repaired", ""), str) and item.get("repaired") != "", item
        assert all(isinstance(w, str) and w for w in item.get("warnings", [])), item
        assert item["filename"] in archive.namelist(), item
    return archive, manifest


def check_image(
    fmt: str,
    data: bytes,
    expected: str | bytes,
    size_inches: float,
    dpi: int,
    *,
    inverted: bool = False,
    zbar: bool = True,
    read_side: int | None = None,
) -> None:
    """Size, resolution and content of one rendered image, by independent readers (zxing-cpp
    and, unless ``zbar`` is False, zbar both read exactly the content). ``read_side``: a larger
    image is box-averaged down by a whole factor to about that many pixels before it is read
    (tests that stream hundreds of 12 in codes check every one without reading 13 megapixels
    each; the size and resolution are still checked on the image as delivered)."""
    pixels = round(size_inches * dpi)
    if fmt == "png":
        width, height, found_dpi = png_size_and_dpi(data)
        assert (width, height) == (pixels, pixels)
        assert round(found_dpi) == dpi, found_dpi
        raster = data
    else:
        assert svg_inches(data) == (size_inches, size_inches)
        raster = rasterise_svg(data, dpi)
    image = pyvips.Image.new_from_buffer(raster, "").copy_memory()  # decoded once
    assert image.width == pixels
    if read_side is not None and max(image.width, image.height) > read_side:
        # shrunk before the colour work: the flatten and grey conversion then cost 1/k**2
        k = -(-max(image.width, image.height) // read_side)
        if image.hasalpha() and image[image.bands - 1].min() == 255:
            image = image[: image.bands - 1]  # opaque: nothing to flatten
        if image.hasalpha():
            image = image.premultiply().shrink(k, k).unpremultiply()
        else:
            image = image.shrink(k, k)
    grey = _flatten(image, inverted).copy_memory()  # read by both
    assert_carries(_zxing(grey), expected)
    if zbar:
        _zbar_carries(_zbar(grey), expected)
