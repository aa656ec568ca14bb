"""API keys over HTTP and the workspace's usage (CONTRACT section 8).

``GET/POST /api/v1/keys/``, ``DELETE /api/v1/keys/{id}/``, ``POST /api/v1/keys/{id}/rotate/``
and ``GET /api/v1/usage/me/``, with the account's API key (``X-Api-Key`` or bearer) or a
dashboard JWT. A key's id is the start of its SHA-256 (``keyring.key_id``); the raw key is in
the answer of creation and rotation only. A key may carry a plan below its account's: it gets
that plan's limits, never more than the caller's own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from litestar import Request

from .errors import (
    KeyFieldError,
    NotAuthenticated,
    NotFound,
)
from .intake import BODY_LIMIT, authenticate, json_object, read_body
from .limits.keyring import KeyRing, KeyRow, key_id
from .limits.keys import generate_key, hash_key, key_prefix
from .limits.plans import PLANS
from .limits.store import Account, Caller, KeyInfo
from .responses import ApiKey, ApiKeyCreated, ApiKeyList, KeyUsage, Plan, UsageMe
from .services import Services

__all__ = ["create_key", "delete_key", "list_keys", "rotate_key", "usage_me"]

WARNING = "Store this key securely. It will NOT be shown again."
NAME_MAX = 100


def _ring(svc: Services) -> KeyRing:
    return cast(KeyRing, svc.store)


async def _caller(request: Request[Any, Any, Any], svc: Services) -> tuple[Caller, Account]:
    caller = await authenticate(request, svc.store, bearer=True)
    account = await _ring(svc).account_of(caller.account.id)
    if account is None:
        raise NotAuthenticated()
    return caller, account


def revoked_at(row: KeyRow) -> str | None:
    """When the key was revoked: over HTTP (its row), or by a record that keeps it listed."""
    return row.revoked_at or getattr(row.info, "revoked_at", "") or None


def _key_fields(row: KeyRow, account: Account) -> dict[str, Any]:
    """What ``/keys/`` and ``/usage/me/`` both say of a key."""
    return {
        "id": key_id(row.sha),
        "name": row.info.name,
        "key_prefix": row.info.prefix,
        "plan": row.info.plan or account.plan,
        "is_active": revoked_at(row) is None,
        "created_at": row.info.created_at,
        "last_used_at": row.last_used_at,
    }


def key_object(row: KeyRow, account: Account) -> ApiKey:
    return ApiKey(**_key_fields(row, account), revoked_at=revoked_at(row))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def _rows(svc: Services, account: str) -> list[KeyRow]:
    rows = await _ring(svc).account_keys(account)
    return sorted(rows, key=lambda r: (r.info.created_at, r.info.prefix))


async def list_keys(request: Request[Any, Any, Any], svc: Services) -> ApiKeyList:
    _, account = await _caller(request, svc)
    return ApiKeyList([key_object(r, account) for r in await _rows(svc, account.id)])


def _create_body(body: bytes, caller: Caller) -> tuple[str, str]:
    data = json_object(body)
    name, plan = data.get("name"), data.get("plan")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise KeyFieldError("name", "Required.")
    if not isinstance(name, str):
        raise KeyFieldError("name", "Not a valid string.")
    if len(name) > NAME_MAX:
        raise KeyFieldError("name", f"Ensure this field has no more than {NAME_MAX} characters.")
    tier = caller.account.plan
    if plan is None:
        return name, tier
    if not isinstance(plan, str) or plan not in PLANS:
        raise KeyFieldError("plan", f'"{plan}" is not a valid choice.')
    order = list(PLANS)
    if order.index(plan) > order.index(tier):
        raise KeyFieldError("plan", f"Plan '{plan}' exceeds your subscription tier '{tier}'.")
    return name, plan


async def _issue(svc: Services, account: Account, name: str, plan: str) -> ApiKeyCreated:
    raw = generate_key()
    sha = hash_key(raw)
    info = KeyInfo(
        account=account.id,
        prefix=key_prefix(raw),
        name=name,
        created_at=_now(),
        plan="" if plan == account.plan else plan,
    )
    await _ring(svc).add_key(sha, info)
    return ApiKeyCreated(
        id=key_id(sha),
        name=name,
        key_prefix=info.prefix,
        plan=cast(Plan, plan),
        raw_key=raw,
        warning=WARNING,
    )


async def create_key(request: Request[Any, Any, Any], svc: Services) -> ApiKeyCreated:
    caller, account = await _caller(request, svc)
    name, plan = _create_body(await read_body(request, BODY_LIMIT), caller)
    return await _issue(svc, account, name, plan)


async def _active(svc: Services, account: Account, kid: str) -> KeyRow:
    for row in await _ring(svc).account_keys(account.id):
        if key_id(row.sha) == kid and revoked_at(row) is None:
            return row
    raise NotFound("Not found.")


async def delete_key(request: Request[Any, Any, Any], svc: Services, kid: str) -> None:
    _, account = await _caller(request, svc)
    row = await _active(svc, account, kid)
    if not await _ring(svc).revoke_account_key(account.id, row.sha, _now()):
        raise NotFound("Not found.")


async def rotate_key(request: Request[Any, Any, Any], svc: Services, kid: str) -> ApiKeyCreated:
    """A new key with the old one's name and plan; the old one answers 401 at once."""
    _, account = await _caller(request, svc)
    row = await _active(svc, account, kid)
    if not await _ring(svc).revoke_account_key(account.id, row.sha, _now()):
        raise NotFound("Not found.")
    return await _issue(svc, account, row.info.name, row.info.plan or account.plan)


async def usage_me(request: Request[Any, Any, Any], svc: Services) -> UsageMe:
    """The workspace's usage: quota is per account, so ``by_key`` lists the keys (with their
    last use), not per-key counts."""
    _, account = await _caller(request, svc)
    plan = PLANS[account.plan]
    quota = plan.quota_for(account.monthly_quota, svc.settings.enterprise_monthly_quota)
    used = await svc.store.used_this_month(account.id)
    active = await svc.store.active_codes(account.id)
    remaining = max(0, quota - used)
    by_key = [
        KeyUsage(**_key_fields(r, account))
        for r in await _rows(svc, account.id)
        if revoked_at(r) is None
    ]
    return UsageMe(
        plan=plan.code,
        monthly_quota=quota,
        used_this_month=used,
        remaining=remaining,
        credits_remaining=remaining,
        active_dynamic_qrs=active,
        max_active_dynamic_qrs=plan.max_active_dynamic_qrs,
        by_key=by_key,
    )
