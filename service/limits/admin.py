"""Operator rules shared by both stores: accounts, key creation, revocation and rotation.

Each store supplies five primitives; the rules (a new account needs a plan, a key is named by
itself or by an unambiguous prefix, ...) live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timezone

from .keys import ACCOUNT_RE, generate_key, hash_key, key_prefix, looks_like_key
from .plans import PLANS
from .store import Account, AdminError, KeyInfo

__all__ = ["AdminBase"]


class AdminBase(ABC):
    @abstractmethod
    def get_account(self, account: str) -> Account | None: ...

    @abstractmethod
    def _put_account(self, account: Account) -> None: ...

    @abstractmethod
    def _put_key(self, sha: str, info: KeyInfo) -> None: ...

    @abstractmethod
    def _delete_key(self, sha: str, info: KeyInfo) -> None: ...

    @abstractmethod
    def _all_keys(self) -> list[tuple[str, KeyInfo]]: ...

    def set_account(self, account: str, *, plan: str | None = None,
                    monthly_quota: int | None = None, overage: bool | None = None) -> Account:
        if not ACCOUNT_RE.fullmatch(account):
            raise AdminError("account ids are 1 to 64 characters of A-Z a-z 0-9 . _ -")
        current = self.get_account(account)
        if plan is None and current is None:
            raise AdminError(f"account {account!r} does not exist: give it a --plan")
        if plan is not None and plan not in PLANS:
            raise AdminError(f"unknown plan {plan!r}; plans: {', '.join(PLANS)}")
        if monthly_quota is not None and monthly_quota < 0:
            raise AdminError("--monthly-quota must be 0 or more")
        new = Account(
            id=account,
            plan=plan or (current.plan if current else ""),
            monthly_quota=monthly_quota if monthly_quota is not None
            else (current.monthly_quota if current else None),
            overage=overage if overage is not None else (current.overage if current else None),
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
            raise AdminError(f"account {account!r} is on plan {current.plan!r}, not {plan!r}; "
                             "change it with 'qrstudio accounts set'")
        raw = generate_key()
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._put_key(hash_key(raw), KeyInfo(account=account, prefix=key_prefix(raw),
                                             name=name, created_at=created))
        return raw

    def list_keys(self) -> list[KeyInfo]:
        return sorted((info for _, info in self._all_keys()),
                      key=lambda k: (k.account, k.created_at, k.prefix))

    def _find(self, key_or_prefix: str) -> tuple[str, KeyInfo]:
        keys = self._all_keys()
        if looks_like_key(key_or_prefix):
            sha = hash_key(key_or_prefix)
            hits = [(s, i) for s, i in keys if s == sha]
        elif len(key_or_prefix) < 8:
            raise AdminError("name a key by itself or by at least 8 characters of its prefix")
        else:
            hits = [(s, i) for s, i in keys if i.prefix.startswith(key_or_prefix)]
        if not hits:
            raise AdminError(f"no key matches {key_or_prefix!r}")
        if len(hits) > 1:
            raise AdminError(f"{len(hits)} keys match {key_or_prefix!r}; give more characters")
        return hits[0]

    def revoke_key(self, key_or_prefix: str) -> KeyInfo:
        sha, info = self._find(key_or_prefix)
        self._delete_key(sha, info)
        return info

    def rotate_key(self, key_or_prefix: str) -> str:
        """A new key for the same account and name; the old one stops working at once."""
        sha, info = self._find(key_or_prefix)
        raw = self.create_key(info.account, name=info.name)
        self._delete_key(sha, info)
        return raw
