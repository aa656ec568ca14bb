"""Stage 4b: logos and background images, composited by libvips.

The job names its assets by content hash (``Overlay``); their bytes (our own normalised PNGs,
see ``service.assets.decode``) travel beside the jobs and each worker keeps the decoded images
and their resized versions in small LRU caches, so a batch sharing one logo decodes and resizes
it once per worker.

- The logo is fitted, aspect kept, in a square of ``logo_size_ratio`` x the symbol's width,
  centred. With ``logo_clear_zone`` the modules under it and a one-module margin are made light
  before the pattern is shaped, so neighbouring modules keep clean edges.
- The background image covers the symbol (not the quiet zone), under a veil of the light colour
  (the background colour, or white on a transparent background) so light modules stay light
  for scanners; the modules are drawn over it.
- PNG with a logo only: libvips composites the logo over the few pixels under it (the same
  for every item when the zone is cleared, so cached), and our writer expands the palette rows
  to RGBA around that patch. With a background image: the writer renders the modules on a
  transparent background, libvips stacks background colour, image, veil, modules and logo in
  one ``composite`` and writes an 8-bit RGBA PNG with the dpi. SVG: the same layers as elements,
  the images embedded as data URIs at their pixel size.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import numpy as np
import pyvips

from ..lru import LRU
from .color import RGBA, TRANSPARENT
from .geometry import Geometry
from .layout import Layout
from .png import index_image, palette

__all__ = [
    "VEIL",
    "Box",
    "Overlay",
    "background_layers",
    "cached_patch",
    "clear_zone",
    "logo_box",
    "logo_patch",
    "svg_layers",
    "write_png_layers",
    "zone",
]

VEIL = 0.6  # opacity of the light veil over a background image
# a background image is drawn at most this many samples per inch (2 x 2 pixels each at 300
# dpi): under the veil the difference does not show at print size, and the bytes drop to a third
PHOTO_DPI = 150


class Overlay(msgspec.Struct, frozen=True, array_like=True):
    logo: str | None = None  # SHA-256 of the logo's bytes
    logo_ratio: float = 0.24
    clear_zone: bool = True
    background: str | None = None  # SHA-256 of the background image's bytes
    logo_size: tuple[int, int] | None = None  # the logo's pixels (None: read from its bytes)


class Box(msgspec.Struct, frozen=True, array_like=True):
    x: int
    y: int
    width: int
    height: int


def _nbytes(value: Any) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    return int(value.width * value.height * value.bands)


def _kept(budget: int) -> LRU[object, Any]:
    """Images kept by bytes; one larger than a quarter of the budget is used but not kept."""
    return LRU(budget, _nbytes, largest=budget // 4)


_sources = _kept(96 * 2**20)
_resized = _kept(96 * 2**20)
_patches = _kept(32 * 2**20)
_uris = _kept(32 * 2**20)  # an SVG's embedded images, encoded once per image and size


def _load(data: bytes) -> pyvips.Image:
    """Our own normalised asset: a PNG, or a JPEG for an opaque background."""
    if data.startswith(b"\xff\xd8"):
        return pyvips.Image.jpegload_buffer(data).bandjoin(255).copy(interpretation="srgb")
    return pyvips.Image.pngload_buffer(data)


def _source(sha: str, assets: Mapping[str, bytes]) -> pyvips.Image:
    return _sources.get_or_make(sha, lambda: _load(assets[sha]).copy_memory())


def logo_box(layout: Layout, ratio: float, width: int, height: int) -> Box:
    side = max(1, round(ratio * layout.symbol_pixels))
    if width >= height:
        w, h = side, max(1, round(side * height / width))
    else:
        w, h = max(1, round(side * width / height)), side
    return Box(
        layout.offset + (layout.symbol_pixels - w) // 2,
        layout.offset + layout.dy + (layout.symbol_pixels - h) // 2,
        w,
        h,
    )


def zone(layout: Layout, box: Box, margin: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The modules (rows, then columns, half-open) ``box`` touches, widened by ``margin``."""
    ppm, off, n = layout.ppm, layout.offset, layout.modules
    top = off + layout.dy
    c0 = max(0, math.floor((box.x - off) / ppm) - margin)
    c1 = min(n, math.ceil((box.x - off + box.width) / ppm) + margin)
    r0 = max(0, math.floor((box.y - top) / ppm) - margin)
    r1 = min(n, math.ceil((box.y - top + box.height) / ppm) + margin)
    return (r0, r1), (c0, c1)


def clear_zone(dark: np.ndarray, layout: Layout, box: Box) -> np.ndarray:
    """``dark`` with the modules under ``box`` and a one-module margin made light."""
    (r0, r1), (c0, c1) = zone(layout, box, 1)
    out = dark.copy()
    out[r0:r1, c0:c1] = False
    return out


def logo_dimensions(overlay: Overlay, assets: Mapping[str, bytes]) -> tuple[int, int]:
    assert overlay.logo is not None
    if overlay.logo_size is not None:
        return overlay.logo_size
    image = _source(overlay.logo, assets)
    return image.width, image.height


def _logo(sha: str, box: Box, assets: Mapping[str, bytes]) -> pyvips.Image:
    return _resized.get_or_make(
        ("logo", sha, box.width, box.height),
        lambda: (
            _source(sha, assets)
            .thumbnail_image(box.width, height=box.height, size="force")
            .copy_memory()
        ),
    )


def _background(sha: str, side: int, assets: Mapping[str, bytes]) -> pyvips.Image:
    def make() -> pyvips.Image:
        return _source(sha, assets).thumbnail_image(side, height=side, crop="centre")

    if side * side * 4 > _resized.budget // 4:
        return make()  # too big to keep: streamed into the composite
    return _resized.get_or_make(("bg", sha, side), lambda: make().copy_memory())


def logo_image(sha: str, box: Box, assets: Mapping[str, bytes]) -> pyvips.Image:
    return _logo(sha, box, assets)


def background_tone(sha: str, modules: int, assets: Mapping[str, bytes]) -> np.ndarray:
    """How dark the background image is under each module, 0 (light) to 1 (dark)."""
    grey = _background(sha, modules, assets).colourspace("b-w")[0].cast("uchar")
    values = np.ndarray(buffer=grey.write_to_memory(), dtype=np.uint8, shape=(modules, modules))
    return 1 - values.astype(float) / 255


def photo_side(layout: Layout, dpi: int) -> int:
    """The side, in samples, of a background image drawn over ``layout``'s symbol."""
    factor = max(1, dpi // PHOTO_DPI)
    return max(1, math.ceil(layout.symbol_pixels / factor))


def background_layers(
    sha: str, layout: Layout, dpi: int, bg: RGBA, assets: Mapping[str, bytes]
) -> list[pyvips.Image]:
    """The background image covered to the symbol (drawn at ``photo_side`` samples, each a
    square of whole pixels), and the light veil over it: both the symbol's size, placed at its
    corner."""
    sym = layout.symbol_pixels
    side = photo_side(layout, dpi)
    photo = _background(sha, side, assets)
    if side != sym:
        factor = -(-sym // side)
        photo = photo.zoom(factor, factor).crop(0, 0, sym, sym)
    veil = veil_color(bg)
    return [
        photo,
        pyvips.Image.black(sym, sym, bands=4)
        .new_from_image([*veil[:3], round(VEIL * 255)])
        .copy(interpretation="srgb"),
    ]


def veil_color(bg: RGBA) -> RGBA:
    return (bg[0], bg[1], bg[2], 255) if bg[3] else (255, 255, 255, 255)


def _rgba(image: pyvips.Image) -> pyvips.Image:
    if image.bands < 3:
        image = image.colourspace("srgb")
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.copy(interpretation="srgb")


def _modules(geom: Geometry, layout: Layout, fg: RGBA, bg: RGBA) -> pyvips.Image:
    """The modules as an RGBA libvips image: our palette indices through the palette."""
    indices, levels = index_image(geom, layout)
    lut = np.array(palette(fg, bg, levels), dtype=np.uint8)
    size = layout.pixels
    image = pyvips.Image.new_from_memory(indices.data, size, size, 1, "uchar")
    table = pyvips.Image.new_from_memory(lut.data, levels, 1, 4, "uchar")
    return image.maplut(table).copy(interpretation="srgb")


def write_png_layers(
    geom: Geometry,
    layout: Layout,
    fg: RGBA,
    bg: RGBA,
    dpi: int,
    overlay: Overlay,
    box: Box | None,
    patch: np.ndarray | None,
    assets: Mapping[str, bytes],
) -> bytes:
    """The final 8-bit RGBA PNG. A logo alone: its composited ``patch`` inserted into the
    modules. A background image: background colour, image, veil, modules (drawn on a
    transparent background) and logo, stacked in one libvips composite."""
    if overlay.background is None:
        out = _modules(geom, layout, fg, bg)
        if patch is not None and box is not None:
            h, w = patch.shape[:2]
            out = out.insert(
                pyvips.Image.new_from_memory(np.ascontiguousarray(patch).data, w, h, 4, "uchar"),
                box.x,
                box.y,
            )
    else:
        modules = _modules(geom, layout, fg, TRANSPARENT)
        off = layout.offset
        layers = [*background_layers(overlay.background, layout, dpi, bg, assets), modules]
        xs, ys = [off, off, 0], [off, off, 0]
        if overlay.logo is not None and box is not None:
            layers.append(_logo(overlay.logo, box, assets))
            xs.append(box.x)
            ys.append(box.y)
        base = modules.new_from_image(list(bg)).copy(interpretation="srgb")
        out = base.composite(layers, "over", x=xs, y=ys)
    out = out.cast("uchar").copy(xres=dpi / 25.4, yres=dpi / 25.4)
    return bytes(out.pngsave_buffer(compression=2, filter="up", keep="none"))


def logo_patch(
    under: np.ndarray, overlay: Overlay, box: Box, assets: Mapping[str, bytes]
) -> np.ndarray:
    """The logo composited by libvips over ``under`` (h x w x 4 uint8, what the modules draw
    there); the result as an array of the same shape."""
    assert overlay.logo is not None
    h, w = under.shape[:2]
    base = pyvips.Image.new_from_memory(np.ascontiguousarray(under).data, w, h, 4, "uchar")
    out = base.copy(interpretation="srgb").composite2(_logo(overlay.logo, box, assets), "over")
    out = out.cast("uchar")
    return np.ndarray(buffer=out.write_to_memory(), dtype=np.uint8, shape=(h, w, 4))


def cached_patch(key: object, make: Callable[[], np.ndarray]) -> np.ndarray:
    """A patch that depends only on ``key`` (a cleared zone: the same under every item)."""
    return _patches.get_or_make(key, make)


def _data_uri(image: pyvips.Image, opaque_ok: bool) -> str:
    if opaque_ok and image.bands == 4 and image[3].min() == 255:
        data, mime = image[:3].jpegsave_buffer(Q=88, keep="none"), "image/jpeg"
    else:
        data, mime = image.pngsave_buffer(compression=6, keep="none"), "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def svg_layers(
    overlay: Overlay,
    layout: Layout,
    dpi: int,
    bg: RGBA,
    box: Box | None,
    assets: Mapping[str, bytes],
) -> tuple[str, str]:
    """The SVG elements under the modules (background image and veil) and over them (logo)."""
    under = over = ""
    if overlay.background is not None:
        sym, off = layout.symbol_pixels, layout.offset
        side, photo = photo_side(layout, dpi), overlay.background
        uri = _uris.get_or_make(
            ("bg", photo, side), lambda: _data_uri(_background(photo, side, assets), True)
        )
        veil = veil_color(bg)
        top = off + layout.dy
        under = (
            f'<image x="{off}" y="{top}" width="{sym}" height="{sym}" '
            f'preserveAspectRatio="none" href="{uri}"/>'
            f'<rect x="{off}" y="{top}" width="{sym}" height="{sym}" '
            f'fill="#{veil[0]:02x}{veil[1]:02x}{veil[2]:02x}" fill-opacity="{VEIL:g}"/>'
        )
    if overlay.logo is not None and box is not None:
        logo = overlay.logo
        uri = _uris.get_or_make(
            ("logo", logo, box.width, box.height),
            lambda: _data_uri(_logo(logo, box, assets), False),
        )
        over = (
            f'<image x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" '
            f'preserveAspectRatio="none" href="{uri}"/>'
        )
    return under, over
