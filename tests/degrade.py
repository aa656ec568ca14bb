"""Print and phone degradations of a rendered code, and two independent decoders to read the
result: zxing-cpp (the service's own) and zbar (Debian's ``libzbar0`` through ``pyzbar``).

Every transform takes and returns a grey image (uint8, dark ink on light paper, as delivered
after flattening) and the code's pixels per module; the random ones are seeded, so a run is
repeatable. ``DEGRADATIONS`` is the table the robustness suite and ``bench.robustness`` walk.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import msgspec
import numpy as np
import pyvips
import zxingcpp
from pyzbar import pyzbar

from service.items.validation import check_item
from service.limits.plans import PLANS
from service.render.eyes import BORDERS, CENTRES
from service.render.patterns import PATTERN_NAMES
from service.render.pipeline import draw
from service.schema import GenerateRequest
from tests.readers import rasterise_svg

__all__ = [
    "DECODERS",
    "DEGRADATIONS",
    "STYLES",
    "Transform",
    "contents",
    "grey",
    "phone_over_scales",
    "place",
    "rates",
    "rates_by_ppm",
    "read_zbar",
    "read_zxing",
    "reads",
    "render_grey",
]

Transform = Callable[[np.ndarray, float], np.ndarray]

# Contents are read on every core: libvips, numpy's transforms and both decoders release the
# GIL, so two threads on two cores take ~0.6 of one's time
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="degrade")


def grey(data: bytes, *, inverted: bool = False) -> np.ndarray:
    """A PNG (or other raster) as delivered, on white paper (black for an inverted code)."""
    image = pyvips.Image.new_from_buffer(data, "")
    if image.hasalpha():
        image = image.flatten(background=[0, 0, 0] if inverted else [255, 255, 255])
    if image.bands >= 3:
        image = image.colourspace("b-w")
    return _array(image[0].cast("uchar"))


def _array(image: pyvips.Image) -> np.ndarray:
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width)
    )


def _vips(pixels: np.ndarray) -> pyvips.Image:
    h, w = pixels.shape
    return pyvips.Image.new_from_memory(np.ascontiguousarray(pixels).data, w, h, 1, "uchar")


@lru_cache(maxsize=8)
def _noise_field(shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Seeded: every image of one size gets the same noise, run after run."""
    field = np.random.default_rng(20260214).normal(0, sigma, shape).astype(np.float32)
    field.setflags(write=False)
    return field


def _noise(pixels: np.ndarray, sigma: float) -> np.ndarray:
    noisy = pixels + _noise_field(pixels.shape, sigma)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _blur(pixels: np.ndarray, sigma: float) -> np.ndarray:
    return _array(_vips(pixels).gaussblur(sigma, precision="float").cast("uchar"))


def _resample(pixels: np.ndarray, scale: float, kernel: str) -> np.ndarray:
    """``nearest`` picks one source pixel per output pixel (aliasing, as a cheap scaler);
    ``linear`` is a triangle filter as wide as the scale, as a camera sensor or a print
    driver integrates: a bilinear resize that does not alias on the way down."""
    return _array(_vips(pixels).resize(scale, kernel=kernel).cast("uchar"))


# Where the code falls on the copier's, printer's or camera's pixel grid. A rendered code's
# modules start on pixel boundaries; a copy does not keep that, and what a decoder reads after
# a resample, a JPEG's 8 x 8 blocks or a blur turns on that phase: at 3 in x 300 dpi zbar read
# the plain squares code 13/22 after the phone-like capture, at 2.5 and 3.5 in 22/22, at 2 and
# 4 in 13/22 again. ``rates`` moves each content by its own seeded offset, so a rate over
# contents is a rate over phases too, and a style and its squares baseline meet the same
# offset for the same content when their modules are the same size (a frame, or a version
# raised for a round eye border, changes the symbol and its phases anyway).


def place(pixels: np.ndarray, ppm: float, index: int) -> np.ndarray:
    """``pixels`` moved by the offset of content ``index``: up to half a module each way on
    each axis (seeded), the image's size kept. The edge pixels repeat into the side it moves
    away from (paper, a dark background or a frame's outer edge stays what it was); on the
    other side at most half a module of the 4-module quiet zone, or of a frame's outer edge,
    is cut."""
    m = max(1, math.ceil(ppm))
    dx, dy = (int(v) - m // 2 for v in np.random.default_rng(7100 + index).integers(0, m, 2))
    h, w = pixels.shape
    return _array(_vips(pixels).embed(dx, dy, w, h, extend="copy"))


def down_and_up(kernel: str, target_ppm: float = 3.0) -> Transform:
    """Downscale to ~3 px per module and back to the original size (a low-resolution copy)."""

    def run(pixels: np.ndarray, ppm: float) -> np.ndarray:
        small = _resample(pixels, target_ppm / ppm, kernel)
        back = _resample(small, pixels.shape[1] / small.shape[1], kernel)
        return back[: pixels.shape[0], : pixels.shape[1]]

    return run


def blur(pixels: np.ndarray, ppm: float) -> np.ndarray:
    """Gaussian blur of sigma 1.5 px at 900 px, scaled with the image."""
    return _blur(pixels, 1.5 * pixels.shape[1] / 900)


def noise(pixels: np.ndarray, ppm: float) -> np.ndarray:
    return _noise(pixels, 20)


def jpeg(pixels: np.ndarray, ppm: float) -> np.ndarray:
    data = _vips(pixels).jpegsave_buffer(Q=30, keep="none")
    return _array(pyvips.Image.new_from_buffer(data, "")[0])


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    rows = []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.array(rows, dtype=float))
    return (vt[-1] / vt[-1, -1]).reshape(3, 3)


@lru_cache(maxsize=8)
def _tilt_map(h: int, w: int, degrees: float, keystone: float) -> tuple[int, pyvips.Image]:
    """The pad and the source coordinates of every output pixel (one map per image size)."""
    pad = round(0.15 * w)
    size = w + 2 * pad
    c = size / 2
    k = keystone * w / 2
    src = np.array([(pad, pad), (pad + w, pad), (pad + w, pad + h), (pad, pad + h)], float)
    dst = src.copy()
    dst[0, 0] += k  # the top edge narrower by keystone x width
    dst[1, 0] -= k
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    dst = (dst - c) @ rot.T + c
    inverse = _homography(dst, src)
    ys, xs = np.mgrid[0 : h + 2 * pad, 0:size].astype(np.float64) + 0.5
    den = inverse[2, 0] * xs + inverse[2, 1] * ys + inverse[2, 2]
    mx = (inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]) / den - 0.5
    my = (inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]) / den - 0.5
    index = np.ascontiguousarray(np.dstack([mx, my]).astype(np.float32))
    image = pyvips.Image.new_from_memory(index.data, size, h + 2 * pad, 2, "float").copy()
    return pad, image


def tilt(
    pixels: np.ndarray, ppm: float, degrees: float = 7.0, keystone: float = 0.08
) -> np.ndarray:
    """Rotated by ``degrees`` with the top edge ``keystone`` narrower than the bottom (a phone
    held at an angle), on a white margin so no corner is cut."""
    h, w = pixels.shape
    pad, index = _tilt_map(h, w, degrees, keystone)
    canvas = np.full((h + 2 * pad, w + 2 * pad), 255, dtype=np.uint8)
    canvas[pad : pad + h, pad : pad + w] = pixels
    out = _vips(canvas).mapim(
        index, interpolate=pyvips.Interpolate.new("bilinear"), background=[255], extend="background"
    )
    return _array(out.cast("uchar"))


def phone(pixels: np.ndarray, ppm: float, target_ppm: float = 6.0) -> np.ndarray:
    """A phone's capture: ~6 px per module (bilinear), contrast down to 60 % around mid-grey
    paper, a 1 px blur and noise of sigma 10."""
    small = _resample(pixels, target_ppm / ppm, "linear")
    flat = np.rint(small * 0.6 + 0.4 * 160).astype(np.uint8)
    return _noise(_blur(flat, 1.0), 10)


def _phone_scaled_read(
    fields: dict[str, object], text: str, index: int, low: float, high: float
) -> bool:
    pixels, ppm, inverted = render_grey(fields, text)
    target = np.random.default_rng(9100 + index).uniform(low, high)
    captured = phone(place(pixels, ppm, index), ppm, target)
    return reads("zbar", captured, text, inverted=inverted)


def phone_over_scales(
    fields: dict[str, object], texts: list[str], low: float = 5.0, high: float = 7.0
) -> int:
    """How many of ``texts`` zbar reads after the phone-like capture when the i-th is
    captured at its own seeded scale between ``low`` and ``high`` px per module (900 px PNG,
    each at its offset, as ``rates``): a rate over capture scales, where ``phone`` is one."""
    jobs = [
        _POOL.submit(_phone_scaled_read, fields, text, i, low, high) for i, text in enumerate(texts)
    ]
    return sum(job.result() for job in jobs)


DEGRADATIONS: dict[str, Transform] = {
    "clean": lambda pixels, ppm: pixels,
    "3ppm-nearest": down_and_up("nearest"),
    "3ppm-bilinear": down_and_up("linear"),
    "blur-1.5": blur,
    "noise-20": noise,
    "jpeg-30": jpeg,
    "tilt-7-keystone-8": tilt,
    "phone": phone,
}


def read_zxing(pixels: np.ndarray) -> list[str]:
    """What zxing-cpp reads, as delivered (its default options also try inverted images)."""
    found = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
    return [b.text for b in found if b.valid]


def read_zbar(pixels: np.ndarray) -> list[str]:
    """What zbar reads. zbar does not look for light-on-dark codes: invert those first."""
    h, w = pixels.shape
    found = pyzbar.decode(
        (np.ascontiguousarray(pixels).tobytes(), w, h), symbols=[pyzbar.ZBarSymbol.QRCODE]
    )
    return [f.data.decode("utf-8", "replace") for f in found]


def reads(decoder: str, pixels: np.ndarray, expected: str, *, inverted: bool = False) -> bool:
    """True when ``decoder`` reads exactly ``expected`` (and nothing else) from ``pixels``."""
    if decoder == "zxing":
        return read_zxing(pixels) == [expected]
    return read_zbar(255 - pixels if inverted else pixels) == [expected]


DECODERS = ("zxing", "zbar")


def contents(n: int) -> list[str]:
    """``n`` contents of varied length (versions 1 to 5 at M): words, URLs of 20-90
    characters, Wi-Fi and vCard texts; past the first eight, numbered variants."""
    base = [
        "hello",
        "https://qr.example/a1",
        "https://example.com/a1",
        "WIFI:T:WPA;S:home-net;P:correct horse battery;;",
        "https://shop.example.com/products/12345?utm_source=print&utm_medium=qr",
        "tel:+15551234567",
        "https://qr.example/" + "x" * 60,
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nTEL:+441234567890\nEND:VCARD",
    ]
    return [base[i % len(base)] + (f"#{i}" if i >= len(base) else "") for i in range(n)]


def _styles() -> dict[str, dict[str, object]]:
    """One change from the plain squares code each: every pattern, eye border, eye centre, and
    the inks that matter."""
    out: dict[str, dict[str, object]] = {f"pattern {p}": {"pattern": p} for p in PATTERN_NAMES}
    for b in BORDERS:
        out[f"border {b}"] = {
            "pattern": "squares",
            "eye_border_shape": b,
            "eye_center_shape": "circle" if b == "circle" else "square",
        }
    for c in CENTRES:
        out[f"centre {c}"] = {
            "pattern": "squares",
            "eye_border_shape": "square",
            "eye_center_shape": c,
        }
    out["eye_shape circle"] = {"pattern": "squares", "eye_shape": "circle"}
    out["eye_shape frame"] = {"pattern": "squares", "eye_shape": "frame"}
    out["ink #E53935"] = {"pattern": "squares", "color": "#E53935"}
    out["inverted white on #0D47A1"] = {
        "pattern": "squares",
        "color": "#FFFFFF",
        "background": "#0D47A1",
    }
    return out


STYLES = _styles()


def render_grey(
    fields: dict[str, object], data: str, fmt: str = "png", size: float = 3, dpi: int = 300
) -> tuple[np.ndarray, float, bool]:
    """One item through validation and the pipeline, in-process, as a grey image (an SVG
    rasterised by resvg at its pixel size); with its pixels per module and whether it is an
    inverted code."""
    item = msgspec.convert(
        {
            "data": data,
            "size_inches": size,
            "dpi": dpi,
            "background": "white",
            "error_correction": "M",
            **fields,
            "format": fmt,
        },
        GenerateRequest,
    )
    valid = check_item(item, PLANS["agency"])
    out = draw(valid.job)  # the style as designed: no read-back, so no repaired variant
    raster = out if fmt == "png" else rasterise_svg(out, dpi)
    return grey(raster, inverted=valid.inverted), float(valid.job.layout.ppm), valid.inverted


def _reads_of(
    fields: dict[str, object],
    text: str,
    index: int,
    fmt: str,
    size: float,
    dpi: int,
    columns: frozenset[tuple[str, str]],
) -> list[tuple[str, str]]:
    """The columns of ``columns`` in which content ``text``, at offset ``index``, reads."""
    pixels, ppm, inverted = render_grey(fields, text, fmt, size, dpi)
    pixels = place(pixels, ppm, index)
    out = []
    for name, transform in DEGRADATIONS.items():
        decoders = [dec for dec in DECODERS if (name, dec) in columns]
        if not decoders:
            continue
        degraded = transform(pixels, ppm)
        out += [(name, dec) for dec in decoders if reads(dec, degraded, text, inverted=inverted)]
    return out


def rates(
    fields: dict[str, object],
    texts: list[str],
    fmt: str = "png",
    size: float = 3,
    dpi: int = 300,
    only: frozenset[tuple[str, str]] | None = None,
) -> dict[tuple[str, str], int]:
    """How many of ``texts`` read back exactly, per (degradation, decoder), or only the
    columns in ``only``; the i-th text is placed at the i-th offset (``place``)."""
    counts = {
        (d, dec): 0 for d in DEGRADATIONS for dec in DECODERS if only is None or (d, dec) in only
    }
    columns = frozenset(counts)
    jobs = [
        _POOL.submit(_reads_of, fields, text, i, fmt, size, dpi, columns)
        for i, text in enumerate(texts)
    ]
    for job in jobs:
        for column in job.result():
            counts[column] += 1
    return counts


def _read_at(
    fields: dict[str, object], text: str, index: int, size: float, column: tuple[str, str]
) -> tuple[int, bool]:
    pixels, ppm, inverted = render_grey(fields, text, "png", size)
    degraded = DEGRADATIONS[column[0]](place(pixels, ppm, index), ppm)
    return round(ppm), reads(column[1], degraded, text, inverted=inverted)


def rates_by_ppm(
    fields: dict[str, object], texts: list[str], column: tuple[str, str], size: float = 3
) -> dict[int, tuple[int, int]]:
    """One (degradation, decoder) column of ``rates`` (PNG), split by the pixels per module
    each content was drawn at: ``{ppm: (read, contents)}``."""
    out: dict[int, tuple[int, int]] = {}
    jobs = [_POOL.submit(_read_at, fields, t, i, size, column) for i, t in enumerate(texts)]
    for job in jobs:
        ppm, ok = job.result()
        read, of = out.get(ppm, (0, 0))
        out[ppm] = (read + ok, of + 1)
    return out
