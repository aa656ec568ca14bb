"""The embedded in-process store: the same contract as Redis, for trying the service out.

State lives in this process only, so the service refuses more than one worker with it. A lock
makes every operation atomic across the event loop and the threads that administer it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from .admin import AdminBase
from .keys import hash_key
from .quota import ATTEMPT_TTL_S, ChargeResult, decide, month_of
from .store import Account, Caller, KeyInfo

__all__ = ["MemoryStore"]


class MemoryStore(AdminBase):
    def __init__(self, *, enterprise_quota: int) -> None:
        self._lock = threading.Lock()
        self._enterprise_quota = enterprise_quota
        self._accounts: dict[str, Account] = {}
        self._keys: dict[str, KeyInfo] = {}
        self._usage: dict[tuple[str, str], int] = {}
        # attempt id -> [expires at, state, n, first answer]
        self._attempts: OrderedDict[tuple[str, str], list[object]] = OrderedDict()

    # -- Store (request path) ------------------------------------------------------------
    async def authenticate(self, raw_key: str) -> Caller | None:
        with self._lock:
            info = self._keys.get(hash_key(raw_key))
            account = info and self._accounts.get(info.account)
            return Caller(key=info, account=account) if info and account else None

    async def charge(self, account: str, attempt: str, n: int, *, bulk: bool,
                     month: str) -> ChargeResult:
        with self._lock:
            self._expire_attempts()
            prior = self._attempts.get((account, attempt))
            if prior is not None:
                return prior[3]  # type: ignore[return-value]
            acct = self._accounts.get(account)
            used = self._usage.get((account, month), 0)
            result = decide(acct.plan if acct else None, acct.monthly_quota if acct else None,
                            acct.overage if acct else None, used, n, bulk, self._enterprise_quota)
            if result.status == "ok":
                self._usage[(account, month)] = result.used
                self._attempts[(account, attempt)] = [
                    time.monotonic() + ATTEMPT_TTL_S, "charged", n, result]
            return result

    async def refund(self, account: str, attempt: str, month: str) -> bool:
        with self._lock:
            rec = self._attempts.get((account, attempt))
            if rec is None or rec[1] != "charged":
                return False
            rec[1] = "refunded"
            key = (account, month)
            self._usage[key] = self._usage.get(key, 0) - int(rec[2])  # type: ignore[call-overload]
            return True

    async def used_this_month(self, account: str) -> int:
        return self.usage(account)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _expire_attempts(self) -> None:
        now = time.monotonic()
        while self._attempts:
            first = next(iter(self._attempts.values()))
            if first[0] > now:  # type: ignore[operator]
                break
            self._attempts.popitem(last=False)

    # -- Admin ---------------------------------------------------------------------------
    def get_account(self, account: str) -> Account | None:
        with self._lock:
            return self._accounts.get(account)

    def usage(self, account: str) -> int:
        with self._lock:
            return self._usage.get((account, month_of()), 0)

    def _put_account(self, account: Account) -> None:
        with self._lock:
            self._accounts[account.id] = account

    def _put_key(self, sha: str, info: KeyInfo) -> None:
        with self._lock:
            self._keys[sha] = info

    def _delete_key(self, sha: str, info: KeyInfo) -> None:
        with self._lock:
            self._keys.pop(sha, None)

    def _all_keys(self) -> list[tuple[str, KeyInfo]]:
        with self._lock:
            return list(self._keys.items())
