"""The embedded store's webhooks: the same decisions as the Redis scripts, in one process.

Nothing here survives the process, as with everything in the embedded store; a lock makes each
operation atomic, like a script.
"""

from __future__ import annotations

import builtins
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

import msgspec

from .model import LOG_SIZE, WEBHOOK_PLANS, Job, QueuedEvent, Subscription, slot_tag
from .queue import Outcome

__all__ = ["MemoryHooks"]


class MemoryHooks:
    def __init__(
        self,
        attempt_state: Callable[[str, str], str | None] = lambda a, b: None,
        plan_of: Callable[[str], str | None] = lambda a: None,
    ) -> None:
        self._attempt_state = attempt_state  # the store's charge records: 'charged', 'done', ...
        self._plan_of = plan_of  # the account's plan now
        self._lock = threading.Lock()
        self._subs: dict[str, dict[str, Subscription]] = {}  # account -> id -> webhook
        self._logs: dict[tuple[str, str], deque[bytes]] = {}
        self._events: dict[str, deque[QueuedEvent]] = {}  # tag -> queue
        self._jobs: dict[str, Job] = {}
        self._due: dict[str, int] = {}
        self._seq = itertools.count(1)

    async def list(self, account: str) -> builtins.list[Subscription]:
        with self._lock:
            subs = [msgspec.structs.replace(s) for s in self._subs.get(account, {}).values()]
        return sorted(subs, key=lambda s: (s.created_at, s.id))

    async def get(self, account: str, hook: str) -> Subscription | None:
        with self._lock:
            found = self._subs.get(account, {}).get(hook)
            return msgspec.structs.replace(found) if found else None

    async def put(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.setdefault(sub.account, {})[sub.id] = msgspec.structs.replace(sub)

    async def patch(
        self, account: str, hook: str, fields: dict[str, object]
    ) -> Subscription | None:
        with self._lock:
            found = self._subs.get(account, {}).get(hook)
            if found is None:
                return None
            updated = msgspec.convert({**msgspec.to_builtins(found), **fields}, Subscription)
            self._subs[account][hook] = updated
            return msgspec.structs.replace(updated)

    async def delete(self, account: str, hook: str) -> bool:
        with self._lock:
            self._logs.pop((account, hook), None)
            return self._subs.get(account, {}).pop(hook, None) is not None

    async def log(self, account: str, hook: str) -> builtins.list[bytes]:
        with self._lock:
            return list(self._logs.get((account, hook), ()))

    def enqueue(
        self,
        account: str,
        type_: str,
        at: str,
        data: str,
        only: str = "",
        attempt: str = "",
        *,
        if_wanted: bool = False,
    ) -> str:
        """Called (under the store's own lock) by the step that causes the event; with
        ``if_wanted``, only when the account's active webhooks want this type."""
        with self._lock:
            if if_wanted and not any(
                s.status == "active" and type_ in s.events
                for s in self._subs.get(account, {}).values()
            ):
                return ""
            entry = f"{int(time.time() * 1000)}-{next(self._seq)}"
            event = QueuedEvent(
                id=entry, type=type_, at=at, account=account, data=data, only=only, attempt=attempt
            )
            self._events.setdefault(slot_tag(account), deque()).append(event)
            return event.event_id

    async def emit(self, account: str, type_: str, at: str, data: str, only: str = "") -> str:
        return self.enqueue(account, type_, at, data, only)

    async def slots(self) -> builtins.list[str]:
        with self._lock:
            return sorted(self._events)

    async def read(
        self, tag: str, consumer: str, count: int, idle_ms: int
    ) -> builtins.list[QueuedEvent]:
        with self._lock:  # read and fanned out in one breath: one process, nothing to claim
            queue = self._events.get(tag, deque())
            return [queue.popleft() for _ in range(min(count, len(queue)))]

    async def fanout(self, tag: str, event: QueuedEvent, now_ms: int) -> int:
        state = self._attempt_state(event.account, event.attempt) if event.attempt else "done"
        plan = self._plan_of(event.account)
        with self._lock:
            if state == "charged":  # its batch is still streaming: back in the queue
                self._events.setdefault(tag, deque()).append(event)
                return -2
            if state != "done":  # refunded: the code is gone
                return 0
            if plan not in WEBHOOK_PLANS:  # no longer on a plan with webhooks
                return 0
            made = 0
            for sub in self._subs.get(event.account, {}).values():
                wanted = (
                    sub.id == event.only
                    if event.only
                    else (sub.status == "active" and event.type in sub.events)
                )
                job_id = f"{sub.id}:{event.id}"
                if wanted and job_id not in self._jobs:
                    self._jobs[job_id] = Job(
                        id=job_id,
                        sub=sub.id,
                        account=event.account,
                        event_id=event.event_id,
                        type=event.type,
                        body=event.payload().decode(),
                        first=now_ms,
                    )
                    self._due[job_id] = now_ms
                    made += 1
            return made

    async def claim(
        self, tag: str, now_ms: int, lease_ms: int, limit: int, token: str
    ) -> builtins.list[Job]:
        with self._lock:
            due = sorted(
                (ms, j)
                for j, ms in self._due.items()
                if ms <= now_ms and slot_tag(self._jobs[j].account) == tag
            )[:limit]
            out = []
            for i, (_, job_id) in enumerate(due, 1):
                job = self._jobs[job_id]
                job.lease = f"{token}:{i}"
                self._due[job_id] = now_ms + lease_ms
                out.append(msgspec.structs.replace(job))
            return out

    async def finish(self, tag: str, job: Job, outcome: Outcome) -> str:
        with self._lock:
            current = self._jobs.get(job.id)
            if current is None or current.lease != job.lease:
                return "stale"
            if outcome.kind == "failed":
                current.attempts += 1
                current.lease = ""
                self._due[job.id] = outcome.next_due_ms
            else:
                del self._jobs[job.id]
                del self._due[job.id]
            sub = self._subs.get(job.account, {}).get(job.sub)
            if sub is None:  # the webhook was deleted: nothing to log or update
                return outcome.kind
            log = self._logs.setdefault((job.account, job.sub), deque(maxlen=LOG_SIZE))
            log.appendleft(outcome.entry)
            if outcome.kind == "dropped" or not outcome.counts:
                return outcome.kind
            sub.last_delivery_at = outcome.now
            sub.last_response_status = outcome.status_code
            if outcome.kind == "delivered":
                sub.consecutive_failures = 0
            else:
                sub.consecutive_failures += 1
                if sub.status == "active" and sub.consecutive_failures >= outcome.disable_after:
                    sub.status = "disabled"
            return outcome.kind
