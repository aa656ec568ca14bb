"""The render pipeline: the stages in order, for one validated item.

content (validation) -> encode -> [clear zone] -> geometry -> PNG or SVG writer ->
[logo and background image layers]. Runs on a render worker; the checksums the ZIP and the
manifest need are computed here too, off the event loop. ``assets`` maps the content hashes a
job's overlay names to the normalised image bytes.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Mapping

import numpy as np

from .color import TRANSPARENT
from .encode import encode
from .geometry import Geometry, shape
from .job import RenderJob, RenderResult
from .overlay import Overlay, clear_zone, logo_box, logo_dimensions, png_layers, svg_layers
from .png import write_png
from .svg import write_svg

__all__ = ["WRITERS", "render"]

Writer = Callable[[Geometry, RenderJob, int], bytes]

WRITERS: dict[str, Writer] = {
    "png": lambda g, j, z: write_png(g, j.layout, j.fg, j.bg, j.dpi, z),
    "svg": lambda g, j, z: write_svg(g, j.layout, j.fg, j.bg, j.size_inches),
}
_NO_ASSETS: Mapping[str, bytes] = {}


def _with_overlay(dark: np.ndarray, job: RenderJob, overlay: Overlay, compression: int,
                  assets: Mapping[str, bytes]) -> bytes:
    box = None
    if overlay.logo is not None:
        box = logo_box(job.layout, overlay.logo_ratio, *logo_dimensions(overlay.logo, assets))
        if overlay.clear_zone:
            dark = clear_zone(dark, job.layout, box)
    geom = shape(dark, job.pattern)
    if job.format == "png":
        under = TRANSPARENT if overlay.background is not None else job.bg
        modules = write_png(geom, job.layout, job.fg, under, job.dpi, compression)
        return png_layers(modules, overlay, job.layout, job.bg, job.dpi, box, assets)
    below, above = svg_layers(overlay, job.layout, job.bg, box, assets)
    return write_svg(geom, job.layout, job.fg, job.bg, job.size_inches, below, above)


def render(job: RenderJob, compression: int = 0,
           assets: Mapping[str, bytes] = _NO_ASSETS) -> RenderResult:
    start = time.perf_counter()
    dark = encode(job.content, job.level, job.version)
    if job.overlay is None:
        data = WRITERS[job.format](shape(dark, job.pattern), job, compression)
    else:
        data = _with_overlay(dark, job, job.overlay, compression, assets)
    crc = zlib.crc32(data)
    digest = hashlib.sha256(data).hexdigest()
    return RenderResult(data, crc, digest, time.perf_counter() - start)
