"""Before the first byte: each distinct drawing of a batch is rendered and read back once.

A drawing is everything about an item but its content (pattern, eyes, colours, size, level,
version, logo, background): its first item is rendered on the render workers, read back, and
repaired there if it does not read (``render.pipeline.repairs``). So before anything is
charged or streamed:

- a drawing that reads with no repair, or only with another mask, goes ahead as asked (masks
  are per content: the stream repairs each item that needs one);
- a drawing that reads only with solid modules (or square eyes) is drawn that way for every
  item, and each manifest item says so (``repaired``);
- a drawing that reads in no way is a per-item 422 for every item drawn that way;
- the archive's size is estimated from the real sizes (each drawing's image times its items),
  so a batch its own sizes would cut at the ceiling is a 400 before it starts.

The first item's image is kept for the stream (not re-rendered). Batches with more than
``MAX_DRAWINGS`` distinct drawings try the first ones here; the rest are read back in the
stream like every item, where an item that reads in no way cuts the stream (refunded).
"""

from __future__ import annotations

import asyncio

import msgspec

from .errors import OutputTooLarge
from .items.types import InvalidItem, ValidItem
from .render.fair import Flow
from .render.job import RenderJob, RenderResult
from .render.pipeline import apply_repair
from .render_cache import cache_key
from .rendering import Renderer
from .zipstream import member_overhead

__all__ = ["MAX_DRAWINGS", "Preflight", "preflight", "unreadable"]

MAX_DRAWINGS = 256
_KEEP_BYTES = 32 * 1024 * 1024  # first images kept for the stream, at most
_CHUNK = 8


def _drawing(job: RenderJob) -> RenderJob:
    return msgspec.structs.replace(job, content="", mask=None)


def unreadable(item: ValidItem) -> InvalidItem:
    hint = (" " + " ".join(item.warnings)) if item.warnings else ""
    return InvalidItem(
        "This code does not read back as drawn: it was rendered and decoded "
        "with every data mask and with solid square modules, and never gave "
        f"back its content.{hint} Raise the contrast, size or dpi, lower the "
        "logo's size, or choose another pattern.",
        "non_field_errors",
    )


class Preflight(msgspec.Struct):
    items: list[ValidItem]
    errors: dict[int, InvalidItem]
    ready: dict[str, RenderResult]  # by cache key: first images, for the stream
    estimate: int  # bytes of the archive's members (without the manifest)


async def preflight(
    items: dict[int, ValidItem],
    renderer: Renderer,
    flow: Flow,
    assets: dict[str, bytes] | None = None,
) -> Preflight:
    groups: dict[RenderJob, list[int]] = {}
    for index, item in items.items():
        groups.setdefault(_drawing(item.job), []).append(index)
    tried = list(groups.items())[:MAX_DRAWINGS]
    firsts = [items[indices[0]].job for _, indices in tried]
    results: list[tuple[RenderResult, bool]] = []
    renders = [
        renderer.render(firsts[i : i + _CHUNK], {}, assets, flow)
        for i in range(0, len(firsts), _CHUNK)
    ]
    for rendered in await asyncio.gather(*renders):
        results.extend(rendered)
    out = dict(items)
    errors: dict[int, InvalidItem] = {}
    ready: dict[str, RenderResult] = {}
    kept = estimate = 0
    for (_, indices), first, (result, hit) in zip(tried, firsts, results):
        if not result.verified:
            errors.update((i, unreadable(items[i])) for i in indices)
            continue
        label = result.repaired
        if label is not None and not label.startswith("mask"):  # the drawing itself changes
            for i in indices:
                job = apply_repair(items[i].job, label)
                out[i] = msgspec.structs.replace(items[i], job=job, repaired=label)
            result = msgspec.structs.replace(result, repaired=None)
            first = out[indices[0]].job
        if not hit and kept + len(result.data) <= _KEEP_BYTES:  # a hit stays one
            ready[cache_key(first, renderer.compression)] = result
            kept += len(result.data)
        estimate += len(result.data) * len(indices)
    for _, indices in list(groups.items())[MAX_DRAWINGS:]:
        estimate += sum(minimum_bytes(items[i].job) for i in indices)
    estimate += sum(member_overhead(f"qr-{i + 1:04d}.{items[i].job.format}") for i in items)
    return Preflight([out[i] for i in sorted(out) if i not in errors], errors, ready, estimate)


def check_estimate(estimate: int, ceiling: int) -> None:
    if estimate > ceiling:
        raise OutputTooLarge(
            f"This batch would produce about {estimate} bytes (each distinct "
            "drawing was rendered to measure it), over the "
            f"{ceiling} byte ZIP ceiling; split it or lower sizes."
        )


_PNG_FIXED = 8 + 25 + 12 + 21 + 12 + 12  # signature, IHDR, PLTE (2 colours), pHYs, IDAT, IEND
_DEFLATE_MAX_RATIO = 1032  # deflate cannot compress better than this


def minimum_bytes(job: RenderJob) -> int:
    """A lower bound of an image's bytes, whatever the content."""
    if job.format == "svg":
        return 200
    raw = job.layout.pixels * (1 + (job.layout.pixels + 7) // 8)
    return _PNG_FIXED + raw // _DEFLATE_MAX_RATIO
