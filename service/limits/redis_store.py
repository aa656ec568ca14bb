"""The Redis store. Key schema (documented in the README for the gateway's provisioning):

    qs:apikey:<sha256 of the raw key>   string, JSON KeyInfo {account, prefix, name, created_at}
    qs:accounts                          set of account ids
    qs:{<acct>}:account                  hash {plan, monthly_quota?, overage? "1"|"0"}
    qs:{<acct>}:keys                     hash sha256 -> JSON KeyInfo (for listing)
    qs:{<acct>}:usage:<YYYYMM>           integer, credits used in that UTC month
    qs:{<acct>}:attempt:<id>             JSON {s: charged|refunded, n, r}, 2 days

Every per-account key carries the hash tag ``{acct}``, so ``charge.lua`` and ``refund.lua`` run
on Redis Cluster too. The API key index is global by nature (the account is not known yet).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import msgspec
import redis
import redis.asyncio as aioredis

from .admin import AdminBase
from .keys import hash_key
from .plans import plan_table_json
from .quota import ATTEMPT_TTL_S, ChargeResult, month_of, usage_ttl_s
from .store import Account, Caller, KeyInfo

__all__ = ["RedisAdmin", "RedisStore", "account_key", "usage_key"]

_key_info = msgspec.json.Decoder(KeyInfo)


def _lua(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def account_key(account: str) -> str:
    return f"qs:{{{account}}}:account"


def usage_key(account: str, month: str | None = None) -> str:
    return f"qs:{{{account}}}:usage:{month or month_of()}"


def attempt_key(account: str, attempt: str) -> str:
    return f"qs:{{{account}}}:attempt:{attempt}"


def _account_from(account: str, fields: list[Any]) -> Account | None:
    plan, quota, overage = (f.decode() if isinstance(f, bytes) else f for f in fields)
    if not plan:
        return None
    return Account(id=account, plan=plan,
                   monthly_quota=int(quota) if quota not in (None, "") else None,
                   overage=None if overage in (None, "") else overage == "1")


class RedisStore:
    """The request path's view of Redis: every call bounded by the client's socket timeout."""

    def __init__(self, url: str, *, enterprise_quota: int, timeout_s: float) -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            health_check_interval=30)
        self._charge = self._redis.register_script(_lua("charge.lua"))
        self._refund = self._redis.register_script(_lua("refund.lua"))
        self._plans = plan_table_json(enterprise_quota)

    async def authenticate(self, raw_key: str) -> Caller | None:
        blob = await self._redis.get(f"qs:apikey:{hash_key(raw_key)}")
        if blob is None:
            return None
        info = _key_info.decode(blob)
        fields = await self._redis.hmget(account_key(info.account), "plan", "monthly_quota",
                                         "overage")
        account = _account_from(info.account, fields)
        return Caller(key=info, account=account) if account else None

    async def charge(self, account: str, attempt: str, n: int, *, bulk: bool,
                     month: str) -> ChargeResult:
        raw = await self._charge(
            keys=[account_key(account), usage_key(account, month), attempt_key(account, attempt)],
            args=[n, self._plans, usage_ttl_s(), ATTEMPT_TTL_S, "1" if bulk else "0"])
        status, plan, used, quota = raw
        return ChargeResult(status.decode(), plan.decode(), int(used), int(quota))

    async def refund(self, account: str, attempt: str, month: str) -> bool:
        keys = [attempt_key(account, attempt), usage_key(account, month)]
        return bool(await self._refund(keys=keys))

    async def used_this_month(self, account: str) -> int:
        return int(await self._redis.get(usage_key(account)) or 0)

    async def ping(self) -> None:
        await self._redis.ping()

    async def durability_problems(self) -> list[str]:
        """What in this Redis's configuration could lose keys, accounts or counters."""
        try:
            config = await self._redis.config_get("appendonly")
            config.update(await self._redis.config_get("maxmemory-policy"))
        except redis.ResponseError as exc:  # CONFIG renamed or disabled (managed Redis)
            return [f"cannot read the configuration to verify it ({exc})"]
        found = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes)
                 else v for k, v in config.items()}
        problems = []
        if found.get("appendonly") != "yes":
            problems.append("appendonly is not 'yes': a restart loses what was written since "
                            "the last snapshot")
        if found.get("maxmemory-policy") != "noeviction":
            problems.append(f"maxmemory-policy is '{found.get('maxmemory-policy')}', not "
                            "'noeviction': keys, accounts or counters could be evicted")
        return problems

    async def close(self) -> None:
        await self._redis.aclose()


class RedisAdmin(AdminBase):
    """Synchronous operator access (the ``qrstudio`` command, provisioning, tests)."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=10)

    def get_account(self, account: str) -> Account | None:
        return _account_from(account, self._redis.hmget(account_key(account), "plan",
                                                         "monthly_quota", "overage"))

    def usage(self, account: str) -> int:
        return int(self._redis.get(usage_key(account)) or 0)

    def _put_account(self, account: Account) -> None:
        fields = {"plan": account.plan,
                  "monthly_quota": "" if account.monthly_quota is None else account.monthly_quota,
                  "overage": "" if account.overage is None else ("1" if account.overage else "0")}
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

    def _delete_key(self, sha: str, info: KeyInfo) -> None:
        # The index entry goes first: from then on the key answers 401.
        self._redis.delete(f"qs:apikey:{sha}")
        self._redis.hdel(f"qs:{{{info.account}}}:keys", sha)

    def _all_keys(self) -> list[tuple[str, KeyInfo]]:
        out: list[tuple[str, KeyInfo]] = []
        for account in sorted(a.decode() for a in self._redis.smembers("qs:accounts")):
            for sha, blob in self._redis.hgetall(f"qs:{{{account}}}:keys").items():
                out.append((sha.decode(), _key_info.decode(blob)))
        return out

    def close(self) -> None:
        self._redis.close()
