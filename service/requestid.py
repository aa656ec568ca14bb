"""The edge of every request: its id, its access log line and its HTTP metrics.

The id is a ULID, or the gateway's own id when it is a sane one. It is for tracing only:
nothing that must be unique per attempt (the quota's de-duplication) trusts it; those use
``new_ulid()`` directly.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import msgspec

from .delivery import Delivery
from .logs import request_id_var
from .metrics import Metrics
from .schema import DetailBody

__all__ = ["RequestIdMiddleware", "new_ulid"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INCOMING = re.compile(rb"[A-Za-z0-9._-]{1,128}")
access = logging.getLogger("qrstudio.access")


def new_ulid() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class RequestIdMiddleware:
    """Pure ASGI: sets the id before anything else runs, adds it to every response, counts
    the request by route template and status, and logs one access line."""

    def __init__(
        self, app: Any, metrics: Metrics | None = None, max_header_bytes: int = 32 * 1024
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:  # an ASGI scope
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = incoming.decode() if incoming and _INCOMING.fullmatch(incoming) else new_ulid()
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        header = (b"x-request-id", rid.encode())
        status = 500
        start = time.perf_counter()
        delivery = scope["state"]["delivery"] = Delivery.current()
        sent = False

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, header]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                sent = True

        try:
            if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > self.max_header_bytes:
                await _too_large(send_with_id, self.max_header_bytes)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            await delivery.finished(sent)  # a streamed archive's charge waits for this
            route = scope.get("path_template") or "unmatched"
            if self.metrics is not None:
                self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            access.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "status": status,
                    "route": route,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                },
            )
            request_id_var.reset(token)


async def _too_large(send: Any, limit: int) -> None:
    """431 for request headers over the limit (name, value and separators, all lines)."""
    body = msgspec.json.encode(
        DetailBody(f"Request headers are larger than the limit of {limit} bytes.")
    )
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
