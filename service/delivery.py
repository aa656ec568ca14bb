"""Whether a streamed response reached the socket: a bulk archive counts as delivered (and its
charge stands) only once its last byte, the chunked terminator included, has left this
process, never merely when the body's generator has produced it.

Producing the last chunk only hands it to the server's transport, which may still buffer it
(a slow reader); at shutdown those bytes are lost with the process. So the edge middleware
gives every request a ``Delivery`` for the connection's transport; a handler that must know
the outcome calls ``arm()``, and after the response's final message the middleware waits for
the transport's buffer to drain and reports ``True`` (every byte in the kernel's socket
buffer) or ``False`` (the connection failed first, the response never finished, or the wait
was cancelled by shutdown) exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

__all__ = ["Delivery"]

_POLL_S = 0.005
_TRANSPORT_API = ("get_write_buffer_size", "is_closing", "get_protocol", "abort")
Report = Callable[[bool], Awaitable[None]]


class Delivery:
    def __init__(self, transport: Any, cycle: Any = None) -> None:
        self.transport = transport
        self._cycle = cycle  # uvicorn's request cycle: ``disconnected`` before the response ended
        self._report: Report | None = None
        self._lost: asyncio.Future[BaseException | None] | None = None
        self._restore: Callable[[], None] = lambda: None

    @classmethod
    def current(cls) -> Delivery:
        """The delivery of the response the current request task writes: uvicorn runs each
        request in a task of its request cycle's ``run_asgi``, and the cycle holds the
        connection's transport (asyncio's, or uvloop's, which is no asyncio.Transport
        subclass). Litestar wraps ``send`` before any middleware sees it, so the cycle is
        found from the task. Another server: no transport, and a final ``send`` that
        returned counts as delivered (the behaviour before this module)."""
        task = asyncio.current_task()
        frame = getattr(task.get_coro(), "cr_frame", None) if task is not None else None
        cycle = frame.f_locals.get("self") if frame is not None else None
        transport = getattr(cycle, "transport", None)
        if not all(hasattr(transport, name) for name in _TRANSPORT_API):
            return cls(None)
        return cls(transport, cycle)

    def arm(self, report: Report) -> None:
        """Report this response's outcome to ``report``, once, and learn how its connection
        ends: asyncio calls ``connection_lost(None)`` after a clean close (its buffer flushed
        first) and ``connection_lost(exc)`` after a failed write (its buffer discarded)."""
        self._report = report
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        protocol = transport.get_protocol()
        lost = self._lost = asyncio.get_running_loop().create_future()
        original = protocol.connection_lost

        def connection_lost(exc: BaseException | None) -> None:
            if not lost.done():
                lost.set_result(exc)
            original(exc)

        protocol.connection_lost = connection_lost

        def restore() -> None:
            if protocol.connection_lost is connection_lost:
                protocol.connection_lost = original

        self._restore = restore

    def _outcome(self) -> bool | None:
        """True: every byte left this process; False: they never will; None: not yet."""
        transport, lost = self.transport, self._lost
        if transport is None:
            return True
        if lost is None or getattr(self._cycle, "disconnected", False):
            return False  # the client left before the final message (uvicorn then drops it)
        if lost.done():
            return lost.result() is None
        if transport.get_write_buffer_size() == 0 and not transport.is_closing():
            return True
        return None  # still buffered, or closing: connection_lost will tell

    async def finished(self, sent: bool) -> None:
        """After the response; ``sent`` when its final message was written. A cancelled wait
        (shutdown) discards what is still buffered, so a client can only ever see a broken
        stream for a charge that is refunded."""
        report, self._report = self._report, None
        if report is None:
            return
        outcome: bool | None = False
        try:
            if sent:
                # no event tells a drained transport: poll it
                while (outcome := self._outcome()) is None:  # noqa: ASYNC110
                    await asyncio.sleep(_POLL_S)
        finally:
            if sent and outcome is None:  # cancelled while waiting: decide on what is known
                outcome = self._outcome()
            if sent and not outcome and self.transport is not None:
                self.transport.abort()  # what is still buffered must never arrive
            self._restore()
            with anyio.CancelScope(shield=True):
                await report(bool(outcome))
