"""The render pipeline: one ordered list of stages (``STAGES``) over one context
(``context.Context``), for one validated item, as imgproxy's ``processing/pipeline.go`` does:

encode -> clear zone -> geometry -> layers -> write -> read-back

The writer is looked up once, by what the item needs (``writers.needs``: palette PNG, RGBA PNG
or SVG); the layers stage prepares what that writer puts under and over the modules (before
it writes: each writer composites them in its one pass). If the image does not read, the
repairs (``repairs``) are tried in order, each re-running only the stages whose inputs it
changed. Runs on a render worker; the checksums the ZIP and the manifest need are computed
here too, off the event loop. ``assets`` maps the content hashes a job's overlay names to the
normalised image bytes.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

import msgspec
import numpy as np

from .context import NO_ASSETS, Context
from .encode import encode, mask_order
from .job import RenderJob, RenderResult
from .layers import eligible
from .overlay import background_tone, clear_zone, logo_box, logo_dimensions
from .patterns import PATTERNS
from .readback import decodes, png_grey, sampling
from .scene import scene
from .shapes import soft_edge
from .writers import WRITERS, Writer, writer_for

__all__ = [
    "STAGES",
    "Step",
    "apply_repair",
    "draw",
    "overlay_grey",
    "reads_back",
    "render",
    "repairs",
    "run",
]


def _encode(ctx: Context) -> None:
    job = ctx.job
    ctx.symbol = encode(job.content, job.level, job.version, job.mask)


def _clear_zone(ctx: Context) -> None:
    """Where the logo goes (None without one), and the modules with its zone cleared."""
    job, overlay = ctx.job, ctx.job.overlay
    ctx.dark, ctx.box = ctx.symbol, None
    if overlay is None or overlay.logo is None:
        return
    ctx.box = logo_box(job.layout, overlay.logo_ratio, *logo_dimensions(overlay, ctx.assets))
    if overlay.clear_zone:
        assert ctx.dark is not None
        ctx.dark = clear_zone(ctx.dark, job.layout, ctx.box)


def _geometry(ctx: Context) -> None:
    """The plain writers' cells where the pattern has them (its entry's capability in the one
    pattern table) and nothing else is styled; else the scene."""
    job, dark = ctx.job, ctx.dark
    assert dark is not None
    plain = PATTERNS[job.pattern].plain if job.style is None else None
    if plain is not None:
        geom = plain(dark)
        # soft finders in a PNG as a styled code's eyes (png: soft finders); not over images
        edge = (
            soft_edge(job.layout.ppm, ctx.inverted)
            if job.format == "png" and job.overlay is None
            else 0
        )
        ctx.drawing = msgspec.structs.replace(geom, finder_edge=edge) if edge else geom
        return
    overlay, tone = job.overlay, None
    if job.pattern == "halftone" and overlay is not None and overlay.background is not None:
        tone = background_tone(overlay.background, job.layout.modules, ctx.assets)
    ctx.drawing = scene(job, dark, tone)


def _layers(ctx: Context) -> None:
    if ctx.job.overlay is not None and ctx.writer.layers is not None:
        ctx.writer.layers(ctx)


def _write(ctx: Context) -> None:
    ctx.writer.write(ctx)


def _own_grey(ctx: Context) -> np.ndarray:
    """What the writer handed over (rows, indices), else its bytes decoded."""
    if ctx.grey is not None:
        return ctx.grey
    return png_grey(ctx.data, ctx.inverted, sampling(ctx.job.layout.ppm))


def _twin_grey(ctx: Context) -> np.ndarray:
    """An SVG is read through the pixels of the same drawing at its pixel size: its PNG twin,
    written only if its writer did not hand them over with the layers."""
    if ctx.drawing is None:  # an SVG handed in to be read (``reads_back``): its drawing first
        _stages(ctx, through="geometry")
    job = msgspec.structs.replace(ctx.job, format="png")
    twin = Context.of(job, writer_for(job), 0, ctx.assets, True, ctx.inverted)
    twin.symbol, twin.box, twin.dark, twin.drawing = ctx.symbol, ctx.box, ctx.dark, ctx.drawing
    _layers(twin)
    if twin.grey is None:
        _write(twin)
    return _own_grey(twin)


_READS = {"own": _own_grey, "twin": _twin_grey}  # by what the writer declares (``Writer.reads``)


def _read_back(ctx: Context) -> None:
    """Whether the image decodes to exactly its content."""
    if ctx.read:
        ctx.reads = decodes(_READS[ctx.writer.reads](ctx), ctx.job.content, ctx.inverted)


class Step(NamedTuple):
    name: str
    run: Callable[[Context], None]
    # what of the job the stage reads, and the context fields it fills: a repair keeps them
    # while the stages before it are kept and these inputs are unchanged (None: always re-run)
    inputs: Callable[[RenderJob], object] | None = None
    fills: tuple[str, ...] = ()


STAGES: tuple[Step, ...] = (
    Step("encode", _encode, lambda j: (j.content, j.level, j.version, j.mask), ("symbol",)),
    Step("clear zone", _clear_zone, lambda j: (j.layout, j.overlay), ("box", "dark")),
    Step("geometry", _geometry),
    Step("layers", _layers),
    Step("write", _write),
    Step("read-back", _read_back),
)


def run(
    job: RenderJob,
    compression: int = 0,
    assets: Mapping[str, bytes] = NO_ASSETS,
    *,
    read: bool = False,
    writer: Writer | None = None,
    after: Context | None = None,
    through: str | None = None,
) -> Context:
    """The stages over ``job`` (up to ``through``, if named); ``after``: an earlier render of
    the item, whose stages are kept while their inputs are the same (a repair re-runs the
    stages it changed, and those after them)."""
    ctx = Context.of(job, writer or writer_for(job), compression, assets, read)
    first = 0
    if after is not None:
        for step in STAGES:
            if step.inputs is None or step.inputs(after.job) != step.inputs(job):
                break
            for name in step.fills:
                setattr(ctx, name, getattr(after, name))
            first += 1
    return _stages(ctx, first, through)


def _stages(ctx: Context, first: int = 0, through: str | None = None) -> Context:
    for step in STAGES[first:]:
        step.run(ctx)
        if step.name == through:
            break
    return ctx


def draw(job: RenderJob, compression: int = 0, assets: Mapping[str, bytes] = NO_ASSETS) -> bytes:
    """The image of ``job``, unchecked."""
    return run(job, compression, assets).data


def reads_back(job: RenderJob, data: bytes, assets: Mapping[str, bytes] = NO_ASSETS) -> bool:
    """Whether ``data``, the image of ``job``, decodes to exactly its content; an SVG is read
    through the pixels of the same drawing at its pixel size (``_twin_grey``)."""
    ctx = Context.of(job, writer_for(job), 0, assets, True)
    ctx.data = data
    _read_back(ctx)
    return bool(ctx.reads)


def overlay_grey(job: RenderJob, assets: Mapping[str, bytes], inverted: bool) -> np.ndarray | None:
    """The grey pixels the read-back reads of a plain pattern over a logo or background image
    (``layers.eligible``), built without writing a PNG: what the trial decode reads. None for
    other jobs."""
    if not eligible(job):
        return None
    ctx = Context.of(job, WRITERS["palette PNG"], 0, assets, True, inverted)
    return _stages(ctx, through="layers").grey  # the palette writer hands them over there


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


def render(
    job: RenderJob,
    compression: int = 0,
    assets: Mapping[str, bytes] = NO_ASSETS,
    verify: bool = True,
) -> RenderResult:
    """The image of ``job``, read back before it is returned; if it does not read, the first
    repair that does (``repairs``), each re-running only the stages it changed from the item
    as first drawn; if none does, an empty unverified result, which must never ship."""
    start = time.perf_counter()
    first: Context | None = None
    for repaired, variant in repairs(job) if verify else [(None, job)]:
        ctx = run(variant, compression, assets, read=verify, after=first)
        ctx.repaired = repaired
        first = first or ctx
        if ctx.reads or not verify:
            data = ctx.data
            return RenderResult(
                data,
                zlib.crc32(data),
                hashlib.sha256(data).hexdigest(),
                time.perf_counter() - start,
                verified=verify,
                repaired=repaired,
            )
    return RenderResult(b"", 0, "", time.perf_counter() - start)
