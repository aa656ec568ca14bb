"""Stage 5c: the palette writer for plain codes over a logo or a background image.

What a light pixel of such a code shows (the background colour, the image under its veil, the
logo in its cleared zone) is the same for every item of a drawing. It is built once per worker
and drawing (libvips: resize, veil, composite) and quantised once to the palette entries left
after the modules' coverage levels: exactly when it has that few colours, else by
libimagequant through libvips (no dithering: under the veil a photo's range is narrow, and
dithered noise costs bytes). An item is then only its module indices (the plain writer's
tiles), the prepared indices wherever a module leaves the pixel light: one 8-bit palette PNG,
deflated like the plain codes and read back from the indices before they are deflated.

A background image is drawn at most ``overlay.PHOTO_DPI`` samples per inch (each sample 2 x 2 pixels
at 300 dpi): under the veil the difference does not show at print size, and it makes an item
a third of the bytes. The modules' anti-aliased edges over an image blend with the veiled
image's mean colour (one set of edge entries, not one per colour of the image).

Codes whose logo is drawn over the modules (no cleared zone) vary under the logo from item to
item; they, and styled codes, keep the RGBA composite (``overlay.write_png_layers``).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import numpy as np
import pyvips

from ..lru import LRU
from .color import RGBA
from .geometry import Geometry
from .job import RenderJob
from .layout import Layout
from .overlay import Box, Overlay, background_layers, logo_image
from .patterns import PLAIN_PATTERNS
from .png import index_image, palette
from .readback import PLAIN_READ_PPM, grey_lut, palette_png, sampling

__all__ = ["Light", "eligible", "layered", "layered_grey"]


class Light(msgspec.Struct, frozen=True):
    """What a light pixel shows inside ``window`` (y0, y1, x0, x1; outside it, entry 0: the
    modules' own light colour): ``indices`` (the window's size, uint8) into the palette, whose
    first entries are the modules' coverage levels (``modules``, one RGBA row each) and the
    rest ``colours``."""

    indices: np.ndarray
    modules: np.ndarray
    colours: np.ndarray
    window: tuple[int, int, int, int]

    @property
    def nbytes(self) -> int:
        return int(self.indices.nbytes)


def eligible(job: RenderJob) -> bool:
    overlay = job.overlay
    return (
        overlay is not None
        and job.style is None
        and job.pattern in PLAIN_PATTERNS
        and (overlay.logo is None or overlay.clear_zone)
    )


def _light_rgba(
    layout: Layout,
    dpi: int,
    bg: RGBA,
    overlay: Overlay,
    box: Box | None,
    assets: Mapping[str, bytes],
) -> tuple[np.ndarray, int, int]:
    """What light pixels show, over the part of the image where it is not just the
    background colour: the whole image under a background image, else the logo's box; and
    where that part starts (y, x)."""
    if overlay.background is None:
        assert overlay.logo is not None and box is not None
        y, x, w, h = box.y, box.x, box.width, box.height
    else:
        y, x, w, h = 0, 0, layout.pixels, layout.pixels
    base = pyvips.Image.black(w, h, bands=4).new_from_image(list(bg)).copy(interpretation="srgb")
    layers: list[pyvips.Image] = []
    xs: list[int] = []
    ys: list[int] = []
    if overlay.background is not None:
        off, top = layout.offset, layout.offset + layout.dy
        layers += background_layers(overlay.background, layout, dpi, bg, assets)
        xs += [off, off]
        ys += [top, top]
    if overlay.logo is not None and box is not None:
        layers.append(logo_image(overlay.logo, box, assets))
        xs.append(box.x - x)
        ys.append(box.y - y)
    out = base.composite(layers, "over", x=xs, y=ys).cast("uchar")
    return np.ndarray(buffer=out.write_to_memory(), dtype=np.uint8, shape=(h, w, 4)), y, x


def _quantised(rgba: np.ndarray, budget: int, quality: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """(indices, RGBA palette) of ``rgba`` with at most ``budget`` colours."""
    flat = np.ascontiguousarray(rgba).view(np.uint32).reshape(rgba.shape[:2])
    colours, inverse = np.unique(flat, return_inverse=True)
    if len(colours) <= budget:
        palette_rgba = colours.view(np.uint8).reshape(-1, 4)
        return inverse.reshape(flat.shape).astype(np.uint8), palette_rgba
    h, w = rgba.shape[:2]
    image = pyvips.Image.new_from_memory(np.ascontiguousarray(rgba).data, w, h, 4, "uchar")
    png = image.copy(interpretation="srgb").pngsave_buffer(
        palette=True, bitdepth=8, dither=0, filter="none", compression=1, keep="none", Q=quality
    )
    found = palette_png(png)
    if found is None:
        raise ValueError("the quantiser wrote a PNG we do not read")
    indices, table = found
    if len(table) > budget:  # the least used entries go to their nearest kept neighbour
        used = np.bincount(indices.ravel(), minlength=len(table))
        keep = np.sort(np.argsort(-used, kind="stable")[:budget])
        kept = table[keep].astype(np.int32)
        remap = np.empty(len(table), dtype=np.uint8)
        for i, colour in enumerate(table.astype(np.int32)):
            remap[i] = np.argmin(((kept - colour) ** 2).sum(axis=1))
        indices, table = remap[indices], table[keep]
    return indices, table


def _light(
    layout: Layout,
    dpi: int,
    fg: RGBA,
    bg: RGBA,
    overlay: Overlay,
    box: Box | None,
    levels: int,
    assets: Mapping[str, bytes],
) -> Light:
    rgba, y, x = _light_rgba(layout, dpi, bg, overlay, box, assets)
    under = bg
    if overlay.background is not None:  # edges blend with the veiled image's mean colour
        off, top, sym = layout.offset, layout.offset + layout.dy, layout.symbol_pixels
        mean = rgba[top : top + sym, off : off + sym].reshape(-1, 4).mean(axis=0)
        under = (round(mean[0]), round(mean[1]), round(mean[2]), 255)
    modules = np.array(palette(fg, under, levels), dtype=np.uint8)
    plain = (rgba == modules[0]).all(axis=2)  # shown as the modules' own light entry
    rgba[plain] = 0
    indices, colours = _quantised(rgba, 256 - levels)
    indices = (indices.astype(np.uint16) + levels).astype(np.uint8)
    indices[plain] = 0
    h, w = indices.shape
    return Light(
        np.ascontiguousarray(indices),  # a strided layer makes every item's merge 5x slower
        modules,
        np.ascontiguousarray(colours),
        (y, y + h, x, x + w),
    )


_lights: LRU[tuple[object, ...], Light] = LRU(64 * 2**20, lambda layer: layer.nbytes)


def light(job: RenderJob, box: Box | None, levels: int, assets: Mapping[str, bytes]) -> Light:
    """The prepared light layer of ``job``'s drawing (kept per worker, by drawing)."""
    overlay = job.overlay
    assert overlay is not None
    return _lights.get_or_make(
        (job.layout, job.dpi, job.fg, job.bg, overlay, box, levels),
        lambda: _light(job.layout, job.dpi, job.fg, job.bg, overlay, box, levels, assets),
    )


def layered(
    geom: Geometry, job: RenderJob, box: Box | None, assets: Mapping[str, bytes]
) -> tuple[np.ndarray, np.ndarray]:
    """The image's palette indices and its RGBA palette (one row per entry)."""
    indices, levels = index_image(geom, job.layout)
    assert job.overlay is not None
    layer = light(job, box, levels, assets)
    y0, y1, x0, x1 = layer.window
    region = indices[y0:y1, x0:x1]
    # where a module leaves the pixel light (index 0), the prepared index: as max(module,
    # prepared & (0xFF where light)), branch-free (a masked copy is 30x slower on a photo)
    light_mask = (region == 0).view(np.uint8)
    np.negative(light_mask, out=light_mask)
    np.bitwise_and(light_mask, layer.indices, out=light_mask)
    np.maximum(region, light_mask, out=region)
    return indices, np.concatenate([layer.modules, layer.colours])


def layered_grey(indices: np.ndarray, colours: np.ndarray, ppm: int, inverted: bool) -> np.ndarray:
    """The pixels as grey over paper, sampled as the read-back reads plain modules
    (``readback.PLAIN_READ_PPM``): these are whole squares or rounded squares at any scale,
    and the logo or image under them is only what light modules show (the modules' ink is
    what the detector reads; the image's own detail at more pixels per module only slows it)."""
    step = sampling(ppm, PLAIN_READ_PPM)
    sample = np.ascontiguousarray(indices[step // 2 :: step, step // 2 :: step])
    return grey_lut(np.ascontiguousarray(colours).tobytes(), inverted)[sample]
