"""Request ids: a ULID per request, or the gateway's own id when it is a sane one.

The id is for tracing only. Nothing that must be unique per attempt (the quota's
de-duplication) trusts it: those use ``new_ulid()`` directly.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

__all__ = ["RequestIdMiddleware", "new_ulid", "request_id_of"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INCOMING = re.compile(rb"[A-Za-z0-9._-]{1,128}")


def new_ulid() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def request_id_of(scope: dict[str, Any]) -> str:
    return str(scope.get("state", {}).get("request_id", ""))


class RequestIdMiddleware:
    """Pure ASGI: picks the id before anything else runs and adds it to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = incoming.decode() if incoming and _INCOMING.fullmatch(incoming) else new_ulid()
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, header]
            await send(message)

        await self.app(scope, receive, send_with_id)
