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

On a Redis Cluster (``QRSTUDIO_REDIS_CLUSTER=true``) the client is redis-py's cluster client,
told not to retry by itself: while a master fails over, its slots' commands fail at once
(503 with ``Retry-After``) instead of looping through the client's back-off past the deadline;
the next command after an error re-reads the slot map, so once a replica is promoted requests
succeed again without a restart. ``RedisClusterException`` (no reachable node, slot not
covered) is not a ``RedisError``: callers turn it into one (``as_redis_error``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
import redis.cluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException
from redis.maint_notifications import MaintNotificationsConfig

__all__ = [
    "AsyncClient",
    "SyncClient",
    "again",
    "as_redis_error",
    "async_client",
    "mget",
    "sync_client",
]

T = TypeVar("T")
AsyncClient = aioredis.Redis | aiocluster.RedisCluster
SyncClient = redis.Redis | redis.cluster.RedisCluster
# connections per cluster node and process (the cluster client fails at once past it)
CLUSTER_NODE_CONNECTIONS = 512


def _options(timeout_s: float) -> dict[str, object]:
    return {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "maint_notifications_config": MaintNotificationsConfig(enabled=False),
    }


def async_client(url: str, *, timeout_s: float, cluster: bool = False) -> AsyncClient:
    """The request path's client: every command bounded by ``timeout_s``."""
    if cluster:
        return aiocluster.RedisCluster.from_url(
            url,
            retry=AsyncRetry(NoBackoff(), 0),
            max_connections=CLUSTER_NODE_CONNECTIONS,
            health_check_interval=30,
            **_options(timeout_s),
        )
    return aioredis.Redis.from_url(url, health_check_interval=30, **_options(timeout_s))


def sync_client(url: str, *, timeout_s: float = 10.0, cluster: bool = False) -> SyncClient:
    """The operators' client (the ``qrstudio`` command, provisioning, tests)."""
    if cluster:
        return redis.cluster.RedisCluster.from_url(url, **_options(timeout_s))
    return redis.Redis.from_url(url, **_options(timeout_s))


async def mget(client: AsyncClient, keys: list[str]) -> list[bytes | None]:
    """MGET of keys in any slots (one MGET per slot on a cluster)."""
    if isinstance(client, aiocluster.RedisCluster):
        return await client.mget_nonatomic(keys)
    return await client.mget(keys)


def as_redis_error(exc: RedisClusterException) -> redis.RedisError:
    """The cluster client's own failures (no node reachable, slot not covered) are not
    ``RedisError``s; the service answers every store failure alike (503, nothing charged)."""
    return redis.ConnectionError(f"Redis Cluster: {exc}")


async def again(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; if its connection dropped, run it once more (on a fresh connection).

    Only for commands that are safe to repeat: the first attempt may have run."""
    try:
        return await call()
    except redis.ConnectionError:
        return await call()
