"""The first steps of every API call: who is calling, and the body within its limit."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException

from .auth.jwt import JwtVerifier
from .errors import (
    UNREADABLE,
    BodyTimeout,
    BodyTooLarge,
    MalformedBody,
    NotAuthenticated,
    Throttled,
)
from .limits.keyring import KeyRing
from .limits.keys import hash_key, looks_like_key
from .limits.plans import PLANS
from .limits.store import Caller, KeyInfo, Store

__all__ = ["BODY_LIMIT", "KeyTouch", "authenticate", "json_object", "read_body"]

TOUCH_EVERY_S = 60.0


class KeyTouch:
    """Records a key's last use at most once a minute per process, off the request path."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def touch(self, store: Store, account: str, sha: str) -> None:
        now = time.monotonic()
        if now - self._last.get(sha, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
            return
        if len(self._last) > 100_000:
            self._last.clear()
        self._last[sha] = now
        at = datetime.now(UTC).isoformat(timespec="seconds")
        task = asyncio.get_running_loop().create_task(self._write(store, account, sha, at))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _write(store: Store, account: str, sha: str, at: str) -> None:
        try:
            await cast(KeyRing, store).touch_key(account, sha, at)
        except Exception:  # a lost "last used" is not worth failing anything for
            pass


def _key_plan(caller: Caller, request: Request[Any, Any, Any]) -> Caller:
    """A key with a lower plan than its account's gets that plan's limits; the quota, the
    overage rule and the account-wide caps stay the account's."""
    account, plan = caller.account, caller.key.plan
    order = list(PLANS)
    if (
        not plan
        or plan not in PLANS
        or account.plan not in PLANS
        or order.index(plan) >= order.index(account.plan)
    ):
        return caller
    real = PLANS[account.plan]
    svc = getattr(request.app.state, "services", None)
    enterprise = svc.settings.enterprise_monthly_quota if svc is not None else real.monthly_quota
    quota = real.quota_for(account.monthly_quota, enterprise)
    overage = real.overage if account.overage is None else account.overage
    return msgspec.structs.replace(
        caller,
        account=msgspec.structs.replace(account, plan=plan, monthly_quota=quota, overage=overage),
    )


async def _jwt_caller(verifier: JwtVerifier, token: str, store: Store) -> Caller:
    account_id = verifier.account(token)
    account = await cast(KeyRing, store).account_of(account_id) if account_id else None
    if account is None:
        raise NotAuthenticated()
    return Caller(
        key=KeyInfo(account=account.id, prefix="", name="dashboard token"), account=account
    )


async def authenticate(
    request: Request[Any, Any, Any], store: Store, *, bearer: bool = False
) -> Caller:
    """The caller of ``X-Api-Key`` (or ``Authorization: Bearer`` where ``bearer``: an API key,
    or a JWT of the gateway's application when one is configured); one 401 for every cause
    (missing, unknown, revoked, forged, expired)."""
    raw = request.headers.get("x-api-key")
    if raw is None and bearer:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        raw = token.strip() if scheme.lower() == "bearer" else None
        verifier: JwtVerifier | None = getattr(request.app.state, "jwt", None)
        if raw and verifier is not None and not looks_like_key(raw):
            return await _jwt_caller(verifier, raw, store)
    if not looks_like_key(raw):
        raise NotAuthenticated()
    caller = await store.authenticate(raw)  # type: ignore[arg-type]
    if caller is None:
        raise NotAuthenticated()
    touch: KeyTouch | None = getattr(request.app.state, "key_touch", None)
    if touch is not None:
        touch.touch(store, caller.account.id, hash_key(raw))  # type: ignore[arg-type]
    caller = _key_plan(caller, request)
    services = getattr(request.app.state, "services", None)
    if services is None or services.settings.rate_limit:
        await _throttle(store, caller)
    return caller


async def _throttle(store: Store, caller: Caller) -> None:
    """The plan's requests per second for this key (one store round trip, a one-second
    window); over it, the product's 429 with Retry-After."""
    second = int(time.time())
    if (
        await store.hit(caller.account.id, caller.key.prefix, second)
        > PLANS[caller.account.plan].requests_per_second
    ):
        raise Throttled(1)


async def read_body(
    request: Request[Any, Any, Any], limit: int, deadline_s: float | None = None
) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit``, and with
    408 when it has not all arrived within ``deadline_s`` (a trickling upload)."""
    declared = request.headers.get("content-length")
    if (
        declared
        and declared.isascii()
        and declared.isdigit()
        and len(declared) < 20
        and int(declared) > limit
    ):
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout(deadline_s or 0, size) from None
    except HTTPException as exc:  # the framework's own limit, if any
        if exc.status_code == 413:
            raise BodyTooLarge(limit) from None
        raise
    return b"".join(chunks)


BODY_LIMIT = 64 * 1024  # the dashboard routes' bodies are small


def json_object(body: bytes) -> dict[str, Any]:
    """A dashboard route's body: a JSON object (empty for an empty body), else 400."""
    try:
        data = msgspec.json.decode(body) if body.strip() else {}
    except UNREADABLE as exc:
        raise MalformedBody(f"Malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.")
    return data
