"""Idempotency-Key (CONTRACT section 5): a retry with the same key and body within 24 h gets
the same result and is not charged again; the same key with another body, or while the first
request is still in flight, is a 409; a key whose first request did not complete is released.

Scoped to the account; the route is part of the fingerprint, so reusing a key on another
route is a 409. What is stored is a record (short ids, the manifest, the
headers), never an archive or an image: a replay re-renders deterministically, the render
cache making that cheap.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request

from .errors import (
    Conflict,
    MalformedBody,
)
from .items.types import ValidItem
from .limits.store import Store

__all__ = ["Idempotency", "asset_hashes", "check_replay_assets", "released_on_error"]

_VALID = re.compile(r"[\x21-\x7e]{1,255}")


class Idempotency:
    def __init__(self, store: Store, account: str, key: str, body: str) -> None:
        self.store, self.account, self.key, self.body = store, account, key, body
        self.replay: str | None = None
        self._open = True

    @classmethod
    async def begin(
        cls, request: Request[Any, Any, Any], store: Store, account: str, route: str, body: bytes
    ) -> Idempotency | None:
        header = request.headers.get("idempotency-key")
        if header is None:
            return None
        if not _VALID.fullmatch(header):
            raise MalformedBody("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        key = hashlib.sha256(header.encode()).hexdigest()
        # the route is part of what must match: the same key on another route is a 409
        idem = cls(store, account, key, hashlib.sha256(route.encode() + b"\0" + body).hexdigest())
        state, record = await store.idem_claim(account, key, idem.body)
        if state == "mismatch":
            raise Conflict("This Idempotency-Key was already used with another request body.")
        if state == "inflight":
            raise Conflict(
                "A request with this Idempotency-Key is still in progress; retry "
                "when it has completed."
            )
        if state == "done":
            idem.replay = record
            idem._open = False
        return idem

    async def finish(self, record: str) -> None:
        """Store the result; if that fails the key is released (best effort) and the error
        raised, so a retry runs again rather than meeting a 409 for 24 h."""
        if not self._open:
            return
        try:
            await self.store.idem_finish(self.account, self.key, self.body, record)
        except BaseException:
            await self.release()
            raise
        self._open = False

    async def release(self) -> None:
        if self._open:
            self._open = False
            try:
                await self.store.idem_release(self.account, self.key)
            except Exception:  # the key expires in 24 h at worst
                pass


@asynccontextmanager
async def released_on_error(idem: Idempotency | None) -> AsyncIterator[None]:
    """A request that fails before its answer is recorded releases its key, so a retry runs
    again instead of meeting a 409 for 24 h (a bulk stream releases it when it is cut)."""
    try:
        yield
    except BaseException:
        if idem is not None:
            await idem.release()
        raise


def asset_hashes(items: list[ValidItem]) -> list[str]:
    return sorted({sha for item in items for sha in (item.assets or {})})


def check_replay_assets(items: list[ValidItem], recorded: list[str]) -> None:
    """A replay draws the same images or none: if a logo or background at the same URL has
    changed since the first request, its images and manifest could not be the same."""
    if asset_hashes(items) != recorded:
        raise Conflict(
            "A logo or background image of this request changed since the first "
            "request with this Idempotency-Key; its result cannot be replayed. Use "
            "a new key to render it again."
        )
