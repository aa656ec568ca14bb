"""Where renders run: worker processes (default) or threads, fed in small chunks.

Rendering is mostly Python and numpy calls too short to release the GIL for long, so threads
of one process barely use a second core (measured: 1.1-1.5x for two threads, ~2x for two
processes). Worker processes take chunks of jobs (a few items each, so the pickling and the
pipe cost a little per item) and return their images. A worker that dies breaks only the
batches that were waiting on it: the pool is rebuilt for the next one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .fair import FairQueue, Flow
from .job import RenderJob, RenderResult
from .pipeline import render
from .shelf import Shelf, Shelved
from .trial import trial_decodes

T = TypeVar("T")

__all__ = ["BrokenProcessPool", "RenderPool", "render_chunk", "trial_chunk"]


def render_chunk(
    jobs: list[RenderJob], compression: int, assets: Mapping[str, bytes] | None = None
) -> list[RenderResult]:
    return [render(job, compression, assets or {}) for job in jobs]


def trial_chunk(jobs: list[tuple[RenderJob, bool]], assets: Mapping[str, bytes]) -> list[bool]:
    return [trial_decodes(job, inverted, assets) for job, inverted in jobs]


def _warm_up() -> None:
    """Import and cache what the first render would (numpy, segno, the v1-v10 templates), and
    log as the server does (JSON lines): a worker shares the server's stderr."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one worker per core already
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    from ..assets.decode import harden
    from ..logs import configure_logging
    from .encode import prepare

    configure_logging(os.environ.get("QRSTUDIO_LOG_LEVEL", "info"))
    harden()  # workers only load our own PNGs; no other loader may run here either
    import pyvips

    pyvips.cache_set_max(0)  # overlay.py keeps the few images worth keeping, by hash

    for version in range(1, 11):
        prepare(version)


class RenderPool:
    def __init__(self, workers: int, mode: str = "process") -> None:
        self.workers = workers
        self.mode = mode
        self._lock = threading.Lock()
        self._executor = self._make()
        self._fair = FairQueue(self._submit, workers)
        # worker processes get the logo and background images once, by hash (``shelf``)
        self.shelf = Shelf() if mode == "process" else None

    def _make(self) -> Executor:
        if self.mode == "thread":
            return ThreadPoolExecutor(self.workers, thread_name_prefix="render")
        context = multiprocessing.get_context("spawn")  # never fork a threaded server
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm_up)

    def start(self) -> None:
        """Start the workers now rather than on the first batch."""
        futures = [self._submit(render_chunk, [], 0) for _ in range(self.workers)]
        for future in futures:
            future.result(timeout=120)

    def submit(
        self,
        jobs: list[RenderJob],
        compression: int,
        assets: Mapping[str, bytes] | None = None,
        flow: Flow = ("", ""),
    ) -> Future[list[RenderResult]]:
        """Renders of ``jobs``, in ``flow``'s turn (``fair.FairQueue``). ``assets``: the
        images the jobs' overlays name, by hash (a worker process gets them from the shelf)."""
        jobs_assets = self._lend(jobs, assets)
        return self._returned(
            self._fair.submit(flow, render_chunk, jobs, compression, jobs_assets), jobs_assets
        )

    def trials(
        self, jobs: list[tuple[RenderJob, bool]], assets: Mapping[str, bytes], flow: Flow = ("", "")
    ) -> Future[list[bool]]:
        """Trial decodes (``trial.trial_decodes``) of (job, inverted) pairs."""
        jobs_assets = self._lend([job for job, _ in jobs], assets) or {}
        return self._returned(self._fair.submit(flow, trial_chunk, jobs, jobs_assets), jobs_assets)

    def _lend(
        self, jobs: list[RenderJob], assets: Mapping[str, bytes] | None
    ) -> Mapping[str, bytes] | None:
        """The images ``jobs`` use: for worker threads the images themselves, for worker
        processes a reference to them on the shelf (pinned until the chunk is done)."""
        if not assets:
            return None
        shas = [
            sha
            for job in jobs
            if job.overlay is not None
            for sha in (job.overlay.logo, job.overlay.background)
            if sha is not None
        ]
        if not shas:
            return None
        if self.shelf is None:
            return {sha: assets[sha] for sha in shas}
        return self.shelf.lend(assets, shas)

    def _returned(self, future: Future[T], lent: Mapping[str, bytes] | None) -> Future[T]:
        if isinstance(lent, Shelved) and self.shelf is not None:
            shelf = self.shelf
            future.add_done_callback(lambda _: shelf.release(lent))
        return future

    def _submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        try:
            return self._executor.submit(fn, *args)
        except BrokenProcessPool:
            with self._lock:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._make()
            return self._executor.submit(fn, *args)

    def shutdown(self) -> None:
        """Stop the workers and wait for them (a chunk takes well under a second), so none is
        left writing to the server's stderr after it has gone."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self.shelf is not None:
            self.shelf.close()
