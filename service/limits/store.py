"""One store interface, two implementations: Redis (``redis_store``) and embedded (``memory``).

``Store`` is what a request needs (async, on the hot path); ``Admin`` is what operators and the
``qrstudio`` command need (sync). Both implementations provide both.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from .quota import ChargeResult

__all__ = ["Account", "Admin", "AdminError", "Caller", "KeyInfo", "Store"]


class Account(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    plan: str
    monthly_quota: int | None = None  # per-account override of the plan's quota
    overage: bool | None = None  # per-account override of the plan's overage rule


class KeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    prefix: str
    name: str = ""
    created_at: str = ""


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request comes from: the key's public face and its account."""

    key: KeyInfo
    account: Account


class AdminError(ValueError):
    """An operator command that cannot be carried out; the message says why."""


class Store(Protocol):
    async def authenticate(self, raw_key: str) -> Caller | None: ...

    async def charge(self, account: str, attempt: str, n: int, *, bulk: bool,
                     month: str) -> ChargeResult: ...

    async def refund(self, account: str, attempt: str, month: str) -> bool: ...

    async def used_this_month(self, account: str) -> int: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class Admin(Protocol):
    def set_account(self, account: str, *, plan: str | None = None,
                    monthly_quota: int | None = None, overage: bool | None = None) -> Account: ...

    def get_account(self, account: str) -> Account | None: ...

    def create_key(self, account: str, *, plan: str | None = None, name: str = "") -> str: ...

    def list_keys(self) -> list[KeyInfo]: ...

    def revoke_key(self, key_or_prefix: str) -> KeyInfo: ...

    def rotate_key(self, key_or_prefix: str) -> str: ...

    def usage(self, account: str) -> int: ...
