"""How the service talks to Redis: one place for the client's options and its one retry.

Two things keep a Redis that was restarted (from its AOF) serving the very next request:

- The pool checks a pooled connection before lending it and reconnects one the server closed.
  redis-py 8 skips that check while "maintenance notifications" (a Redis Enterprise feature)
  are in their default ``auto`` mode, so every connection left from before the restart failed
  one request with ``Connection closed by server``. They are off here.
- A command that is safe to send twice is re-sent once on a fresh connection when its
  connection drops (``again``): key lookups, reads, and the scripts that are idempotent by
  construction (the charge per attempt id, the refund, the settle). A timeout is never re-sent:
  the deadline is the deadline. Scripts that count (a scan, an edit) or claim (an idempotency
  key) are sent once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio as aioredis
from redis.maint_notifications import MaintNotificationsConfig

__all__ = ["again", "async_client", "sync_client"]

T = TypeVar("T")


def _options(timeout_s: float) -> dict[str, object]:
    return {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s,
            "maint_notifications_config": MaintNotificationsConfig(enabled=False)}


def async_client(url: str, *, timeout_s: float) -> aioredis.Redis:
    """The request path's client: every command bounded by ``timeout_s``."""
    return aioredis.Redis.from_url(url, health_check_interval=30, **_options(timeout_s))


def sync_client(url: str, *, timeout_s: float = 10.0) -> redis.Redis:
    """The operators' client (the ``qrstudio`` command, provisioning, tests)."""
    return redis.Redis.from_url(url, **_options(timeout_s))


async def again(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; if its connection dropped, run it once more (on a fresh connection).

    Only for commands that are safe to repeat: the first attempt may have run."""
    try:
        return await call()
    except redis.ConnectionError:
        return await call()
