"""The startup check: is this Redis (every node of a cluster) configured not to lose state?"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

__all__ = ["durability_problems"]


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _problems(found: dict[str, Any], where: str) -> list[str]:
    problems = []
    if found.get("appendonly") != "yes":
        problems.append(
            f"{where}appendonly is not 'yes': a restart loses what was written "
            "since the last snapshot"
        )
    if found.get("maxmemory-policy") != "noeviction":
        problems.append(
            f"{where}maxmemory-policy is '{found.get('maxmemory-policy')}', not "
            "'noeviction': keys, accounts or counters could be evicted"
        )
    return problems


async def _config(client: aioredis.Redis | RedisCluster, **target: Any) -> dict[str, Any]:
    config = await client.config_get("appendonly", **target)
    config.update(await client.config_get("maxmemory-policy", **target))
    return {_text(k): _text(v) for k, v in config.items()}


async def durability_problems(client: aioredis.Redis | RedisCluster) -> list[str]:
    """What could lose keys, accounts or counters: no AOF, or eviction. On a cluster every
    master is asked, and every replica too: a failover makes one of them a master."""
    try:
        if not isinstance(client, RedisCluster):
            return _problems(await _config(client), "")
        await client.initialize()
        problems: list[str] = []
        for node in sorted(client.get_nodes(), key=lambda n: n.name):
            problems += _problems(await _config(client, target_nodes=node), f"{node.name}: ")
        return problems
    except redis.ResponseError as exc:  # CONFIG renamed or disabled (managed Redis)
        return [f"cannot read the configuration to verify it ({exc})"]
