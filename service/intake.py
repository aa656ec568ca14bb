"""The first steps of every API call: who is calling, and the body within its limit."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

from .errors import BodyTimeout, BodyTooLarge, NotAuthenticated
from .limits.keys import looks_like_key
from .limits.store import Caller, Store

__all__ = ["authenticate", "read_body"]


async def authenticate(request: Request[Any, Any, Any], store: Store, *,
                       bearer: bool = False) -> Caller:
    """The caller of ``X-Api-Key`` (or ``Authorization: Bearer`` where ``bearer``); one 401
    for every cause (missing, unknown, revoked)."""
    raw = request.headers.get("x-api-key")
    if raw is None and bearer:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        raw = token.strip() if scheme.lower() == "bearer" else None
    if not looks_like_key(raw):
        raise NotAuthenticated()
    caller = await store.authenticate(raw)  # type: ignore[arg-type]
    if caller is None:
        raise NotAuthenticated()
    return caller


async def read_body(request: Request[Any, Any, Any], limit: int,
                    deadline_s: float | None = None) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit``, and with
    408 when it has not all arrived within ``deadline_s`` (a trickling upload)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and len(declared) < 20 \
            and int(declared) > limit:
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
