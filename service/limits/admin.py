"""Operator rules shared by both stores: accounts, key creation, revocation and rotation.

Each store supplies five primitives; the rules (a new account needs a plan, a key is named by
itself or by an unambiguous prefix, ...) live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TypeVar, cast

import msgspec

from .check import check_records
from .keys import ACCOUNT_RE, generate_key, hash_key, key_prefix, looks_like_key
from .plans import PLANS
from .store import (
    Account,
    AdminError,
    BadRecord,
    KeyInfo,
    RawRecords,
    account_problems,
    parse_account,
    parse_key,
)

__all__ = ["DEFAULT", "AdminBase"]

DEFAULT = "default"  # set_account(monthly_quota=DEFAULT): back to the plan's


class AdminBase(ABC):
    @abstractmethod
    def _account_fields(self, account: str) -> dict[str, str]: ...

    @abstractmethod
    def _put_account(self, account: Account) -> None: ...

    @abstractmethod
    def _put_key(self, sha: str, info: KeyInfo) -> None: ...

    @abstractmethod
    def _revoke(self, sha: str, info: KeyInfo) -> None:
        """Delete the key's index entry (from then on it answers 401) and keep ``info`` (with
        ``revoked_at``) in its account's listing."""

    @abstractmethod
    def _raw_records(self) -> RawRecords: ...

    def get_account(self, account: str) -> Account | None:
        """The account, None without a record; ``BadRecord`` when a field is unusable."""
        return parse_account(account, self._account_fields(account))

    def _salvage(self, account: str) -> Account | None:
        """What can be kept of a broken record: its usable fields (a bad plan is dropped)."""
        fields = self._account_fields(account)
        for problem in account_problems(account, fields):
            fields.pop(problem.field, None)
        plan = fields.get("plan") or ""
        kept = parse_account(account, {**fields, "plan": plan or "free"})
        return kept and Account(
            id=account, plan=plan, monthly_quota=kept.monthly_quota, overage=kept.overage
        )

    def check_records(self) -> list[str]:
        """Every problem of every account and key record (empty: all usable)."""
        return check_records(self._raw_records())

    def list_accounts(self) -> list[tuple[str, Account | BadRecord | None]]:
        """Every account (registered in ``qs:accounts`` or with a record, keys or not), each
        parsed, or the first problem of its record, or None when it has no record."""
        raw = self._raw_records()
        out: list[tuple[str, Account | BadRecord | None]] = []
        for account in sorted(raw.registered | set(raw.accounts)):
            try:
                out.append((account, parse_account(account, raw.accounts.get(account, {}))))
            except BadRecord as exc:
                out.append((account, exc))
        return out

    def set_account(
        self,
        account: str,
        *,
        plan: str | None = None,
        monthly_quota: int | str | None = None,
        overage: bool | str | None = None,
    ) -> Account:
        """Create or change an account; what is not given is kept, and ``DEFAULT`` puts the
        quota or the overage rule back to the plan's."""
        if not ACCOUNT_RE.fullmatch(account):
            raise AdminError("account ids are 1 to 64 characters of A-Z a-z 0-9 . _ -")
        try:
            current = self.get_account(account)
        except BadRecord as exc:  # repairing a record someone else wrote
            current = self._salvage(account)
            if plan is None and (current is None or not current.plan):
                raise AdminError(f"{exc}: give it a --plan") from None
        if plan is None and current is None:
            raise AdminError(f"account {account!r} does not exist: give it a --plan")
        if plan is not None and plan not in PLANS:
            raise AdminError(f"unknown plan {plan!r}; plans: {', '.join(PLANS)}")
        if isinstance(monthly_quota, int) and not 0 <= monthly_quota < 10**15:
            raise AdminError("--monthly-quota must be a whole number from 0 to 999999999999999")
        new = Account(
            id=account,
            plan=plan or (current.plan if current else ""),
            monthly_quota=_keep(monthly_quota, current.monthly_quota if current else None),
            overage=_keep(overage, current.overage if current else None),
        )
        self._put_account(new)
        return new

    def create_key(self, account: str, *, plan: str | None = None, name: str = "") -> str:
        current = self.get_account(account)
        if current is None:
            if plan is None:
                raise AdminError(f"account {account!r} does not exist: give it a --plan")
            self.set_account(account, plan=plan)
        elif plan is not None and plan != current.plan:
            raise AdminError(
                f"account {account!r} is on plan {current.plan!r}, not {plan!r}; "
                "change it with 'qrstudio accounts set'"
            )
        raw = generate_key()
        created = _now()
        self._put_key(
            hash_key(raw),
            KeyInfo(account=account, prefix=key_prefix(raw), name=name, created_at=created),
        )
        return raw

    def _key_rows(self) -> list[tuple[str, KeyInfo]]:
        """Every listed key; one whose index entry is gone (deleted by another application)
        counts as revoked. Unreadable records are left to ``check_records``."""
        raw = self._raw_records()
        out: list[tuple[str, KeyInfo]] = []
        for keys in raw.listed.values():
            for sha, blob in keys.items():
                try:
                    info = parse_key(sha, blob)
                except BadRecord:
                    continue
                if sha not in raw.index and not info.revoked_at:
                    info = msgspec.structs.replace(info, revoked_at="(index entry deleted)")
                out.append((sha, info))
        return out

    def list_keys(self) -> list[KeyInfo]:
        return sorted(
            (info for _, info in self._key_rows()),
            key=lambda k: (k.account, k.created_at, k.prefix),
        )

    def _find(self, key_or_prefix: str) -> tuple[str, KeyInfo]:
        keys = self._key_rows()
        if looks_like_key(key_or_prefix):
            sha = hash_key(key_or_prefix)
            hits = [(s, i) for s, i in keys if s == sha]
        elif len(key_or_prefix) < 8:
            raise AdminError(
                "name a key by itself or by at least 8 characters of its prefix "
                "(as 'qrstudio keys list' prints it)"
            )
        else:
            hits = [(s, i) for s, i in keys if i.prefix.startswith(key_or_prefix)]
        if len(hits) > 1:  # a revoked key sharing a prefix with a live one: the live one
            hits = [h for h in hits if not h[1].revoked_at] or hits
        if not hits:
            raise AdminError(f"no key matches {key_or_prefix!r} (see 'qrstudio keys list')")
        if len(hits) > 1:
            raise AdminError(f"{len(hits)} keys match {key_or_prefix!r}; give more characters")
        return hits[0]

    def find_key(self, key_or_prefix: str) -> KeyInfo:
        return self._find(key_or_prefix)[1]

    def revoke_key(self, key_or_prefix: str) -> KeyInfo:
        """Revoke a key (a no-op for one already revoked or rotated: its record says when)."""
        sha, info = self._find(key_or_prefix)
        if info.revoked_at:
            return info
        revoked = msgspec.structs.replace(info, revoked_at=_now())
        self._revoke(sha, revoked)
        return revoked

    def rotate_key(self, key_or_prefix: str) -> str:
        """A new key for the same account and name; the old one stops working at once."""
        sha, info = self._find(key_or_prefix)
        if info.revoked_at:
            raise AdminError(
                f"key {info.prefix} was revoked at {info.revoked_at}"
                + (f" (replaced by {info.replaced_by})" if info.replaced_by else "")
                + f"; make a new one with 'qrstudio keys create --account "
                f"{info.account}'"
            )
        raw = self.create_key(info.account, name=info.name)
        self._revoke(
            sha, msgspec.structs.replace(info, revoked_at=_now(), replaced_by=key_prefix(raw))
        )
        return raw


_T = TypeVar("_T")


def _keep(value: _T | str | None, current: _T | None) -> _T | None:
    """A changed setting: None keeps the current one, ``DEFAULT`` clears it (the plan's)."""
    if value is None:
        return current
    return None if value == DEFAULT else cast(_T, value)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
