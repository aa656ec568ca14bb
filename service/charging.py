"""One charging lifecycle, used by the bulk stream, the single render and dynamic QR
creation: the atomic charge (``Store.charge``, one Lua script), then either a settlement once
the answer has left this process or a refund if it did not, exactly once.

- A charge whose reply is lost (timeout, connection dropped) may or may not have happened: it
  is undone in the background (refunded, or voided so that a late charge changes nothing)
  before the client is told nothing was charged.
- ``Charge.kept()`` brackets what must happen before a charged answer leaves (an idempotency
  record, the response): any failure inside refunds the charge; leaving it settles it.
- A bulk stream hands its charge to a ``settlement.Settlement`` instead, which settles or
  refunds when the stream ends.
- Store calls that fail are retried in the background with backoff (a refund is idempotent by
  its attempt id; a charge left unsettled is swept: refunded, its codes removed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from .limits.quota import ChargeResult, month_of
from .limits.store import NewCode, Store
from .requestid import new_ulid

__all__ = [
    "RETRY_DELAYS",
    "Charge",
    "give_back_later",
    "keep_trying",
    "refund_until_done",
    "settle_or_retry",
    "spawn",
]

log = logging.getLogger("qrstudio.batch")  # as before the split
T = TypeVar("T")

RETRY_DELAYS = (1, 2, 4, 8, 16, 30, 60, 120, 300, 600, 900)  # about 34 minutes in all
_background: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> None:
    """Run ``coro`` off the request, holding a reference until it is done."""
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def keep_trying(
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


async def refund_until_done(
    refund: Callable[[], Awaitable[bool]],
    on_refund: Callable[[], None],
    first_delay: float | None = None,
) -> None:
    refunded = await keep_trying(refund, "refund (the charge stands)", first_delay)
    if refunded:
        on_refund()
    if refunded is not None:
        log.info("refund retried: credits refunded=%s", refunded)


def give_back_later(refund: Callable[[], Awaitable[bool]]) -> None:
    """Undo a charge whose outcome is unknown (the store's reply was lost): the refund either
    undoes it or voids the attempt so a late charge changes nothing."""
    spawn(refund_until_done(refund, lambda: None, first_delay=0))


async def settle_or_retry(settle: Callable[[bool], Awaitable[bool]]) -> None:
    """Mark a delivered charge settled now, or keep trying in the background (a charge left
    unsettled is swept: refunded, its codes removed)."""
    try:
        await settle(False)
    except Exception as exc:
        log.warning("settling a delivered charge failed (%s); retrying", exc)
        spawn(
            keep_trying(
                lambda: settle(False), "settling a delivered charge (the sweeper will refund it)"
            )
        )


class Charge:
    """One account's charge for one answer. ``charge()`` may be called again after a
    short-id collision (a new attempt each time; a collision charges nothing)."""

    def __init__(self, store: Store, account: str, month: str | None = None) -> None:
        self.store = store
        self.account = account
        self.month = month or month_of()
        self.attempt = ""
        self.short_ids: list[str] = []

    async def charge(self, n: int, *, bulk: bool, codes: Sequence[NewCode] = ()) -> ChargeResult:
        """The one atomic step; if the store's answer is lost, the charge is undone in the
        background before the error propagates, so that 'nothing was charged' is true."""
        self.attempt = new_ulid()
        self.short_ids = [c.short_id for c in codes]
        try:
            return await self.store.charge(
                self.account, self.attempt, n, bulk=bulk, month=self.month, codes=list(codes)
            )
        except Exception:
            give_back_later(self.refund)
            raise

    async def refund(self) -> bool:
        """Give the credits back and remove the codes created (idempotent per attempt)."""
        return await self.store.refund(self.account, self.attempt, self.month, self.short_ids)

    async def settle(self, alive: bool = False) -> bool:
        """The answer left: the charge stands (``alive``: still streaming, not yet done)."""
        return await self.store.settle(self.account, self.attempt, alive=alive)

    @asynccontextmanager
    async def kept(self) -> AsyncIterator[None]:
        """Refund if anything inside fails; settle (or keep trying to) once it has not."""
        try:
            yield
        except BaseException:
            give_back_later(self.refund)
            raise
        await settle_or_retry(self.settle)
