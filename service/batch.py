"""The streamed body of a bulk response: render in order on the pool, write the ZIP as we go.

A bounded window of items is in flight on the render workers, in chunks; each finished chunk
(in request order) goes to the ZIP writer at once, and its bytes go to the client. Memory is bounded by
the window, not the batch. A stream that does not complete (client gone, ceiling crossed,
shutdown, an error) is cut without the ZIP's end record, its pending renders are cancelled and
its credits are refunded exactly once (``settlement.Settlement``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TypeVar

import msgspec

from .errors import StreamAborted
from .items.validation import ValidItem, public_url
from .metrics import Metrics
from .render.fair import Flow
from .render.job import RenderResult
from .rendering import Rendered, Renderer
from .schema import Manifest, ManifestDynamic, ManifestItem
from .settlement import Settlement
from .zipstream import END_RECORD, ZipWriter, member_overhead

__all__ = ["chunk_items", "stream_batch"]

log = logging.getLogger("qrstudio.batch")
T = TypeVar("T")
_LARGEST_CHUNK = 16
_CHUNK_PIXELS = 16 * 900 * 900  # 16 items of 3 in at 300 dpi: ~5 ms of squares


def _size(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _manifest_item(
    index: int, name: str, item: ValidItem, result: RenderResult, base: str, hit: bool
) -> ManifestItem:
    job = item.job
    dynamic = None
    if item.code is not None:
        dynamic = ManifestDynamic(item.code.short_id, public_url(base, item.code.short_id))
    return ManifestItem(
        dynamic=dynamic,
        index=index,
        filename=name,
        data_type=item.request.data_type,
        format=job.format,
        size_inches=_size(job.size_inches),
        dpi=job.dpi,
        bytes=len(result.data),
        cache="HIT" if hit else "MISS",
        duration_ms=0 if hit else result.duration_ms,
        has_logo=item.has_logo,
        sha256=result.sha256,
        error_correction=job.level,
        version=job.version,
        pixels=job.layout.pixels,
        inverted=item.inverted,
        verified=result.verified,
        repaired=", ".join(r for r in (item.repaired, result.repaired) if r) or None,
        warnings=list(item.warnings),
    )


def chunk_items(
    items: list[ValidItem], largest: int = _LARGEST_CHUNK, budget: int = _CHUNK_PIXELS
) -> Iterator[list[ValidItem]]:
    """1, 2, 4, ... items per chunk up to ``largest``, and no more pixels than ``budget`` (a
    few milliseconds of work; one item if it is larger): the first image leaves at once,
    later chunks amortise the hand-over to the render workers, and a chunk never keeps a
    worker long from another request's turn (``render.fair``)."""
    size, start = 1, 0
    while start < len(items):
        end, pixels = start, 0
        while end < len(items) and end - start < size:
            pixels += items[end].job.layout.pixels ** 2
            if end > start and pixels > budget:
                break
            end += 1
        yield items[start:end]
        start = end
        size = min(size * 2, largest)


async def stream_batch(
    items: list[ValidItem],
    *,
    plan: str,
    renderer: Renderer,
    base: str,
    window: int,
    ceiling: int,
    settlement: Settlement,
    metrics: Metrics,
    flow: Flow = ("", ""),
    ready: dict[str, RenderResult] | None = None,
    manifest: bytes | None = None,
    modified: datetime | None = None,
) -> AsyncIterator[bytes]:
    """``manifest``: a stored manifest to send instead of this run's (an idempotent replay);
    ``modified``: the members' timestamp (a replay's is the first run's, so the archive is
    byte-identical). A generator that yields its last chunk has only *produced* the archive:
    the settlement completes when the response's delivery says the bytes left the process."""
    stored = manifest
    writer = ZipWriter(modified)
    pending: deque[tuple[list[ValidItem], asyncio.Task[list[Rendered]]]] = deque()
    inflight: dict[str, asyncio.Future[RenderResult]] = {}
    chunks = chunk_items(items)
    entries: list[ManifestItem] = []
    projected = END_RECORD
    queued = 0
    assets: dict[str, bytes] = {}
    for item in items:
        if item.assets:
            assets.update(item.assets)

    def refill() -> None:
        nonlocal queued
        while queued < window:
            chunk = next(chunks, None)
            if chunk is None:
                return
            task = asyncio.ensure_future(
                renderer.render([item.job for item in chunk], inflight, assets, flow, ready)
            )
            pending.append((chunk, task))
            queued += len(chunk)

    completed = False
    metrics.batches.inc()
    try:
        refill()
        index = 0
        while pending:
            chunk, future = pending.popleft()
            try:
                results = await future
            except BrokenProcessPool:  # a render worker died: this stream is cut, not a 500
                raise StreamAborted("a render worker died mid-stream") from None
            queued -= len(chunk)
            refill()
            for item, (result, hit) in zip(chunk, results):
                if not result.verified:  # never ship a code that did not read back
                    raise StreamAborted(
                        f"item {index} does not read back in any form (every mask, solid modules)"
                    )
                name = f"qr-{index + 1:04d}.{item.job.format}"
                projected += len(result.data) + member_overhead(name)
                if projected > ceiling:
                    raise StreamAborted(
                        f"the archive would exceed the {ceiling} byte ceiling at item {index}"
                    )
                writer.add(name, result.data, result.crc32)
                entries.append(_manifest_item(index, name, item, result, base, hit))
                metrics.items.labels(item.job.format).inc()
                if hit:
                    metrics.cache_hits.inc()
                else:
                    metrics.render_seconds.observe(result.seconds)
                index += 1
            async for data in writer.written():  # each chunk waits for the client
                yield data
            await settlement.heartbeat()
        body = (
            stored
            if stored is not None
            else msgspec.json.format(
                msgspec.json.encode(Manifest(len(entries), plan, entries)), indent=2
            )
        )
        if projected + len(body) + member_overhead("manifest.json") > ceiling:
            raise StreamAborted(f"the archive would exceed the {ceiling} byte ceiling")
        writer.add("manifest.json", body, zlib.crc32(body))
        async for data in writer.finish():
            yield data
        completed = True
        settlement.produced(body)
    finally:
        metrics.batches.dec()
        if not completed:
            writer.abort()
            for _, task in pending:
                task.cancel()
            why = sys.exc_info()[1]
            await settlement.release(str(why) if why else "stopped by the consumer")
