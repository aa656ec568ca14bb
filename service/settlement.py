"""A bulk stream's charge: it stands only if the stream completes, and goes back exactly once
otherwise (client gone, ceiling crossed, shutdown, an error, a response never started)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from .charging import refund_until_done, settle_or_retry, spawn
from .errors import StreamAborted
from .metrics import Metrics

if TYPE_CHECKING:
    from .streams import Streams

__all__ = ["Settlement"]

log = logging.getLogger("qrstudio.batch")  # the stream's log, as before the split


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
            spawn(refund_until_done(self._refund, self._on_refund))
            return
        if refunded:
            self._on_refund()
        log.info("stream incomplete (%s): credits refunded=%s", why, refunded)

    def __del__(self) -> None:
        # A response whose body never started iterating still owns its charge.
        if self._open and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(spawn, self.release("body never started"))
