"""The delivery worker: every replica runs one; they share the queue.

A round, for each slot that holds webhooks: read new events (and events another worker read
but never fanned out, once idle for ``claim_idle_s``: it died) with the stream's consumer
group, turn each into one job per webhook that wants it (``fanout``, atomic with the
acknowledgement), lease the jobs that are due and POST them, at most ``concurrency`` at once.
A failure comes back after an exponential backoff with jitter until ``retry_window_s`` after
the event, then it is dead-lettered (in the webhook's ``deliveries``). ``disable_after``
failures in a row disable the webhook. At least once: a worker that dies mid-delivery leaves
its lease to expire and another retries; receivers de-duplicate on the event id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from datetime import UTC, datetime

import msgspec

from .model import TEST_EVENT, Job
from .queue import Hooks, Outcome
from .sender import Sender

__all__ = ["Deliverer", "DeliveryConfig", "backoff_s"]

log = logging.getLogger("qrstudio.webhooks")


class DeliveryConfig(msgspec.Struct, frozen=True, kw_only=True):
    poll_s: float = 1.0
    lease_s: float = 30.0
    claim_idle_s: float = 30.0
    retry_window_s: float = 24 * 3600.0
    retry_base_s: float = 10.0
    retry_max_s: float = 3600.0
    disable_after: int = 25
    concurrency: int = 8


def backoff_s(attempt: int, base: float, most: float) -> float:
    """Seconds before attempt ``attempt + 1``: base x 2^(attempt-1), capped, with half of it
    random ("equal jitter"), so that many failed deliveries do not come back together."""
    full = min(most, base * 2 ** max(0, attempt - 1))
    return full / 2 + random.uniform(0, full / 2)


class Deliverer:
    def __init__(
        self, hooks: Hooks, sender: Sender, config: DeliveryConfig, consumer: str | None = None
    ) -> None:
        self.hooks, self.sender, self.config = hooks, sender, config
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._round = 0
        self._inflight: set[asyncio.Task[str]] = set()

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await self.round()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the store is down: the next round tries again
                    log.warning("webhook round failed: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(self.config.poll_s)
        finally:  # deliveries cut here are retried by whoever leases them next
            for task in list(self._inflight):
                task.cancel()

    async def round(self) -> int:
        """One pass over every slot: fan out new events, start the due deliveries (without
        waiting for them: a slow receiver holds a slot of ``concurrency``, not the round).
        Returns the deliveries started."""
        started = 0
        for tag in await self.hooks.slots():
            now_ms = int(time.time() * 1000)
            for event in await self.hooks.read(
                tag, self.consumer, 100, int(self.config.claim_idle_s * 1000)
            ):
                await self.hooks.fanout(tag, event, now_ms)
            free = self.config.concurrency - len(self._inflight)
            if free <= 0:
                continue
            self._round += 1
            jobs = await self.hooks.claim(
                tag,
                int(time.time() * 1000),
                int(self.config.lease_s * 1000),
                free,
                f"{self.consumer}:{self._round}",
            )
            for job in jobs:
                task = asyncio.get_running_loop().create_task(self._guarded(tag, job))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            started += len(jobs)
        return started

    async def _guarded(self, tag: str, job: Job) -> str:
        try:
            return await self.deliver(tag, job)
        except Exception as exc:  # the store failed mid-way: the lease runs out, it is retried
            log.warning("webhook delivery %s not recorded: %s: %s", job.id, type(exc).__name__, exc)
            return "error"

    async def deliver(self, tag: str, job: Job) -> str:
        sub = await self.hooks.get(job.account, job.sub)
        now = datetime.now(UTC)
        test = job.type == TEST_EVENT
        entry = {
            "id": f"{job.id}:{job.attempts + 1}",
            "event_id": job.event_id,
            "event": job.type,
            "attempt": job.attempts + 1,
        }
        if sub is None or (sub.status != "active" and not test):
            why = "the webhook was deleted" if sub is None else "the webhook is disabled"
            return await self._finish(
                tag, job, "dropped", now, None, 0, why, entry, outcome="dead_letter"
            )
        attempt = await self.sender.post(
            sub.url, sub.secret, job.body.encode(), job.event_id, job.type
        )
        if attempt.ok:
            return await self._finish(
                tag, job, "delivered", now, attempt.status_code, attempt.duration_ms, None, entry
            )
        now_ms = int(time.time() * 1000)
        delay = backoff_s(job.attempts + 1, self.config.retry_base_s, self.config.retry_max_s)
        next_ms = now_ms + int(delay * 1000)
        kind = (
            "failed" if next_ms <= job.first + self.config.retry_window_s * 1000 else "dead_letter"
        )
        log.info(
            "webhook delivery failed: webhook=%s event=%s attempt=%s: %s",
            job.sub,
            job.event_id,
            job.attempts + 1,
            attempt.error,
        )
        return await self._finish(
            tag,
            job,
            kind,
            now,
            attempt.status_code,
            attempt.duration_ms,
            attempt.error,
            entry,
            next_ms=next_ms,
        )

    async def _finish(
        self,
        tag: str,
        job: Job,
        kind: str,
        now: datetime,
        status: int | None,
        duration_ms: int,
        error: str | None,
        entry: dict[str, object],
        *,
        next_ms: int = 0,
        outcome: str | None = None,
    ) -> str:
        at = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = msgspec.json.encode(
            {
                **entry,
                "at": at,
                "status_code": status,
                "duration_ms": duration_ms,
                "error": error,
                "outcome": outcome or kind,
            }
        )
        result = await self.hooks.finish(
            tag,
            job,
            Outcome(
                kind=kind,
                entry=line,
                next_due_ms=next_ms,
                now=at,
                status_code=status,
                disable_after=self.config.disable_after,
            ),
        )
        if result == "stale":
            log.warning("webhook job %s: lease lost before its result (taken over)", job.id)
        return result
