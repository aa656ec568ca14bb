"""The Redis store. Key schema (documented in the README for the gateway's provisioning):

    qs:apikey:<sha256 of the raw key>   string, JSON KeyInfo {account, prefix, name, created_at}
    qs:accounts                          set of account ids
    qs:{<acct>}:account                  hash {plan, monthly_quota?, overage? "1"|"0"}
    qs:{<acct>}:keys                     hash sha256 -> JSON KeyInfo (for listing)
    qs:{<acct>}:usage:<YYYYMM>           integer, credits used in that UTC month
    qs:{<acct>}:attempt:<id>             JSON {s: charged|refunded, n, r}, 2 days
    qs:{<acct>}:codes                    zset short_id -> created (ms): the account's codes
    qs:{<acct>}:idem:<sha256>            JSON {s: inflight|done, h: body sha256, r: record}, 24 h
    qs:{<tok>}:q:<short_id>              hash: one dynamic QR code and its scan counters
    qs:{<tok>}:q:<short_id>:ref          hash referrer host -> scans (at most 100 hosts)
    qs:{<tok>}:q:<short_id>:recent       list of the last 100 scans (JSON)

(``<tok>``, the short id's first 3 characters, hashes to the account's slot: shortid.py.)

Every per-account key carries the hash tag ``{acct}``, so every script's keys sit in one slot
and the scripts run on Redis Cluster too (``cluster=True``: redis-py's cluster client). The API
key index is global by nature (the account is not known yet).

Every call is bounded by the deadline (``QRSTUDIO_REDIS_TIMEOUT_S``), whatever the client does
inside it; those safe to repeat are re-sent once on a dropped connection (``redis_conn``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

import msgspec
import redis
from redis.exceptions import RedisClusterException

from ..webhooks.queue import RedisHooks, event_keys
from .admin import AdminBase
from .keyring import KeyRow
from .keys import hash_key
from .plans import plan_table_json
from .quota import ATTEMPT_TTL_S, ChargeResult, month_of, usage_ttl_s
from .redis_checks import durability_problems
from .redis_conn import again, as_redis_error, async_client, sync_client
from .shortid import code_key, slot_of
from .store import (
    ACCOUNT_FIELDS,
    Account,
    BadRecord,
    Caller,
    CodeRecord,
    KeyInfo,
    NewCode,
    RawRecords,
    Scan,
    code_record,
    parse_account,
    parse_key,
    utc_z,
)

__all__ = ["RECENT_SCANS", "REFERRER_HOSTS", "RedisAdmin", "RedisStore", "account_key", "usage_key"]

log = logging.getLogger("qrstudio.store")
RECENT_SCANS = 100
IDEM_TTL_S = 24 * 3600
REFERRER_HOSTS = 100

_key_info = msgspec.json.Decoder(KeyInfo)
T = TypeVar("T")


def _lua(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def account_key(account: str) -> str:
    return f"qs:{{{account}}}:account"


def usage_key(account: str, month: str | None = None) -> str:
    return f"qs:{{{account}}}:usage:{month or month_of()}"


def idem_key(account: str, key: str) -> str:
    return f"qs:{{{account}}}:idem:{key}"


def codes_key(account: str) -> str:
    return f"qs:{{{account}}}:codes"


def attempt_key(account: str, attempt: str) -> str:
    return f"qs:{{{account}}}:attempt:{attempt}"


def _account_from(account: str, fields: list[Any]) -> Account | None:
    """``HMGET account_key ACCOUNT_FIELDS`` read by the one parser (store.parse_account)."""
    return parse_account(account, dict(zip(ACCOUNT_FIELDS, fields)))


class RedisStore:
    """The request path's view of Redis (one instance, or a cluster): every call bounded."""

    def __init__(
        self, url: str, *, enterprise_quota: int, timeout_s: float, cluster: bool = False
    ) -> None:
        self._redis = async_client(url, timeout_s=timeout_s, cluster=cluster)
        self._cluster = cluster
        self._deadline = timeout_s
        self._charge = self._redis.register_script(_lua("charge.lua"))
        self._refund = self._redis.register_script(_lua("refund.lua"))
        self._scan = self._redis.register_script(_lua("scan.lua"))
        self._update = self._redis.register_script(_lua("code_update.lua"))
        self._delete = self._redis.register_script(_lua("code_delete.lua"))
        self._idem = self._redis.register_script(_lua("idem.lua"))
        self._settle = self._redis.register_script(_lua("settle.lua"))
        self._plans = plan_table_json(enterprise_quota)
        self.hooks = RedisHooks(self._redis)  # webhooks: subscriptions, queue, jobs

    async def _once(self, call: Callable[[], Awaitable[T]], *, repeat: bool = False) -> T:
        """One store call within the deadline; ``repeat``: safe to re-send (``again``)."""
        try:
            async with asyncio.timeout(self._deadline):
                return await (again(lambda: self._client(call)) if repeat else self._client(call))
        except TimeoutError as exc:  # the deadline, not a socket timeout (redis.TimeoutError)
            raise redis.TimeoutError(f"no answer from Redis within {self._deadline} s") from exc

    async def _client(self, call: Callable[[], Awaitable[T]]) -> T:
        """Only the client runs inside ``call`` (arguments are built, replies decoded outside).
        On a cluster its own failures are store failures too: RedisClusterException (no node
        reachable, slot not covered), and the errors of redis-py's async cluster client racing
        itself during a failover (a connection closed under a command in flight, seen as
        ``'NoneType' object has no attribute 'writelines'``)."""
        try:
            return await call()
        except redis.RedisError:
            raise
        except Exception as exc:
            if not self._cluster and not isinstance(exc, RedisClusterException):
                raise
            log.warning("Redis Cluster client failed: %s: %s", type(exc).__name__, exc)
            if isinstance(exc, RedisClusterException):
                raise as_redis_error(exc) from exc
            raise redis.ConnectionError(f"Redis Cluster client: {type(exc).__name__}") from exc

    async def _safe(self, call: Callable[[], Awaitable[T]]) -> T:
        return await self._once(call, repeat=True)

    async def authenticate(self, raw_key: str) -> Caller | None:
        blob = await self._safe(lambda: self._redis.get(f"qs:apikey:{hash_key(raw_key)}"))
        if blob is None:
            return None
        info = parse_key(hash_key(raw_key), blob)
        fields = await self._safe(
            lambda: self._redis.hmget(account_key(info.account), *ACCOUNT_FIELDS)
        )
        account = _account_from(info.account, fields)
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
        now = datetime.now(UTC)
        args: list[Any] = [
            n,
            self._plans,
            usage_ttl_s(),
            ATTEMPT_TTL_S,
            "1" if bulk else "0",
            account,
            utc_z(now.isoformat(timespec="seconds")),
            int(now.timestamp() * 1000),
        ]
        for c in codes:
            args += [c.name, c.destination_url]
        keys = [
            account_key(account),
            usage_key(account, month),
            attempt_key(account, attempt),
            codes_key(account),
            *event_keys(account),
            *(code_key(c.short_id) for c in codes),
        ]
        # idempotent per attempt id: a re-sent charge returns the first answer
        raw = await self._safe(lambda: self._charge(keys=keys, args=args))
        status, plan, used, quota, active, max_active = raw
        if status == b"bad_account":  # changed since authenticate() read it: name the field
            _account_from(
                account,
                await again(lambda: self._redis.hmget(account_key(account), *ACCOUNT_FIELDS)),
            )
            raise BadRecord("account", account, plan.decode(), None, "a usable value")
        return ChargeResult(
            status.decode(), plan.decode(), int(used), int(quota), int(active), int(max_active)
        )

    async def refund(
        self, account: str, attempt: str, month: str, codes: Sequence[str] = ()
    ) -> bool:
        keys = [
            attempt_key(account, attempt),
            usage_key(account, month),
            account_key(account),
            codes_key(account),
        ]
        for short_id in codes:
            key = code_key(short_id)
            keys += [key, f"{key}:ref", f"{key}:recent"]
        args = [account, ATTEMPT_TTL_S]
        return bool(await self._safe(lambda: self._refund(keys=keys, args=args)))

    async def settle(self, account: str, attempt: str, *, alive: bool = False) -> bool:
        args = ["alive" if alive else "done", int(time.time() * 1000)]
        keys = [attempt_key(account, attempt)]
        return bool(await self._safe(lambda: self._settle(keys=keys, args=args)))

    async def sweep(self, older_than_s: float) -> int:
        """Refund charged attempts nobody settled or refunded (their process died mid-stream)
        once they are older than any stream can be. Idempotent: sweepers may race."""
        cutoff = (time.time() - older_than_s) * 1000
        swept = 0
        async for key in self._redis.scan_iter(match="qs:{*}:attempt:*", count=1000):
            blob = await self._safe(lambda: self._redis.get(key))  # noqa: B023 (awaited here)
            if blob is None:
                continue
            try:
                rec = msgspec.json.decode(blob)
            except msgspec.DecodeError:
                continue
            if rec.get("s") != "charged" or not rec.get("m") or rec.get("t", cutoff) > cutoff:
                continue
            name = key.decode()
            account = name[name.index("{") + 1 : name.index("}")]
            attempt = name.rsplit(":", 1)[1]
            codes = rec.get("c") if isinstance(rec.get("c"), list) else []
            if await self.refund(account, attempt, str(rec["m"]), codes):
                log.warning(
                    "swept an unsettled charge: account=%s attempt=%s credits=%s",
                    account,
                    attempt,
                    rec.get("n"),
                )
                swept += 1
        return swept

    async def resolve(self, short_id: str, scan: Scan) -> tuple[str, str]:
        key = code_key(short_id)
        args = [
            scan.at,
            scan.day,
            scan.month,
            scan.agent,
            scan.referrer,
            scan.entry,
            RECENT_SCANS,
            REFERRER_HOSTS,
        ]
        keys = [key, f"{key}:ref", f"{key}:recent", *event_keys(short_id[:3])]
        # counts a scan: sent once
        state, destination = await self._once(lambda: self._scan(keys=keys, args=args))
        return state.decode(), destination.decode()

    async def peek(self, short_id: str) -> tuple[str, str]:
        destination, active = await again(
            lambda: self._redis.hmget(code_key(short_id), "destination_url", "is_active")
        )  # a read: safe to repeat
        if destination is None:
            return "missing", ""
        return ("ok" if active == b"1" else "paused"), destination.decode()

    async def _read_codes(self, short_ids: list[str]) -> list[CodeRecord | None]:
        async def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            for short_id in short_ids:
                key = code_key(short_id)
                pipe.hgetall(key)
                pipe.hgetall(f"{key}:ref")
                pipe.lrange(f"{key}:recent", 0, -1)
            return await pipe.execute()

        raw = await self._safe(read)
        out: list[CodeRecord | None] = []
        for i in range(0, len(raw), 3):
            fields = {k.decode(): v.decode() for k, v in raw[i].items()}
            if not fields:
                out.append(None)
                continue
            out.append(
                code_record(
                    fields,
                    {k.decode(): int(v) for k, v in raw[i + 1].items()},
                    [e.decode() for e in raw[i + 2]],
                )
            )
        return out

    async def list_codes(
        self, account: str, offset: int, limit: int
    ) -> tuple[int, list[CodeRecord]]:
        async def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zcard(codes_key(account))
            pipe.zrevrange(codes_key(account), offset, offset + limit - 1)
            return await pipe.execute()

        count, ids = await self._safe(read)
        records = await self._read_codes([i.decode() for i in ids]) if ids else []
        return int(count), [r for r in records if r is not None and r.account == account]

    async def get_code(self, account: str, short_id: str) -> CodeRecord | None:
        (record,) = await self._read_codes([short_id])
        return record if record is not None and record.account == account else None

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
        if not self._ours(account, short_id):
            return "missing", 0
        flag = "" if is_active is None else ("1" if is_active else "0")
        args = [
            account,
            utc_z(datetime.now(UTC).isoformat(timespec="seconds")),
            name,
            destination,
            flag,
            edit_limit,
            max_active,
        ]
        keys = [code_key(short_id), account_key(account), *event_keys(account)]
        raw = await self._once(  # counts an edit: sent once
            lambda: self._update(keys=keys, args=args)
        )
        return raw[0].decode(), int(raw[1]) if len(raw) > 1 else 0

    async def delete_code(self, account: str, short_id: str) -> bool:
        if not self._ours(account, short_id):
            return False
        key = code_key(short_id)
        keys = [key, f"{key}:ref", f"{key}:recent", account_key(account), codes_key(account)]
        return bool(await self._once(lambda: self._delete(keys=keys, args=[account])))

    def _ours(self, account: str, short_id: str) -> bool:
        """On a cluster, a code outside the account's slot cannot be the account's (and a
        script given both keys would be refused as cross-slot)."""
        return not self._cluster or slot_of(short_id[:3]) == slot_of(account)

    async def active_codes(self, account: str) -> int:
        return int(
            await self._safe(lambda: self._redis.hget(account_key(account), "active_codes")) or 0
        )

    async def idem_claim(self, account: str, key: str, body: str) -> tuple[str, str]:
        raw = await self._once(  # a claim: sent once
            lambda: self._idem(keys=[idem_key(account, key)], args=[body, IDEM_TTL_S])
        )
        return raw[0].decode(), raw[1].decode() if len(raw) > 1 else ""

    async def idem_finish(self, account: str, key: str, body: str, record: str) -> None:
        blob = msgspec.json.encode({"s": "done", "h": body, "r": record})
        await self._safe(lambda: self._redis.set(idem_key(account, key), blob, keepttl=True))

    async def idem_release(self, account: str, key: str) -> None:
        await self._safe(lambda: self._redis.delete(idem_key(account, key)))

    async def hit(self, account: str, key_prefix: str, second: int) -> int:
        """One round trip (INCR and EXPIRE pipelined); the key shares the account's slot."""
        key = f"qs:{{{account}}}:rate:{key_prefix}:{second}"

        async def send() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, 2)
            return await pipe.execute()

        # re-sent once on a dropped connection: at worst the request counts twice this second
        count, _ = await again(send)
        return int(count)

    async def used_this_month(self, account: str) -> int:
        return int(await self._safe(lambda: self._redis.get(usage_key(account))) or 0)

    # -- keys over HTTP (service/keys_api.py) ---------------------------------------------
    async def account_of(self, account: str) -> Account | None:
        return _account_from(
            account,
            await again(
                lambda: self._redis.hmget(account_key(account), "plan", "monthly_quota", "overage")
            ),
        )

    async def account_keys(self, account: str) -> list[KeyRow]:
        live = await again(lambda: self._redis.hgetall(f"qs:{{{account}}}:keys"))
        revoked = await again(lambda: self._redis.hgetall(f"qs:{{{account}}}:keys:revoked"))
        used = {
            k.decode(): v.decode()
            for k, v in (
                await again(lambda: self._redis.hgetall(f"qs:{{{account}}}:keys:used"))
            ).items()
        }
        rows = [
            KeyRow(
                sha=sha.decode(), info=_key_info.decode(blob), last_used_at=used.get(sha.decode())
            )
            for sha, blob in live.items()
        ]
        for sha, blob in revoked.items():
            rec = msgspec.json.decode(blob)
            rows.append(
                KeyRow(
                    sha=sha.decode(),
                    info=msgspec.convert(rec["info"], KeyInfo),
                    last_used_at=used.get(sha.decode()),
                    revoked_at=rec["at"],
                )
            )
        return rows

    async def add_key(self, sha: str, info: KeyInfo) -> None:
        blob = msgspec.json.encode(info)
        await self._redis.hset(f"qs:{{{info.account}}}:keys", sha, blob)
        await self._redis.set(f"qs:apikey:{sha}", blob)

    async def revoke_account_key(self, account: str, sha: str, at: str) -> bool:
        blob = await self._redis.hget(f"qs:{{{account}}}:keys", sha)
        if blob is None:
            return False
        # The index entry goes first: from then on the key answers 401.
        await self._redis.delete(f"qs:apikey:{sha}")
        record = msgspec.json.encode({"info": msgspec.json.decode(blob), "at": at})
        await self._redis.hset(f"qs:{{{account}}}:keys:revoked", sha, record)
        await self._redis.hdel(f"qs:{{{account}}}:keys", sha)
        return True

    async def touch_key(self, account: str, sha: str, at: str) -> None:
        await self._redis.hset(f"qs:{{{account}}}:keys:used", sha, at)

    async def ping(self) -> None:
        await self._safe(self._redis.ping)

    async def durability_problems(self) -> list[str]:
        """What in this Redis's configuration (every master's, on a cluster) could lose keys,
        accounts or counters."""
        try:
            return await durability_problems(self._redis)
        except RedisClusterException as exc:
            raise as_redis_error(exc) from exc

    async def close(self) -> None:
        await self._redis.aclose()


class RedisAdmin(AdminBase):
    """Synchronous operator access (the ``qrstudio`` command, provisioning, tests)."""

    def __init__(self, url: str, *, cluster: bool = False) -> None:
        self._redis = sync_client(url, cluster=cluster)

    def _account_fields(self, account: str) -> dict[str, str]:
        return {
            k.decode(): v.decode("utf-8", "replace")
            for k, v in self._redis.hgetall(account_key(account)).items()
        }

    def _raw_records(self) -> RawRecords:
        registered = {a.decode() for a in self._redis.smembers("qs:accounts")}
        found = set(registered)
        for key in self._redis.scan_iter(match="qs:{*}:account", count=1000):
            name = key.decode()
            found.add(name[name.index("{") + 1 : name.rindex("}")])
        accounts = {a: f for a in found if (f := self._account_fields(a))}
        index = {
            k.decode().removeprefix("qs:apikey:"): v
            for k in self._redis.scan_iter(match="qs:apikey:*", count=1000)
            if (v := self._redis.get(k)) is not None
        }
        listed = {
            a: {k.decode(): v for k, v in keys.items()}
            for a in found
            if (keys := self._redis.hgetall(f"qs:{{{a}}}:keys"))
        }
        return RawRecords(registered=registered, accounts=accounts, index=index, listed=listed)

    def usage(self, account: str) -> int:
        return int(self._redis.get(usage_key(account)) or 0)

    def _put_account(self, account: Account) -> None:
        fields = {
            "plan": account.plan,
            "monthly_quota": "" if account.monthly_quota is None else account.monthly_quota,
            "overage": "" if account.overage is None else ("1" if account.overage else "0"),
        }
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(account_key(account.id), mapping=fields)
        pipe.sadd("qs:accounts", account.id)
        pipe.execute()

    def _put_key(self, sha: str, info: KeyInfo) -> None:
        blob = msgspec.json.encode(info)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(f"qs:{{{info.account}}}:keys", sha, blob)
        pipe.set(f"qs:apikey:{sha}", blob)
        pipe.execute()

    def _revoke(self, sha: str, info: KeyInfo) -> None:
        # The index entry goes first: from then on the key answers 401.
        self._redis.delete(f"qs:apikey:{sha}")
        self._redis.hset(f"qs:{{{info.account}}}:keys", sha, msgspec.json.encode(info))

    def close(self) -> None:
        self._redis.close()
