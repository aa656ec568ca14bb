"""The render pipeline: the stages in order, for one validated item.

content (validation) -> encode -> [clear zone] -> geometry -> PNG or SVG writer ->
[logo and background image layers] -> read-back (``readback``), with repairs until it reads.
Runs on a render worker; the checksums the ZIP and the manifest need are computed here too,
off the event loop. ``assets`` maps the content hashes a job's overlay names to the
normalised image bytes.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Iterator, Mapping

import msgspec
import numpy as np

from .color import is_inverted
from .encode import encode, mask_order
from .geometry import Geometry
from .job import RenderJob, RenderResult
from .layers import eligible, layered, layered_grey
from .overlay import (
    Box,
    Overlay,
    background_tone,
    cached_patch,
    clear_zone,
    logo_box,
    logo_dimensions,
    logo_patch,
    svg_layers,
    write_png_layers,
)
from .patterns import PLAIN_PATTERNS, shape
from .png import AA_LEVELS, Written, index_region, palette, write_indexed, write_png
from .readback import PLAIN_READ_PPM, decodes, png_grey, rows_grey, sampling
from .scene import scene
from .styled import write_scene_palette, write_scene_rgba
from .svg import write_scene_svg, write_svg

__all__ = ["WRITERS", "apply_repair", "draw", "reads_back", "render", "repairs"]

Writer = Callable[[Geometry, RenderJob, int], bytes]

WRITERS: dict[str, Writer] = {
    "png": lambda g, j, z: write_png(g, j.layout, j.fg, j.bg, j.dpi, z),
    "svg": lambda g, j, z: write_svg(g, j.layout, j.fg, j.bg, j.size_inches),
}
_NO_ASSETS: Mapping[str, bytes] = {}


def _place_logo(
    dark: np.ndarray, job: RenderJob, overlay: Overlay, assets: Mapping[str, bytes]
) -> tuple[np.ndarray, Box | None]:
    """Where the logo goes (None without one), and the modules with its zone cleared."""
    if overlay.logo is None:
        return dark, None
    box = logo_box(job.layout, overlay.logo_ratio, *logo_dimensions(overlay, assets))
    return (clear_zone(dark, job.layout, box) if overlay.clear_zone else dark), box


def _with_overlay(
    dark: np.ndarray,
    job: RenderJob,
    overlay: Overlay,
    compression: int,
    assets: Mapping[str, bytes],
) -> bytes:
    dark, box = _place_logo(dark, job, overlay, assets)
    geom = shape(dark, job.pattern)
    if job.format == "png" and eligible(job):
        return write_indexed(
            *layered(geom, job, box, assets), job.dpi, compression, overlay.background is not None
        )
    if job.format == "png":
        patch = (
            _patch(geom, job, overlay, box, assets)
            if box is not None and overlay.background is None
            else None
        )
        return write_png_layers(
            geom, job.layout, job.fg, job.bg, job.dpi, overlay, box, patch, assets
        )
    below, above = svg_layers(overlay, job.layout, job.dpi, job.bg, box, assets)
    return write_svg(geom, job.layout, job.fg, job.bg, job.size_inches, below, above)


def _layered(job: RenderJob, assets: Mapping[str, bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The palette writer's indices and palette of an ``eligible`` job."""
    assert job.overlay is not None
    dark, box = _place_logo(
        encode(job.content, job.level, job.version, job.mask), job, job.overlay, assets
    )
    return layered(shape(dark, job.pattern), job, box, assets)


def overlay_grey(job: RenderJob, assets: Mapping[str, bytes], inverted: bool) -> np.ndarray | None:
    """The grey pixels the read-back reads of a plain pattern over a logo or background image
    (``layers.eligible``), built without writing a PNG: what the trial decode reads. None for
    other jobs."""
    if not eligible(job):
        return None
    return layered_grey(*_layered(job, assets), job.layout.ppm, inverted)


def _patch(
    geom: Geometry, job: RenderJob, overlay: Overlay, box: Box, assets: Mapping[str, bytes]
) -> np.ndarray:
    """The logo over what the modules draw under it; cached when the zone is cleared (then
    only the background is under it, the same for every item)."""

    def make() -> np.ndarray:
        under = index_region(geom, job.layout, box.x, box.y, box.width, box.height)
        lut = np.array(
            palette(job.fg, job.bg, 2 if geom.radius == 0 else AA_LEVELS), dtype=np.uint8
        )
        return logo_patch(lut[under], overlay, box, assets)

    if not overlay.clear_zone:
        return make()
    return cached_patch((overlay.logo, box, job.fg, job.bg, geom.radius), make)


def _styled(
    dark: np.ndarray, job: RenderJob, compression: int, assets: Mapping[str, bytes]
) -> bytes:
    """Any pattern, eyes, gradient, frame and caption, with the overlay layers if any."""
    overlay, box = job.overlay, None
    if overlay is not None:
        dark, box = _place_logo(dark, job, overlay, assets)
    tone = None
    if job.pattern == "halftone" and overlay is not None and overlay.background is not None:
        tone = background_tone(overlay.background, job.layout.modules, assets)
    sc = scene(job, dark, tone)
    if job.format == "png" and overlay is None:
        return write_scene_palette(sc, job.dpi, compression)
    if job.format == "png":
        return write_scene_rgba(sc, job.dpi, overlay, box, assets)
    below, above = (
        svg_layers(overlay, job.layout, job.dpi, job.bg, box, assets) if overlay else ("", "")
    )
    return write_scene_svg(sc, job.size_inches, below, above)


def draw(job: RenderJob, compression: int = 0, assets: Mapping[str, bytes] = _NO_ASSETS) -> bytes:
    """The image of ``job``, unchecked."""
    dark = encode(job.content, job.level, job.version, job.mask)
    if job.style is not None or job.pattern not in PLAIN_PATTERNS:
        return _styled(dark, job, compression, assets)
    if job.overlay is None:
        return WRITERS[job.format](shape(dark, job.pattern), job, compression)
    return _with_overlay(dark, job, job.overlay, compression, assets)


def reads_back(job: RenderJob, data: bytes, assets: Mapping[str, bytes] = _NO_ASSETS) -> bool:
    """Whether ``data``, the image of ``job``, decodes to exactly its content; an SVG is read
    through the pixels of the same scene at its pixel size (a code over a logo or background
    image: the palette writer's indices; a plain code: the rows the PNG writer wrote)."""
    inverted = is_inverted(job.fg, job.bg)
    if job.format == "png":
        grey = png_grey(data, inverted, sampling(job.layout.ppm))
    else:
        as_png = msgspec.structs.replace(job, format="png")
        found = overlay_grey(as_png, assets, inverted)
        if found is None:  # the PNG writers hand over what they drew, where they can
            return _draw_and_read(as_png, 0, assets)[1]
        grey = found
    return decodes(grey, job.content, inverted)


_SQUARE_EYES = {"eye_border": "square", "eye_center": "square", "outer_frame": False}
_EYE_INKS = ("eye_border_color", "eye_center_color", "outer_frame_color")


def repairs(job: RenderJob) -> Iterator[tuple[str | None, RenderJob]]:
    """The job, then what may be changed so that it reads, in order: each other data mask
    (all give a valid symbol, the penalty order is a preference), solid square modules,
    then square eyes too; last, eyes in their own ink drawn in the modules' colour (as they
    are, then solid and square). The label is what the manifest says was changed."""
    solid = msgspec.structs.replace(job, pattern="squares", mask=None)
    if job.layout.ppm < 2 and job.pattern != "squares":
        # one pixel per module has no room for a shape: every rasteriser must agree on it
        for repaired, variant in repairs(solid):
            yield ", ".join(r for r in ("solid modules", repaired) if r), variant
        return
    yield None, job
    for mask in mask_order(job.content, job.level, job.version)[1:]:
        yield f"mask {mask}", msgspec.structs.replace(job, mask=mask)
    if job.pattern != "squares":
        yield "solid modules", solid
    style = job.style
    if style is not None and any(getattr(style, k) != v for k, v in _SQUARE_EYES.items()):
        yield (
            "solid modules, square eyes" if job.pattern != "squares" else "square eyes",
            msgspec.structs.replace(solid, style=msgspec.structs.replace(style, **_SQUARE_EYES)),
        )
    if style is not None and any(getattr(style, k) is not None for k in _EYE_INKS):
        # a translucent or low-contrast eye ink: the eyes in the modules' own colour
        plain = msgspec.structs.replace(style, **dict.fromkeys(_EYE_INKS))
        yield "eyes in the modules' colour", msgspec.structs.replace(job, style=plain)
        yield (
            "solid modules, square eyes in the modules' colour",
            msgspec.structs.replace(solid, style=msgspec.structs.replace(plain, **_SQUARE_EYES)),
        )


def apply_repair(job: RenderJob, label: str) -> RenderJob:
    """``job`` drawn as the repair ``label`` (from ``repairs``) drew another job of the same
    drawing: solid modules, square eyes (a mask is per content, and is not carried over)."""
    for repaired, variant in repairs(msgspec.structs.replace(job, mask=0)):
        if repaired == label:
            return msgspec.structs.replace(variant, mask=None)
    raise ValueError(f"no repair named {label!r}")


def _draw_and_read(
    job: RenderJob, compression: int, assets: Mapping[str, bytes]
) -> tuple[bytes, bool]:
    """The image and whether it reads back. The plain PNG writer hands over the rows it
    wrote (before deflate), so its image is read without inflating it again; so does the
    palette writer of codes over a logo or background image."""
    if job.format == "png" and eligible(job):
        assert job.overlay is not None
        inverted = is_inverted(job.fg, job.bg)
        indices, colours = _layered(job, assets)
        data = write_indexed(
            indices, colours, job.dpi, compression, job.overlay.background is not None
        )
        grey = layered_grey(indices, colours, job.layout.ppm, inverted)
        return data, decodes(grey, job.content, inverted)
    if (
        job.format != "png"
        or job.overlay is not None
        or job.style is not None
        or job.pattern not in PLAIN_PATTERNS
    ):
        data = draw(job, compression, assets)
        return data, reads_back(job, data, assets)
    written = Written(sampling(job.layout.ppm, PLAIN_READ_PPM))
    dark = encode(job.content, job.level, job.version, job.mask)
    data = write_png(
        shape(dark, job.pattern), job.layout, job.fg, job.bg, job.dpi, compression, written
    )
    inverted = is_inverted(job.fg, job.bg)
    grey = rows_grey(
        np.concatenate(written.rows),
        written.width,
        written.depth,
        np.array(written.colours, dtype=np.uint8),
        written.step,
        inverted,
    )
    return data, decodes(grey, job.content, inverted)


def render(
    job: RenderJob,
    compression: int = 0,
    assets: Mapping[str, bytes] = _NO_ASSETS,
    verify: bool = True,
) -> RenderResult:
    """The image of ``job``, read back before it is returned; if it does not read, the first
    repair that does (``repairs``); if none does, an empty unverified result, which must never
    ship."""
    start = time.perf_counter()
    for repaired, variant in repairs(job) if verify else [(None, job)]:
        if verify:
            data, reads = _draw_and_read(variant, compression, assets)
        else:
            data, reads = draw(variant, compression, assets), True
        if reads:
            return RenderResult(
                data,
                zlib.crc32(data),
                hashlib.sha256(data).hexdigest(),
                time.perf_counter() - start,
                verified=verify,
                repaired=repaired,
            )
    return RenderResult(b"", 0, "", time.perf_counter() - start)
