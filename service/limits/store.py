"""One store interface, two implementations: Redis (``redis_store``) and embedded (``memory``).

``Store`` is what a request needs (async, on the hot path); ``Admin`` is what operators and the
``qrstudio`` command need (sync). Both implementations provide both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from .quota import ChargeResult

__all__ = ["Account", "Admin", "AdminError", "Caller", "CodeRecord", "KeyInfo", "NewCode", "Scan",
           "Store", "code_record"]


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
    plan: str = ""  # a key's own plan, at most its account's ("": the account's)


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request comes from: the key's public face and its account."""

    key: KeyInfo
    account: Account


class NewCode(msgspec.Struct, frozen=True):
    """A dynamic QR code a charge creates."""

    short_id: str
    name: str
    destination_url: str


class Scan(msgspec.Struct, frozen=True):
    at: str  # ISO 8601, UTC
    day: str  # YYYY-MM-DD
    month: str  # YYYYMM
    agent: str  # user-agent family
    referrer: str  # host, or ""
    entry: str  # JSON line kept in the recent scans list


class CodeRecord(msgspec.Struct, kw_only=True):
    account: str
    id: int
    short_id: str
    name: str
    destination_url: str
    is_active: bool
    scan_count: int = 0
    last_scanned_at: str | None = None
    destination_changes_count: int = 0
    created_at: str = ""
    updated_at: str = ""
    days: dict[str, int] = {}
    months: dict[str, int] = {}
    agents: dict[str, int] = {}
    referrers: dict[str, int] = {}
    recent: list[str] = []


def code_record(fields: dict[str, str], referrers: dict[str, int],
                recent: list[str]) -> CodeRecord:
    """A code from its stored fields (the layout both stores share)."""
    days, months, agents = {}, {}, {}
    for key, value in fields.items():
        if key.startswith("d:"):
            days[key[2:]] = int(value)
        elif key.startswith("m:"):
            months[key[2:]] = int(value)
        elif key.startswith("u:"):
            agents[key[2:]] = int(value)
    return CodeRecord(
        account=fields["account"], id=int(fields["id"]), short_id=fields["short_id"],
        name=fields["name"], destination_url=fields["destination_url"],
        is_active=fields.get("is_active") == "1", scan_count=int(fields.get("scan_count", 0)),
        last_scanned_at=fields.get("last_scanned_at") or None,
        destination_changes_count=int(fields.get("destination_changes_count", 0)),
        created_at=fields.get("created_at", ""), updated_at=fields.get("updated_at", ""),
        days=days, months=months, agents=agents, referrers=referrers, recent=recent)


class AdminError(ValueError):
    """An operator command that cannot be carried out; the message says why."""


class Store(Protocol):
    async def authenticate(self, raw_key: str) -> Caller | None: ...

    async def charge(self, account: str, attempt: str, n: int, *, bulk: bool, month: str,
                     codes: Sequence[NewCode] = ()) -> ChargeResult: ...

    async def refund(self, account: str, attempt: str, month: str,
                     codes: Sequence[str] = ()) -> bool: ...

    async def settle(self, account: str, attempt: str, *, alive: bool = False) -> bool: ...

    async def sweep(self, older_than_s: float) -> int: ...

    async def resolve(self, short_id: str, scan: Scan) -> tuple[str, str]: ...

    async def list_codes(self, account: str, offset: int,
                         limit: int) -> tuple[int, list[CodeRecord]]: ...

    async def get_code(self, account: str, short_id: str) -> CodeRecord | None: ...

    async def update_code(self, account: str, short_id: str, *, name: str, destination: str,
                          is_active: bool | None, edit_limit: int,
                          max_active: int) -> tuple[str, int]: ...

    async def delete_code(self, account: str, short_id: str) -> bool: ...

    async def active_codes(self, account: str) -> int: ...

    async def idem_claim(self, account: str, key: str, body: str) -> tuple[str, str]: ...

    async def idem_finish(self, account: str, key: str, body: str, record: str) -> None: ...

    async def idem_release(self, account: str, key: str) -> None: ...

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
