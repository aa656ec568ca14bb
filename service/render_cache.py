"""The render cache: identical render inputs give identical bytes, so they are rendered once.

The key is a SHA-256 over everything that changes the output: the encoded content (a dynamic
code's content holds its own short id, so it is never served another code's image), version,
error correction, layout, pattern, colours, format, size, dpi, the PNG compression and the
renderer's own version; never the API key, the account or the time.

Two tiers: an in-process LRU bounded in bytes, and Redis shared by every process for 24 h (the
main Redis or cluster, whose MGETs split per slot, or a separate instance). The
Redis tier is a separate, evicting instance when ``QRSTUDIO_CACHE_REDIS_URL`` is set; otherwise
it is the main Redis, where eviction is off (keys and counters must never be evicted), so the
service bounds it itself: every entry expires 24 h after it is written, and the bytes written
per hour are counted in 26 h counters; while the last 25 hourly buckets (every entry still
alive was written in one of them) add up to the budget, nothing new is written (the cache stops
growing, nothing else is touched). Concurrent writers may overshoot by one chunk each.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence

import msgspec

from .limits.redis_conn import again, async_client, mget
from .lru import LRU
from .render.job import RenderJob, RenderResult

__all__ = ["RENDERER_VERSION", "RenderCache", "cache_key"]

RENDERER_VERSION = 6  # bump when the same job would render different bytes
log = logging.getLogger("qrstudio.cache")
_encode = msgspec.msgpack.Encoder()
_decode_result = msgspec.msgpack.Decoder(RenderResult)


def _written(hour: int) -> str:
    """The hourly byte counters share one hash tag: on a cluster, the budget check is one MGET
    (the entries themselves spread over every slot)."""
    return f"qs:{{cache}}:written:{hour}"


def cache_key(job: RenderJob, compression: int) -> str:
    return hashlib.sha256(_encode.encode((RENDERER_VERSION, compression, job))).hexdigest()


def _memory(budget: int) -> LRU[str, RenderResult]:
    return LRU(budget, lambda result: len(result.data) + 200)


class RenderCache:
    def __init__(
        self,
        *,
        memory_bytes: int,
        redis_url: str | None,
        separate: bool,
        redis_budget: int,
        ttl_s: int,
        timeout_s: float,
        cluster: bool = False,
    ) -> None:
        self._memory = _memory(memory_bytes)
        self._ttl = ttl_s
        self._separate = separate
        self._budget = redis_budget
        self._redis = (
            async_client(redis_url, timeout_s=timeout_s, cluster=cluster) if redis_url else None
        )
        self._tasks: set[asyncio.Task[None]] = set()

    async def get_many(self, keys: Sequence[str]) -> list[RenderResult | None]:
        found: list[RenderResult | None] = [self._memory.get(k) for k in keys]
        missing = [i for i, hit in enumerate(found) if hit is None]
        if missing and self._redis is not None:
            client = self._redis
            try:
                blobs = await again(lambda: mget(client, [f"qs:cache:{keys[i]}" for i in missing]))
            except Exception as exc:  # the cache is an optimisation: a miss, never an error
                log.warning("render cache read failed: %s", exc)
                return found
            for i, blob in zip(missing, blobs):
                if blob is not None:
                    try:
                        found[i] = result = _decode_result.decode(blob)
                    except msgspec.DecodeError:
                        continue
                    self._memory.put(keys[i], result)
        return found

    def put_many(self, entries: Sequence[tuple[str, RenderResult]]) -> None:
        for key, result in entries:
            self._memory.put(key, result)
        if entries and self._redis is not None:
            task = asyncio.get_running_loop().create_task(self._write(list(entries)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _room(self) -> bool:
        """On the main Redis: whether the last 24 h of writes leave room in the budget."""
        if self._separate:
            return True
        hour = int(time.time() // 3600)
        assert self._redis is not None
        counts = await mget(self._redis, [_written(h) for h in range(hour - 24, hour + 1)])
        return sum(int(c) for c in counts if c) < self._budget

    async def _write(self, entries: list[tuple[str, RenderResult]]) -> None:
        assert self._redis is not None
        try:
            if not await self._room():
                return
            pipe = self._redis.pipeline(transaction=False)
            written = 0
            for key, result in entries:
                blob = _encode.encode(result)
                written += len(blob)
                pipe.set(f"qs:cache:{key}", blob, ex=self._ttl, nx=True)
            if not self._separate:
                counter = _written(int(time.time() // 3600))
                pipe.incrby(counter, written)
                pipe.expire(counter, 26 * 3600)
            await pipe.execute()
        except Exception as exc:
            log.warning("render cache write failed: %s", exc)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._redis is not None:
            await self._redis.aclose()
