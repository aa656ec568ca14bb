"""Fair turns on the render workers: round-robin across accounts, then across each account's
requests, with only as many chunks handed to the executor as it has workers.

An executor serves its queue in arrival order, so one batch's queued chunks made every other
request wait behind them (a 1-inch single render waited 17 s behind a batch of 15-inch
items). Here each request (a flow) keeps its own queue; a chunk is handed over only when a
worker is free, taking the next account in turn and that account's next request in turn. A
newcomer therefore waits for at most the chunk each busy worker is on (chunks are sized to a
few milliseconds of work, ``batch.chunk_items``), whatever else is queued.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["FairQueue", "Flow"]

Flow = tuple[str, str]  # (account, request): "" for work of the service itself
_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class FairQueue:
    def __init__(self, submit: Callable[..., Future[Any]], slots: int) -> None:
        """``submit`` hands a call to the executor (the pool's, which may rebuild it);
        ``slots``: how many chunks the executor may hold at once (its workers)."""
        self._submit = submit
        self._slots = slots
        self._running = 0
        self._lock = threading.Lock()
        # finished chunks are handled on a thread of our own: an executor's callbacks run on
        # its own threads (a ProcessPoolExecutor's manager, while it fails every pending
        # future of a broken pool), where handing it the next chunk could deadlock
        self._finished: queue.SimpleQueue[tuple[Future[Any], Future[Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._drain, name="fair-turns", daemon=True).start()
        # account -> request -> tasks; both levels in least-recently-served order
        self._queues: OrderedDict[str, OrderedDict[str, deque[_Task]]] = OrderedDict()

    def submit(self, flow: Flow, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        outer: Future[Any] = Future()
        account, request = flow
        with self._lock:
            # a newcomer (an account or request with nothing waiting) has been served least
            # recently of all: it goes first; one just served goes to the back
            if account not in self._queues:
                self._queues[account] = OrderedDict()
                self._queues.move_to_end(account, last=False)
            requests = self._queues[account]
            if request not in requests:
                requests[request] = deque()
                requests.move_to_end(request, last=False)
            requests[request].append((outer, fn, args))
            ready = self._take()
        self._hand_over(ready)
        return outer

    @property
    def queued(self) -> int:
        with self._lock:
            return sum(len(q) for r in self._queues.values() for q in r.values())

    def _next(self) -> _Task | None:
        """The next task in turn (under the lock), or None when nothing waits."""
        while self._queues:
            account, requests = next(iter(self._queues.items()))
            request, tasks = next(iter(requests.items()))
            task = tasks.popleft()
            if tasks:
                requests.move_to_end(request)
            else:
                del requests[request]
            if requests:
                self._queues.move_to_end(account)
            else:
                del self._queues[account]
            if task[0].set_running_or_notify_cancel():  # False: cancelled while waiting
                return task
        return None

    def _take(self) -> list[_Task]:
        ready: list[_Task] = []
        while self._running < self._slots:
            task = self._next()
            if task is None:
                break
            self._running += 1
            ready.append(task)
        return ready

    def _hand_over(self, ready: list[_Task]) -> None:
        for outer, fn, args in ready:
            try:
                inner = self._submit(fn, *args)
            except BaseException as exc:  # a broken pool: this task fails, the next may not
                self._finish(outer, exc=exc)
                continue
            inner.add_done_callback(functools.partial(self._chunk_finished, outer))

    def _chunk_finished(self, outer: Future[Any], inner: Future[Any]) -> None:
        """A finished chunk goes to the queue's own thread (not handled on the pool's)."""
        self._finished.put((outer, inner))

    def _drain(self) -> None:
        while True:
            self._done(*self._finished.get())

    def _done(self, outer: Future[Any], inner: Future[Any]) -> None:
        if inner.cancelled():
            self._finish(outer, exc=RuntimeError("render cancelled"))
        elif inner.exception() is not None:
            self._finish(outer, exc=inner.exception())
        else:
            self._finish(outer, result=inner.result())

    def _finish(
        self, outer: Future[Any], result: Any = None, exc: BaseException | None = None
    ) -> None:
        with self._lock:
            self._running -= 1
            ready = self._take()
        if exc is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(result)
        self._hand_over(ready)
