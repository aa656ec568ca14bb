"""The open bulk streams of a process and the refunds under way: what shutdown settles."""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settlement import Settlement

__all__ = ["Streams"]


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
