"""The embedded in-process store: the same contract as Redis, for trying the service out.

State lives in this process only, so the service refuses more than one worker with it. A lock
makes every operation atomic across the event loop and the threads that administer it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from ..webhooks import events
from ..webhooks.memory_hooks import MemoryHooks
from .admin import AdminBase
from .keyring import KeyRow
from .keys import hash_key
from .quota import ATTEMPT_TTL_S, ChargeResult, decide, month_of
from .redis_store import IDEM_TTL_S, RECENT_SCANS, REFERRER_HOSTS
from .store import (
    Account,
    Caller,
    CodeRecord,
    KeyInfo,
    NewCode,
    RawRecords,
    Scan,
    code_record,
    parse_account,
    utc_z,
)

__all__ = ["MemoryStore"]


class _Attempt(msgspec.Struct):
    """A charge attempt, as charge.lua and refund.lua keep it, until ``expires``
    (monotonic): ``touched`` is the wall clock of the charge or of its last "alive" settle
    (the sweeper refunds a charged attempt untouched too long)."""

    expires: float
    state: str  # charged, refunded, done, or void (refunded before it was charged)
    n: int = 0
    result: ChargeResult | None = None  # the first answer, returned to a retry
    touched: float = 0.0
    month: str = ""
    codes: list[str] = msgspec.field(default_factory=list)


class _Claim(msgspec.Struct):
    """An idempotency key's record until ``expires`` (monotonic)."""

    expires: float
    state: str  # inflight or done
    body: str  # the request's fingerprint
    record: str = ""  # the stored answer, once done


class MemoryStore(AdminBase):
    def __init__(self, *, enterprise_quota: int) -> None:
        self._lock = threading.Lock()
        self._enterprise_quota = enterprise_quota
        # account id -> its fields as Redis would hold them (parse_account reads both alike)
        self._accounts: dict[str, dict[str, str]] = {}
        self._keys: dict[str, KeyInfo] = {}  # the index: what authenticates
        self._listed: dict[str, KeyInfo] = {}  # every key, revoked ones included
        self._usage: dict[tuple[str, str], int] = {}
        self._codes: dict[str, dict[str, str]] = {}
        self._refs: dict[str, dict[str, int]] = {}
        self._recent: dict[str, deque[str]] = {}
        self._index: dict[str, dict[str, float]] = {}
        self._active: dict[str, int] = {}
        self._seq: dict[str, int] = {}
        self._idem: dict[tuple[str, str], _Claim] = {}
        self._hits: dict[tuple[str, int], int] = {}  # (key prefix, second) -> requests
        self._attempts: OrderedDict[tuple[str, str], _Attempt] = OrderedDict()  # by expiry
        self._revoked: dict[str, tuple[KeyInfo, str]] = {}  # sha -> (key, revoked at)
        self._key_used: dict[str, str] = {}  # sha -> last used at
        self.hooks = MemoryHooks(
            self._attempt_state,  # webhooks: subscriptions, queue, jobs
            lambda a: acct.plan if (acct := self.get_account(a)) else None,
        )
        self._marks: dict[tuple[str, int], str] = {}  # (account, 75|100) -> month decided

    # -- Store (request path) ------------------------------------------------------------
    async def authenticate(self, raw_key: str) -> Caller | None:
        with self._lock:
            info = self._keys.get(hash_key(raw_key))
            if info is None:
                return None
            account = parse_account(info.account, self._account_row(info.account))
            return Caller(key=info, account=account) if account else None

    async def charge(
        self,
        account: str,
        attempt: str,
        n: int,
        *,
        bulk: bool,
        month: str,
        codes: Sequence[NewCode] = (),
    ) -> ChargeResult:
        with self._lock:
            self._expire_attempts()
            prior = self._attempts.get((account, attempt))
            if prior is not None:
                if prior.result is None:  # void
                    return ChargeResult("void", "", 0, 0)
                return prior.result
            acct = parse_account(account, self._account_row(account))  # BadRecord: refused
            used = self._usage.get((account, month), 0)
            active = self._active.get(account, 0)
            result = decide(
                acct.plan if acct else None,
                acct.monthly_quota if acct else None,
                acct.overage if acct else None,
                used,
                n,
                bulk,
                self._enterprise_quota,
                active=active,
                new_codes=len(codes),
            )
            if result.status == "ok" and any(c.short_id in self._codes for c in codes):
                return msgspec.structs.replace(result, status="collision", used=used, active=active)
            if result.status == "ok":
                self._usage[(account, month)] = result.used
                now = utc_z(datetime.now(UTC).isoformat(timespec="seconds"))
                for c in codes:
                    self._seq[account] = self._seq.get(account, 0) + 1
                    self._codes[c.short_id] = {
                        "account": account,
                        "id": str(self._seq[account]),
                        "short_id": c.short_id,
                        "name": c.name,
                        "destination_url": c.destination_url,
                        "is_active": "1",
                        "scan_count": "0",
                        "destination_changes_count": "0",
                        "created_at": now,
                        "updated_at": now,
                    }
                    self._index.setdefault(account, {})[c.short_id] = time.time()
                self._active[account] = result.active
                self._emit_charge(account, attempt, month, n, result, codes, now)
                self._attempts[(account, attempt)] = _Attempt(
                    time.monotonic() + ATTEMPT_TTL_S,
                    "charged",
                    n,
                    result,
                    time.time(),
                    month,
                    [c.short_id for c in codes],
                )
            return result

    def _emit_charge(
        self,
        account: str,
        attempt: str,
        month: str,
        n: int,
        result: ChargeResult,
        codes: Sequence[NewCode],
        now: str,
    ) -> None:
        """charge.lua's events (under the lock): quota thresholds, then the codes created."""
        if n > 0:
            for kind, data in events.thresholds(
                self._marks, account, result.plan, result.quota, result.used, month
            ):
                self.hooks.enqueue(account, kind, now, data, if_wanted=True)
        for c in codes:
            self.hooks.enqueue(
                account,
                "dynamic_qr.created",
                now,
                events.code_created(self._codes[c.short_id]),
                attempt=attempt,
                if_wanted=True,
            )

    def _attempt_state(self, account: str, attempt: str) -> str | None:
        with self._lock:
            rec = self._attempts.get((account, attempt))
            return rec.state if rec else None

    async def refund(
        self, account: str, attempt: str, month: str, codes: Sequence[str] = ()
    ) -> bool:
        with self._lock:
            rec = self._attempts.get((account, attempt))
            if rec is None:  # void it: a charge arriving late changes nothing
                self._attempts[(account, attempt)] = _Attempt(
                    time.monotonic() + ATTEMPT_TTL_S, "void"
                )
                return False
            if rec.state != "charged":
                return False
            rec.state = "refunded"
            key = (account, month)
            self._usage[key] = self._usage.get(key, 0) - rec.n
            for short_id in codes:
                self._drop(account, short_id)
            return True

    async def settle(self, account: str, attempt: str, *, alive: bool = False) -> bool:
        with self._lock:
            rec = self._attempts.get((account, attempt))
            if rec is None or rec.state != "charged":
                return False
            if alive:
                rec.touched = time.time()
            else:
                rec.state = "done"
            return True

    async def sweep(self, older_than_s: float) -> int:
        cutoff = time.time() - older_than_s
        with self._lock:
            stale = [
                (key, rec)
                for key, rec in self._attempts.items()
                if rec.state == "charged" and rec.touched <= cutoff
            ]
        swept = 0
        for (account, attempt), rec in stale:
            swept += await self.refund(account, attempt, rec.month, rec.codes)
        return swept

    def _drop(self, account: str, short_id: str) -> bool:
        code = self._codes.get(short_id)
        if code is None or code["account"] != account:
            return False
        if code["is_active"] == "1":
            self._active[account] -= 1
        del self._codes[short_id]
        self._refs.pop(short_id, None)
        self._recent.pop(short_id, None)
        self._index.get(account, {}).pop(short_id, None)
        return True

    async def resolve(self, short_id: str, scan: Scan) -> tuple[str, str]:
        with self._lock:
            code = self._codes.get(short_id)
            if code is None:
                return "missing", ""
            code["scan_count"] = str(int(code["scan_count"]) + 1)
            code["last_scanned_at"] = scan.at
            for field in (f"d:{scan.day}", f"m:{scan.month}", f"u:{scan.agent}"):
                code[field] = str(int(code.get(field, "0")) + 1)
            if scan.referrer:
                refs = self._refs.setdefault(short_id, {})
                host = (
                    scan.referrer
                    if scan.referrer in refs or len(refs) < REFERRER_HOSTS
                    else "(other)"
                )
                refs[host] = refs.get(host, 0) + 1
            self._recent.setdefault(short_id, deque(maxlen=RECENT_SCANS)).appendleft(scan.entry)
            self.hooks.enqueue(
                code["account"],
                "scan.created",
                scan.at,
                events.scan_created(code, scan),
                if_wanted=True,
            )
            return ("ok" if code["is_active"] == "1" else "paused"), code["destination_url"]

    async def peek(self, short_id: str) -> tuple[str, str]:
        with self._lock:
            code = self._codes.get(short_id)
            if code is None:
                return "missing", ""
            return ("ok" if code["is_active"] == "1" else "paused"), code["destination_url"]

    async def idem_claim(self, account: str, key: str, body: str) -> tuple[str, str]:
        with self._lock:
            now = time.monotonic()
            if len(self._idem) > 10_000:  # bounded: drop the expired ones
                self._idem = {k: v for k, v in self._idem.items() if v.expires >= now}
            found = self._idem.get((account, key))
            if found is None or found.expires < now:
                self._idem[(account, key)] = _Claim(now + IDEM_TTL_S, "inflight", body)
                return "claimed", ""
            if found.body != body:
                return "mismatch", ""
            if found.state != "done":
                return "inflight", ""
            return "done", found.record

    async def idem_finish(self, account: str, key: str, body: str, record: str) -> None:
        with self._lock:
            found = self._idem.get((account, key))
            expires = found.expires if found else time.monotonic() + IDEM_TTL_S
            self._idem[(account, key)] = _Claim(expires, "done", body, record)

    async def idem_release(self, account: str, key: str) -> None:
        with self._lock:
            self._idem.pop((account, key), None)

    def _record(self, short_id: str) -> CodeRecord:
        return code_record(
            dict(self._codes[short_id]),
            dict(self._refs.get(short_id, {})),
            list(self._recent.get(short_id, ())),
        )

    async def list_codes(
        self, account: str, offset: int, limit: int
    ) -> tuple[int, list[CodeRecord]]:
        with self._lock:
            index = self._index.get(account, {})
            ids = sorted(index, key=index.__getitem__, reverse=True)
            return len(ids), [self._record(i) for i in ids[offset : offset + limit]]

    async def get_code(self, account: str, short_id: str) -> CodeRecord | None:
        with self._lock:
            code = self._codes.get(short_id)
            return self._record(short_id) if code and code["account"] == account else None

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
    ) -> tuple[str, int]:
        with self._lock:
            code = self._codes.get(short_id)
            if code is None or code["account"] != account:
                return "missing", 0
            edits = int(code["destination_changes_count"])
            changes = bool(destination) and destination != code["destination_url"]
            if changes and 0 <= edit_limit <= edits:
                return "edit_limit", edits
            active = self._active.get(account, 0)
            changed: list[str] = []
            if is_active and code["is_active"] != "1":
                if 0 <= max_active < active + 1:
                    return "dynamic_cap", active
                self._active[account] = active + 1
                code["is_active"] = "1"
                changed.append("is_active")
            elif is_active is False and code["is_active"] == "1":
                self._active[account] = active - 1
                code["is_active"] = "0"
                changed.append("is_active")
            if name:
                if name != code["name"]:
                    changed.append("name")
                code["name"] = name
            if changes:
                code["destination_url"] = destination
                code["destination_changes_count"] = str(edits + 1)
                changed.append("destination_url")
            code["updated_at"] = utc_z(datetime.now(UTC).isoformat(timespec="seconds"))
            if changed:
                self.hooks.enqueue(
                    account,
                    "dynamic_qr.updated",
                    code["updated_at"],
                    events.code_updated(code, changed),
                    if_wanted=True,
                )
            return "ok", 0

    async def delete_code(self, account: str, short_id: str) -> bool:
        with self._lock:
            return self._drop(account, short_id)

    async def active_codes(self, account: str) -> int:
        with self._lock:
            return self._active.get(account, 0)

    async def hit(self, account: str, key_prefix: str, second: int) -> int:
        with self._lock:
            if len(self._hits) > 10_000:
                self._hits = {k: v for k, v in self._hits.items() if k[1] >= second - 1}
            count = self._hits.get((key_prefix, second), 0) + 1
            self._hits[(key_prefix, second)] = count
            return count

    async def used_this_month(self, account: str) -> int:
        return self.usage(account)

    # -- keys over HTTP (service/keys_api.py) ---------------------------------------------
    async def account_of(self, account: str) -> Account | None:
        return self.get_account(account)

    async def account_keys(self, account: str) -> list[KeyRow]:
        with self._lock:
            rows = [
                KeyRow(sha=sha, info=info, last_used_at=self._key_used.get(sha))
                for sha, info in self._keys.items()
                if info.account == account
            ]
            rows += [
                KeyRow(sha=sha, info=info, last_used_at=self._key_used.get(sha), revoked_at=at)
                for sha, (info, at) in self._revoked.items()
                if info.account == account
            ]
            return rows

    async def add_key(self, sha: str, info: KeyInfo) -> None:
        self._put_key(sha, info)

    async def revoke_account_key(self, account: str, sha: str, at: str) -> bool:
        with self._lock:
            info = self._keys.get(sha)
            if info is None or info.account != account:
                return False
            del self._keys[sha]
            self._revoked[sha] = (info, at)
            return True

    async def touch_key(self, account: str, sha: str, at: str) -> None:
        with self._lock:
            self._key_used[sha] = at

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _expire_attempts(self) -> None:
        now = time.monotonic()
        while self._attempts:
            first = next(iter(self._attempts.values()))
            if first.expires > now:
                break
            self._attempts.popitem(last=False)

    def _account_row(self, account: str) -> dict[str, str]:
        row = dict(self._accounts.get(account, {}))
        if account in self._active:
            row["active_codes"] = str(self._active[account])
        return row

    # -- Admin ---------------------------------------------------------------------------
    def _account_fields(self, account: str) -> dict[str, str]:
        with self._lock:
            return self._account_row(account)

    def put_account_fields(self, account: str, fields: dict[str, str]) -> None:
        """Write an account's fields as another application could write the Redis hash."""
        with self._lock:
            self._accounts.setdefault(account, {}).update(fields)

    def _raw_records(self) -> RawRecords:
        with self._lock:
            listed: dict[str, dict[str, bytes]] = {}
            for sha, info in self._listed.items():
                listed.setdefault(info.account, {})[sha] = msgspec.json.encode(info)
            return RawRecords(
                registered=set(self._accounts),
                accounts={a: self._account_row(a) for a in self._accounts},
                index={sha: msgspec.json.encode(i) for sha, i in self._keys.items()},
                listed=listed,
            )

    def usage(self, account: str) -> int:
        with self._lock:
            return self._usage.get((account, month_of()), 0)

    def _put_account(self, account: Account) -> None:
        with self._lock:
            self._accounts.setdefault(account.id, {}).update(
                plan=account.plan,
                monthly_quota="" if account.monthly_quota is None else str(account.monthly_quota),
                overage="" if account.overage is None else ("1" if account.overage else "0"),
            )

    def _put_key(self, sha: str, info: KeyInfo) -> None:
        with self._lock:
            self._keys[sha] = info
            self._listed[sha] = info

    def _revoke(self, sha: str, info: KeyInfo) -> None:
        with self._lock:
            self._keys.pop(sha, None)
            self._listed[sha] = info
