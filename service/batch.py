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
from .items.dynamic import public_url
from .items.types import ValidItem
from .metrics import Metrics
from .render.fair import Flow
from .render.job import RenderResult
from .rendering import Rendered, Renderer
from .schema import Manifest, ManifestDynamic, ManifestItem
from .settlement import Settlement
from .zipstream import END_RECORD, ZipWriter, member_overhead

__all__ = ["BatchPlan", "chunk_items", "stream_batch"]

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


class BatchPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What a bulk stream renders and writes, all decided before its first byte.

    ``manifest``: a stored manifest to send instead of this run's (an idempotent replay);
    ``modified``: the members' timestamp (a replay's is the first run's, so the archive is
    byte-identical); ``ready``: images the pre-flight already rendered, by cache key."""

    items: list[ValidItem]
    plan: str
    base: str  # the public base URL of the dynamic codes' short links
    window: int  # items rendering or rendered but not yet written, at most
    ceiling: int  # the archive's byte ceiling
    flow: Flow = ("", "")
    ready: dict[str, RenderResult] = msgspec.field(default_factory=dict)
    manifest: bytes | None = None
    modified: datetime | None = None


class _Renders:
    """The batch's chunks on the render workers, a bounded window ahead of the writer, in
    request order."""

    def __init__(self, batch: BatchPlan, renderer: Renderer) -> None:
        self._batch, self._renderer = batch, renderer
        self._chunks = chunk_items(batch.items)
        self._pending: deque[tuple[list[ValidItem], asyncio.Task[list[Rendered]]]] = deque()
        self._inflight: dict[str, asyncio.Future[RenderResult]] = {}
        self._queued = 0
        self._assets: dict[str, bytes] = {}
        for item in batch.items:
            self._assets.update(item.assets or {})

    def _refill(self) -> None:
        b = self._batch
        while self._queued < b.window and (chunk := next(self._chunks, None)) is not None:
            jobs = [item.job for item in chunk]
            render = self._renderer.render(jobs, self._inflight, self._assets, b.flow, b.ready)
            self._pending.append((chunk, asyncio.ensure_future(render)))
            self._queued += len(chunk)

    async def next(self) -> list[tuple[ValidItem, Rendered]] | None:
        """The next chunk's items and images; None once all were taken."""
        self._refill()
        if not self._pending:
            return None
        chunk, task = self._pending.popleft()
        try:
            results = await task
        except BrokenProcessPool:  # a render worker died: this stream is cut, not a 500
            raise StreamAborted("a render worker died mid-stream") from None
        self._queued -= len(chunk)
        self._refill()
        return list(zip(chunk, results))

    def cancel(self) -> None:
        for _, task in self._pending:
            task.cancel()


def _within(projected: int, ceiling: int, where: str) -> int:
    if projected > ceiling:
        raise StreamAborted(f"the archive would exceed the {ceiling} byte ceiling{where}")
    return projected


async def stream_batch(
    batch: BatchPlan, renderer: Renderer, settlement: Settlement, metrics: Metrics
) -> AsyncIterator[bytes]:
    """The archive, written as the renders come. A generator that yields its last chunk has
    only *produced* it: the settlement completes when the response's delivery says the bytes
    left the process; anything else releases it (refunded once)."""
    writer = ZipWriter(batch.modified)
    renders = _Renders(batch, renderer)
    entries: list[ManifestItem] = []
    projected = END_RECORD
    completed = False
    metrics.batches.inc()
    try:
        while (done := await renders.next()) is not None:
            for item, (result, hit) in done:
                index = len(entries)
                if not result.verified:  # never ship a code that did not read back
                    raise StreamAborted(
                        f"item {index} does not read back in any form (every mask, solid modules)"
                    )
                name = f"qr-{index + 1:04d}.{item.job.format}"
                projected = _within(
                    projected + len(result.data) + member_overhead(name),
                    batch.ceiling,
                    f" at item {index}",
                )
                writer.add(name, result.data, result.crc32)
                entries.append(_manifest_item(index, name, item, result, batch.base, hit))
                metrics.item_written(item.job.format, result, hit)
            async for data in writer.written():  # each chunk waits for the client
                yield data
            await settlement.heartbeat()
        body = (
            batch.manifest
            if batch.manifest is not None
            else msgspec.json.format(
                msgspec.json.encode(Manifest(len(entries), batch.plan, entries)), indent=2
            )
        )
        _within(projected + len(body) + member_overhead("manifest.json"), batch.ceiling, "")
        writer.add("manifest.json", body, zlib.crc32(body))
        async for data in writer.finish():
            yield data
        completed = True
        settlement.produced(body)
    finally:
        metrics.batches.dec()
        if not completed:
            writer.abort()
            renders.cancel()
            why = sys.exc_info()[1]
            await settlement.release(str(why) if why else "stopped by the consumer")
