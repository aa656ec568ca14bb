"""One store interface, two implementations: Redis (``redis_store``) and embedded (``memory``).

``Store`` is what a request needs (async, on the hot path); ``Admin`` is what operators and the
``qrstudio`` command need (sync). Both implementations provide both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, overload

import msgspec

from .keys import ACCOUNT_RE
from .plans import PLANS
from .quota import ChargeResult

__all__ = [
    "ACCOUNT_FIELDS",
    "Account",
    "Admin",
    "AdminError",
    "BadRecord",
    "Caller",
    "CodeRecord",
    "KeyInfo",
    "NewCode",
    "RawRecords",
    "Scan",
    "Store",
    "account_problems",
    "code_record",
    "parse_account",
    "parse_key",
]


class Account(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    plan: str
    monthly_quota: int | None = None  # per-account override of the plan's quota
    overage: bool | None = None  # per-account override of the plan's overage rule


class KeyInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    account: str
    prefix: str
    name: str = ""
    created_at: str = ""
    plan: str = ""  # a key's own plan, at most its account's ("": the account's)
    # Kept in the account's keys hash after revocation, so that the prefix still names it
    # (``keys revoke`` after ``keys rotate``); the index entry is gone, so it answers 401.
    revoked_at: str = ""
    replaced_by: str = ""  # the prefix of the key a rotation made


class BadRecord(ValueError):
    """A stored account or key record the service cannot use: written by another application
    (the README's key schema invites the gateway's to), or by hand. Requests for that account
    are refused with a message naming the field (errors.py); ``qrstudio accounts check`` lists
    every such problem."""

    def __init__(self, kind: str, ident: str, field: str, value: str | None, expected: str) -> None:
        self.kind, self.ident, self.field, self.value = kind, ident, field, value
        self.found = "missing" if value is None else f"{value[:40]!r}"
        self.expected = expected
        super().__init__(f"{kind} {ident!r}: {field} is {self.found}; expected {expected}")

    def public(self) -> str:
        """The client's message: which field of its own record, and who can fix it."""
        whose = "account" if self.kind == "account" else "API key"
        return (
            f"This {whose}'s record cannot be used: {self.field} is {self.found} "
            f"(expected {self.expected}). Nothing was charged; the service's operator must "
            "correct it ('qrstudio accounts check' lists every such record)."
        )


# What the account hash may hold, and what each field must look like. The plan is required
# (unless the hash is empty: no account); the rest may be absent.
_INT = re.compile(r"[0-9]{1,15}")  # exact in Lua's doubles too
_SIGNED = re.compile(r"-?[0-9]{1,15}")
ACCOUNT_FIELDS = ("plan", "monthly_quota", "overage", "active_codes", "code_seq")
_EXPECTED = {
    "plan": "one of " + ", ".join(PLANS),
    "monthly_quota": "a whole number of 0 or more, or empty for the plan's quota",
    "overage": "'1', '0', or empty for the plan's rule",
    "active_codes": "a whole number (kept by the service's scripts)",
    "code_seq": "a whole number (kept by the service's scripts)",
}


def _text(value: str | bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def account_problems(account: str, fields: Mapping[str, str | bytes | None]) -> list[BadRecord]:
    """Every field of an account hash the service could not use (empty: the record is fine,
    or there is no record)."""
    got = {k: _text(fields.get(k)) for k in ACCOUNT_FIELDS}
    problems: list[BadRecord] = []

    def bad(field: str) -> None:
        problems.append(BadRecord("account", account, field, got[field], _EXPECTED[field]))

    if not got["plan"]:
        if any(v not in (None, "") for v in got.values()):
            bad("plan")
    elif got["plan"] not in PLANS:
        bad("plan")
    if got["monthly_quota"] not in (None, "") and not _INT.fullmatch(got["monthly_quota"] or ""):
        bad("monthly_quota")
    if got["overage"] not in (None, "", "1", "0"):
        bad("overage")
    for field in ("active_codes", "code_seq"):
        if got[field] is not None and not _SIGNED.fullmatch(got[field] or ""):
            bad(field)
    return problems


def parse_account(account: str, fields: Mapping[str, str | bytes | None]) -> Account | None:
    """The one reading of an account hash (both stores): None when there is no account,
    ``BadRecord`` (the first problem) when a field is unusable."""
    problems = account_problems(account, fields)
    if problems:
        raise problems[0]
    plan, quota, overage = (_text(fields.get(k)) for k in ACCOUNT_FIELDS[:3])
    if not plan:
        return None
    return Account(
        id=account,
        plan=plan,
        monthly_quota=int(quota) if quota else None,
        overage=None if not overage else overage == "1",
    )


_key_info = msgspec.json.Decoder(KeyInfo)


def parse_key(sha: str, blob: bytes) -> KeyInfo:
    """A key record (``qs:apikey:*`` and the account's ``keys`` hash), or ``BadRecord``."""
    ident = f"sha256 {sha[:12]}"
    try:
        info = _key_info.decode(blob)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRecord(
            "key",
            ident,
            "JSON",
            _text(blob[:40]),
            f"JSON {{account, prefix, name, created_at}} ({exc})",
        ) from None
    if not ACCOUNT_RE.fullmatch(info.account):
        raise BadRecord(
            "key", ident, "account", info.account, "1-64 characters of A-Z a-z 0-9 . _ -"
        )
    return info


class RawRecords(msgspec.Struct, kw_only=True):
    """Every account and key record as stored, for ``qrstudio accounts check``."""

    registered: set[str]  # qs:accounts
    accounts: dict[str, dict[str, str]]  # every account hash found, by id
    index: dict[str, bytes]  # qs:apikey:<sha> -> blob
    listed: dict[str, dict[str, bytes]]  # account -> its keys hash (sha -> blob)


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


def code_record(fields: dict[str, str], referrers: dict[str, int], recent: list[str]) -> CodeRecord:
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
        account=fields["account"],
        id=int(fields["id"]),
        short_id=fields["short_id"],
        name=fields["name"],
        destination_url=fields["destination_url"],
        is_active=fields.get("is_active") == "1",
        scan_count=int(fields.get("scan_count", 0)),
        last_scanned_at=fields.get("last_scanned_at") or None,
        destination_changes_count=int(fields.get("destination_changes_count", 0)),
        created_at=fields.get("created_at", ""),
        updated_at=fields.get("updated_at", ""),
        days=days,
        months=months,
        agents=agents,
        referrers=referrers,
        recent=recent,
    )


class AdminError(ValueError):
    """An operator command that cannot be carried out; the message says why."""


class Store(Protocol):
    async def authenticate(self, raw_key: str) -> Caller | None: ...

    async def charge(
        self,
        account: str,
        attempt: str,
        n: int,
        *,
        bulk: bool,
        month: str,
        codes: Sequence[NewCode] = (),
    ) -> ChargeResult: ...

    async def refund(
        self, account: str, attempt: str, month: str, codes: Sequence[str] = ()
    ) -> bool: ...

    async def settle(self, account: str, attempt: str, *, alive: bool = False) -> bool: ...

    async def sweep(self, older_than_s: float) -> int: ...

    async def resolve(self, short_id: str, scan: Scan) -> tuple[str, str]: ...

    async def peek(self, short_id: str) -> tuple[str, str]:
        """What ``resolve`` would answer ("ok", "paused", "missing"; the destination), without
        counting a scan (HEAD)."""
        ...

    async def list_codes(
        self, account: str, offset: int, limit: int
    ) -> tuple[int, list[CodeRecord]]: ...

    async def get_code(self, account: str, short_id: str) -> CodeRecord | None: ...

    async def update_code(
        self,
        account: str,
        short_id: str,
        *,
        name: str,
        destination: str,
        is_active: bool | None,
        edit_limit: int,
        max_active: int,
    ) -> tuple[str, int]: ...

    async def delete_code(self, account: str, short_id: str) -> bool: ...

    async def active_codes(self, account: str) -> int: ...

    async def idem_claim(self, account: str, key: str, body: str) -> tuple[str, str]: ...

    async def idem_finish(self, account: str, key: str, body: str, record: str) -> None: ...

    async def idem_release(self, account: str, key: str) -> None: ...

    async def used_this_month(self, account: str) -> int: ...

    async def hit(self, account: str, key_prefix: str, second: int) -> int:
        """Count one request of this key in this second (a unix time); the count so far."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class Admin(Protocol):
    def set_account(
        self,
        account: str,
        *,
        plan: str | None = None,
        monthly_quota: int | None = None,
        overage: bool | None = None,
    ) -> Account: ...

    def get_account(self, account: str) -> Account | None: ...

    def list_accounts(self) -> list[tuple[str, Account | BadRecord | None]]: ...

    def check_records(self) -> list[str]: ...

    def create_key(self, account: str, *, plan: str | None = None, name: str = "") -> str: ...

    def list_keys(self) -> list[KeyInfo]: ...

    def find_key(self, key_or_prefix: str) -> KeyInfo: ...

    def revoke_key(self, key_or_prefix: str) -> KeyInfo: ...

    def rotate_key(self, key_or_prefix: str) -> str: ...

    def usage(self, account: str) -> int: ...


@overload
def utc_z(stamp: str) -> str: ...
@overload
def utc_z(stamp: None) -> None: ...
def utc_z(stamp: str | None) -> str | None:
    """A stored UTC timestamp as the product writes them: ``...T12:00:00Z``. (Records written
    before this carry ``+00:00``; they are shown the same way, in the API and in events.)"""
    if stamp and stamp.endswith("+00:00"):
        return stamp[:-6] + "Z"
    return stamp
