"""What the keys routes need from a store, beyond the request path: an account's keys with
their last use and revocation, and writing them (both stores implement it)."""

from __future__ import annotations

from typing import Protocol

import msgspec

from .store import Account, KeyInfo

__all__ = ["KeyRing", "KeyRow", "key_id"]


class KeyRow(msgspec.Struct, frozen=True, kw_only=True):
    sha: str
    info: KeyInfo
    last_used_at: str | None = None
    revoked_at: str | None = None


def key_id(sha: str) -> str:
    """A key's public id: the start of its hash (names it, cannot be used as it)."""
    return sha[:16]


class KeyRing(Protocol):
    async def account_of(self, account: str) -> Account | None: ...

    async def account_keys(self, account: str) -> list[KeyRow]: ...

    async def add_key(self, sha: str, info: KeyInfo) -> None: ...

    async def revoke_account_key(self, account: str, sha: str, at: str) -> bool: ...

    async def touch_key(self, account: str, sha: str, at: str) -> None: ...
