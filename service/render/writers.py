"""Stage 5: the writer table. What an item needs (``needs``: one rule, one lookup) is one of
three writers: a palette PNG, an RGBA PNG, or an SVG. Each draws both kinds of drawing the
geometry stage makes (a plain pattern's cells, ``Geometry``; a styled code's ``Scene``),
picking its way by the drawing's type, prepares the overlay's layers its own way (the palette
writer turns cells over images into ``Indexed``), and declares how the read-back reads it:

- palette PNG (1 or 2 bits for plain codes, 8 over images and for scenes): the fast path of
  the plain patterns (each module row packed once and repeated) hands over the rows it packed,
  before deflate; over a logo or background image it hands over the indices it merged over
  the prepared light layer (``layers``), before deflate; a scene is read from its bytes;
- RGBA PNG (what a palette cannot hold: a logo drawn over modules that vary from item to item,
  or images under a styled code; libvips composites them while writing): read from its bytes;
- SVG: read through its PNG twin, the same drawing written by the writer the same job in PNG
  needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .context import Context, Indexed
from .geometry import Geometry
from .job import RenderJob
from .layers import eligible, layered, layered_grey
from .overlay import cached_patch, logo_patch, svg_layers, write_png_layers
from .png import AA_LEVELS, Written, index_region, palette, write_indexed, write_png
from .readback import PLAIN_READ_PPM, rows_grey, sampling
from .scene import Scene
from .styled import write_scene_palette, write_scene_rgba
from .svg import write_scene_svg, write_svg

__all__ = ["WRITERS", "Writer", "needs", "writer_for"]

Stage = Callable[[Context], None]


@dataclass(frozen=True, slots=True)
class Writer:
    name: str
    draws: Mapping[type, Stage]  # by the drawing's type (``context.Drawing``): sets data
    layers: Stage | None  # prepares the overlay's layers (None: composited while writing)
    # how the read-back reads it: "own", the pixels it handed over (the rows it packed, the
    # indices it merged), else its bytes decoded; "twin", its PNG twin's
    reads: Literal["own", "twin"]

    def write(self, ctx: Context) -> None:
        self.draws[type(ctx.drawing)](ctx)


def _cells(ctx: Context) -> Geometry:
    assert isinstance(ctx.drawing, Geometry)
    return ctx.drawing


def _scene(ctx: Context) -> Scene:
    assert isinstance(ctx.drawing, Scene)
    return ctx.drawing


# -- palette PNG --------------------------------------------------------------------------------


def _palette_layers(ctx: Context) -> None:
    """A plain pattern over a logo or background image: the modules' indices merged over the
    light layer prepared once per drawing (``layers``), handed over to the read-back."""
    job = ctx.job
    drawn = Indexed(*layered(_cells(ctx), job, ctx.box, ctx.assets))
    ctx.drawing = drawn
    if ctx.read:
        ctx.grey = layered_grey(drawn.indices, drawn.colours, job.layout.ppm, ctx.inverted)


def _palette_indexed(ctx: Context) -> None:
    job, drawn = ctx.job, ctx.drawing
    assert isinstance(drawn, Indexed) and job.overlay is not None
    photo = job.overlay.background is not None
    ctx.data = write_indexed(drawn.indices, drawn.colours, job.dpi, ctx.compression, photo)


def _palette_cells(ctx: Context) -> None:
    """The fast path: each module row packed once (1 bit for squares, 2 for anti-aliased
    edges); the rows the read-back samples are kept as they are packed, before deflate."""
    job = ctx.job
    written = Written(sampling(job.layout.ppm, PLAIN_READ_PPM)) if ctx.read else None
    ctx.data = write_png(_cells(ctx), job.layout, job.fg, job.bg, job.dpi, ctx.compression, written)
    if written is not None:
        ctx.grey = rows_grey(
            np.concatenate(written.rows),
            written.width,
            written.depth,
            np.array(written.colours, dtype=np.uint8),
            written.step,
            ctx.inverted,
        )


def _palette_scene(ctx: Context) -> None:
    ctx.data = write_scene_palette(_scene(ctx), ctx.job.dpi, ctx.compression)


# -- RGBA PNG -----------------------------------------------------------------------------------


def _logo_patch(ctx: Context, geom: Geometry) -> np.ndarray:
    """The logo over what the modules draw under it; cached when the zone is cleared (then
    only the background is under it, the same for every item)."""
    job, overlay, box = ctx.job, ctx.job.overlay, ctx.box
    assert overlay is not None and box is not None

    def make() -> np.ndarray:
        under = index_region(geom, job.layout, box.x, box.y, box.width, box.height)
        lut = np.array(
            palette(job.fg, job.bg, 2 if geom.radius == 0 else AA_LEVELS), dtype=np.uint8
        )
        return logo_patch(lut[under], overlay, box, ctx.assets)

    if not overlay.clear_zone:
        return make()
    return cached_patch((overlay.logo, box, job.fg, job.bg, geom.radius), make)


def _rgba_cells(ctx: Context) -> None:
    job, overlay, box = ctx.job, ctx.job.overlay, ctx.box
    assert overlay is not None
    geom = _cells(ctx)
    patch = _logo_patch(ctx, geom) if box is not None and overlay.background is None else None
    ctx.data = write_png_layers(
        geom, job.layout, job.fg, job.bg, job.dpi, overlay, box, patch, ctx.assets
    )


def _rgba_scene(ctx: Context) -> None:
    job = ctx.job
    ctx.data = write_scene_rgba(_scene(ctx), job.dpi, job.overlay, ctx.box, ctx.assets)


# -- SVG ----------------------------------------------------------------------------------------


def _svg_layers(ctx: Context) -> None:
    job = ctx.job
    assert job.overlay is not None
    ctx.below, ctx.above = svg_layers(job.overlay, job.layout, job.dpi, job.bg, ctx.box, ctx.assets)


def _svg_cells(ctx: Context) -> None:
    job = ctx.job
    ctx.data = write_svg(
        _cells(ctx), job.layout, job.fg, job.bg, job.size_inches, ctx.below, ctx.above
    )


def _svg_scene(ctx: Context) -> None:
    ctx.data = write_scene_svg(_scene(ctx), ctx.job.size_inches, ctx.below, ctx.above)


WRITERS: dict[str, Writer] = {
    "palette PNG": Writer(
        "palette PNG",
        {Geometry: _palette_cells, Indexed: _palette_indexed, Scene: _palette_scene},
        _palette_layers,
        "own",
    ),
    "RGBA PNG": Writer("RGBA PNG", {Geometry: _rgba_cells, Scene: _rgba_scene}, None, "own"),
    "SVG": Writer("SVG", {Geometry: _svg_cells, Scene: _svg_scene}, _svg_layers, "twin"),
}


def needs(job: RenderJob) -> str:
    """The writer ``job`` needs: an SVG; or a PNG whose pixels a palette holds (no images, or
    a plain pattern over images that are the same for every item of the drawing:
    ``layers.eligible``); else an RGBA PNG."""
    if job.format == "svg":
        return "SVG"
    return "palette PNG" if job.overlay is None or eligible(job) else "RGBA PNG"


def writer_for(job: RenderJob) -> Writer:
    return WRITERS[needs(job)]
