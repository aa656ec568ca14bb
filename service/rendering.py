"""Renders through the cache: hits come from memory or Redis, duplicates in flight wait for
the first, misses go to the render workers and are then cached. Used by bulk and single."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from .render.fair import Flow
from .render.job import RenderJob, RenderResult
from .render.pool import RenderPool
from .render_cache import RenderCache, cache_key

__all__ = ["Rendered", "Renderer"]

Rendered = tuple[RenderResult, bool]  # the image, and whether it was a cache hit


class Renderer:
    def __init__(self, pool: RenderPool, cache: RenderCache, compression: int) -> None:
        self.pool = pool
        self.cache = cache
        self.compression = compression

    async def render(
        self,
        jobs: Sequence[RenderJob],
        inflight: dict[str, asyncio.Future[RenderResult]],
        assets: Mapping[str, bytes] | None = None,
        flow: Flow = ("", ""),
        ready: dict[str, RenderResult] | None = None,
    ) -> list[Rendered]:
        """``inflight`` is one batch's map of keys being rendered now: a duplicate waits for
        its first occurrence instead of rendering again (and is a hit). ``assets``: the
        normalised images the jobs' overlays name, by content hash; ``flow``: (account,
        request), whose turn on the render workers these jobs take; ``ready``: images the
        pre-flight already rendered for this batch, by cache key (taken, as misses). A result
        that did not read back (``verified`` false) is returned but never cached."""
        loop = asyncio.get_running_loop()
        keys = [cache_key(job, self.compression) for job in jobs]
        waits: dict[int, asyncio.Future[RenderResult]] = {}
        mine: dict[str, asyncio.Future[RenderResult]] = {}
        lookup: list[int] = []
        out: list[Rendered | None] = [None] * len(jobs)
        for i, key in enumerate(keys):
            if ready and key in ready:
                out[i] = (ready.pop(key), False)
            elif key in inflight:
                waits[i] = inflight[key]
            else:
                inflight[key] = mine[key] = loop.create_future()
                lookup.append(i)
        try:
            cached = await self.cache.get_many([keys[i] for i in lookup])
            misses = [i for i, hit in zip(lookup, cached) if hit is None]
            for i, hit in zip(lookup, cached):
                if hit is not None:
                    out[i] = (hit, True)
            if misses:
                todo = [jobs[i] for i in misses]
                future = self.pool.submit(todo, self.compression, assets, flow)
                fresh = await asyncio.wrap_future(future)
                for i, result in zip(misses, fresh):
                    out[i] = (result, False)
                self.cache.put_many([(keys[i], r) for i, r in zip(misses, fresh) if r.verified])
            for i in lookup:
                rendered = out[i]
                assert rendered is not None
                mine[keys[i]].set_result(rendered[0])
        except BaseException as exc:
            for pending in mine.values():
                if not pending.done():
                    pending.set_exception(
                        exc if isinstance(exc, Exception) else RuntimeError("render cancelled")
                    )
                    pending.exception()  # retrieved: no "never retrieved" warning
            raise
        finally:
            for key in mine:
                inflight.pop(key, None)
        for i, waiting in waits.items():
            out[i] = (await waiting, True)
        return [r for r in out if r is not None]
