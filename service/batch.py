"""The streamed body of a bulk response: render in order on the pool, write the ZIP as we go.

A bounded window of items is in flight on the render workers, in chunks; each finished chunk
(in request order) goes to the ZIP writer at once, and its bytes go to the client. Memory is bounded by
the window, not the batch. A stream that does not complete (client gone, ceiling crossed,
shutdown, an error) is cut without the ZIP's end record, its pending renders are cancelled and
its credits are refunded exactly once (``Settlement``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import weakref
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, TypeVar

import anyio
import msgspec

from .errors import StreamAborted
from .metrics import Metrics
from .render.fair import Flow
from .render.job import RenderResult
from .rendering import Rendered, Renderer
from .schema import Manifest, ManifestDynamic, ManifestItem
from .validation import ValidItem, public_url
from .zipstream import ZipWriter, member_overhead

__all__ = ["Settlement", "Streams", "give_back_later", "settle_or_retry", "stream_batch"]

log = logging.getLogger("qrstudio.batch")
T = TypeVar("T")
_END_RECORD = 22
_LARGEST_CHUNK = 16
_CHUNK_PIXELS = 16 * 900 * 900  # 16 items of 3 in at 300 dpi: ~5 ms of squares


RETRY_DELAYS = (1, 2, 4, 8, 16, 30, 60, 120, 300, 600, 900)  # about 34 minutes in all
_background: set[asyncio.Task[Any]] = set()


def _spawn(coro: Coroutine[Any, Any, Any]) -> None:
    """Run ``coro`` off the request, holding a reference until it is done."""
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _keep_trying(
    call: Callable[[], Awaitable[T]], what: str, first_delay: float | None = None
) -> T | None:
    """Retry a store call that is safe to repeat, backing off; None when it never succeeded."""
    delays = RETRY_DELAYS if first_delay is None else (first_delay, *RETRY_DELAYS)
    for delay in delays:
        await asyncio.sleep(delay)
        try:
            return await call()
        except Exception:
            continue
    log.error("%s abandoned after %d tries", what, len(delays))
    return None


async def _refund_until_done(
    refund: Callable[[], Awaitable[bool]],
    on_refund: Callable[[], None],
    first_delay: float | None = None,
) -> None:
    refunded = await _keep_trying(refund, "refund (the charge stands)", first_delay)
    if refunded:
        on_refund()
    if refunded is not None:
        log.info("refund retried: credits refunded=%s", refunded)


def give_back_later(refund: Callable[[], Awaitable[bool]]) -> None:
    """Undo a charge whose outcome is unknown (the store's reply was lost): the refund either
    undoes it or voids the attempt so a late charge changes nothing."""
    _spawn(_refund_until_done(refund, lambda: None, first_delay=0))


async def settle_or_retry(settle: Callable[[bool], Awaitable[bool]]) -> None:
    """Mark a delivered charge settled now, or keep trying in the background (a charge left
    unsettled is swept: refunded, its codes removed)."""
    try:
        await settle(False)
    except Exception as exc:
        log.warning("settling a delivered charge failed (%s); retrying", exc)
        _spawn(
            _keep_trying(
                lambda: settle(False), "settling a delivered charge (the sweeper will refund it)"
            )
        )


class Settlement:
    """Charged credits that go back unless the stream completes; refunded at most once.

    While open it is in ``registry.open``; a refund under way is in ``registry.refunding``, so
    shutdown can settle what it cut and wait for refunds before closing the store. If the
    store cannot take the refund (Redis down), it is retried in the background: the refund is
    idempotent (the attempt's record), so a retry never gives back twice.
    """

    HEARTBEAT_S = 60.0

    def __init__(
        self,
        refund: Callable[[], Awaitable[bool]],
        on_close: Callable[[], None],
        registry: Streams,
        on_refund: Callable[[], None] = lambda: None,
        settle: Callable[[bool], Awaitable[bool]] | None = None,
        on_complete: Callable[[bytes], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._refund = refund
        self._settle = settle
        self._on_complete = on_complete
        self._metrics = metrics
        self._manifest: bytes | None = None
        self._beat = time.monotonic()
        self._on_refund = on_refund
        self._on_close = on_close
        self._registry = registry
        self._open = True
        self._loop = asyncio.get_running_loop()
        registry.open.add(self)

    def _close(self) -> bool:
        if not self._open:
            return False
        self._open = False
        self._registry.open.discard(self)
        self._on_close()
        return True

    async def heartbeat(self) -> None:
        """While streaming, tell the store now and then that this charge is alive, so the
        sweeper never takes a slow client's stream for a dead process's. A charge the sweeper
        already refunded cuts the stream: it must not complete for free."""
        if self._settle is None or time.monotonic() - self._beat < self.HEARTBEAT_S:
            return
        self._beat = time.monotonic()
        try:
            alive = await self._settle(True)
        except Exception as exc:  # the store is down: the next beat tries again
            log.warning("stream heartbeat failed: %s", exc)
            return
        if not alive:
            raise StreamAborted("this stream's charge was refunded by the sweeper")

    def produced(self, manifest: bytes) -> None:
        """The body's generator wrote the whole archive (``manifest`` is its manifest.json);
        whether it reached the client is ``delivered()``'s to say."""
        self._manifest = manifest

    async def delivered(self, ok: bool) -> None:
        """The response's outcome (``delivery.Delivery``): a whole archive handed to the
        socket completes the charge; anything else gives it back."""
        if ok and self._manifest is not None:
            await self.complete()
        else:
            await self.release(
                "the archive was produced but did not reach the client"
                if self._manifest is not None
                else "stopped by the consumer"
            )

    async def complete(self) -> None:
        """The stream completed: the charge stands, and the store is told so; then the
        idempotency record is kept for replays."""
        if not self._close():
            return
        if self._metrics is not None:
            self._metrics.streams.labels("complete").inc()
        with anyio.CancelScope(shield=True):
            if self._settle is not None:
                await settle_or_retry(self._settle)
            if self._on_complete is not None and self._manifest is not None:
                try:
                    await self._on_complete(self._manifest)
                except Exception as exc:  # the archive is complete; only a replay is lost
                    log.warning("could not store the idempotency record: %s", exc)

    async def release(self, why: str) -> None:
        if not self._close():
            return
        if self._metrics is not None:
            self._metrics.streams.labels("cut").inc()
        task = self._loop.create_task(self._give_back(why))
        self._registry.refunding.add(task)
        task.add_done_callback(self._registry.refunding.discard)
        with anyio.CancelScope(shield=True):
            await asyncio.shield(task)

    async def _give_back(self, why: str) -> None:
        try:
            refunded = await self._refund()
        except Exception as exc:  # the store is down: keep trying, off the request
            log.warning(
                "refund failed (%s: %s); retrying in the background", type(exc).__name__, exc
            )
            _spawn(_refund_until_done(self._refund, self._on_refund))
            return
        if refunded:
            self._on_refund()
        log.info("stream incomplete (%s): credits refunded=%s", why, refunded)

    def __del__(self) -> None:
        # A response whose body never started iterating still owns its charge.
        if self._open and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_spawn, self.release("body never started"))


class Streams:
    """The open streams of a process and the refunds under way."""

    def __init__(self) -> None:
        # weak: a response dropped before its body started lets its Settlement's __del__ run
        self.open: weakref.WeakSet[Settlement] = weakref.WeakSet()
        self.refunding: set[asyncio.Task[None]] = set()

    async def settle_all(self, why: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Refund every stream still open, and wait for refunds under way (shutdown)."""
        for settlement in list(self.open):
            await settlement.release(why)
        if self.refunding:
            await asyncio.wait(list(self.refunding), timeout=timeout)


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
    projected = _END_RECORD
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
