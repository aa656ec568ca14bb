"""What webhooks need from a store: subscriptions, the event queue and the delivery jobs.

Both stores carry one (``store.hooks``): ``RedisHooks`` here, ``MemoryHooks`` in
``memory_hooks.py`` (the embedded, single-process twin: same decisions, nothing durable).
"""

from __future__ import annotations

import builtins
from importlib import resources
from typing import Protocol

import msgspec
import redis
import redis.asyncio as aioredis

from ..limits.redis_conn import again
from .model import WEBHOOK_PLANS, Job, QueuedEvent, Subscription, event_id, slot_tag

__all__ = [
    "GROUP",
    "Hooks",
    "Outcome",
    "RedisHooks",
    "event_keys",
    "hooks_key",
    "interest_key",
    "log_key",
    "stream_key",
]

GROUP = "deliver"
SLOTS_KEY = "qs:wh:slots"
_sub = msgspec.json.Decoder(Subscription)
_job = msgspec.json.Decoder(Job)


def _lua(name: str) -> str:
    return resources.files("service.limits").joinpath(name).read_text()


def hooks_key(account: str) -> str:
    return f"qs:{{{account}}}:webhooks"


def log_key(account: str, hook: str) -> str:
    return f"qs:{{{account}}}:wh:{hook}:log"


def stream_key(tag: str) -> str:
    return f"qs:{{{tag}}}:events"


def interest_key(tag: str) -> str:
    return f"qs:{{{tag}}}:wh:interest"


def event_keys(tag: str) -> tuple[str, str]:
    """The stream and the interest hash an event-emitting script gets, for the slot of
    ``tag`` (an account id, or a short id's 3-character token)."""
    slot = slot_tag(tag)
    return stream_key(slot), interest_key(slot)


def _due(tag: str) -> str:
    return f"qs:{{{tag}}}:wh:due"


def _jobs(tag: str) -> str:
    return f"qs:{{{tag}}}:wh:jobs"


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt's result, as ``wh_result.lua`` records it."""

    kind: str  # delivered, failed, dead_letter, dropped
    entry: bytes  # the log line
    next_due_ms: int = 0
    now: str
    status_code: int | None = None
    disable_after: int
    counts: bool = True  # test events do not move the webhook's state


class Hooks(Protocol):
    async def list(self, account: str) -> builtins.list[Subscription]: ...

    async def get(self, account: str, hook: str) -> Subscription | None: ...

    async def put(self, sub: Subscription) -> None: ...

    async def patch(
        self, account: str, hook: str, fields: dict[str, object]
    ) -> Subscription | None: ...

    async def delete(self, account: str, hook: str) -> bool: ...

    async def log(self, account: str, hook: str) -> builtins.list[bytes]: ...

    async def emit(self, account: str, type_: str, at: str, data: str, only: str = "") -> str: ...

    async def slots(self) -> builtins.list[str]: ...

    async def read(
        self, tag: str, consumer: str, count: int, idle_ms: int
    ) -> builtins.list[QueuedEvent]: ...

    async def fanout(self, tag: str, event: QueuedEvent, now_ms: int) -> int: ...

    async def claim(
        self, tag: str, now_ms: int, lease_ms: int, limit: int, token: str
    ) -> builtins.list[Job]: ...

    async def finish(self, tag: str, job: Job, outcome: Outcome) -> str: ...


class RedisHooks:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._save = client.register_script(_lua("wh_save.lua"))
        self._fanout = client.register_script(_lua("wh_fanout.lua"))
        self._claim = client.register_script(_lua("wh_claim.lua"))
        self._result = client.register_script(_lua("wh_result.lua"))
        self._groups: set[str] = set()

    async def list(self, account: str) -> builtins.list[Subscription]:
        found = await again(lambda: self._redis.hvals(hooks_key(account)))
        return sorted((_sub.decode(b) for b in found), key=lambda s: (s.created_at, s.id))

    async def get(self, account: str, hook: str) -> Subscription | None:
        blob = await again(lambda: self._redis.hget(hooks_key(account), hook))
        return _sub.decode(blob) if blob else None

    async def _write(self, account: str, hook: str, mode: str, blob: bytes) -> bytes | None:
        tag = slot_tag(account)
        found = await again(
            lambda: self._save(
                keys=[hooks_key(account), interest_key(tag)], args=[account, hook, mode, blob]
            )
        )
        return found or None

    async def put(self, sub: Subscription) -> None:
        tag = slot_tag(sub.account)
        await self._ensure_group(tag)
        await self._redis.sadd(SLOTS_KEY, tag)
        await self._write(sub.account, sub.id, "put", msgspec.json.encode(sub))

    async def patch(
        self, account: str, hook: str, fields: dict[str, object]
    ) -> Subscription | None:
        found = await self._write(account, hook, "patch", msgspec.json.encode(fields))
        return _sub.decode(found) if found else None

    async def delete(self, account: str, hook: str) -> bool:
        found = await self._write(account, hook, "delete", b"")
        if found:
            await self._redis.delete(log_key(account, hook))
        return found is not None

    async def log(self, account: str, hook: str) -> builtins.list[bytes]:
        return list(await again(lambda: self._redis.lrange(log_key(account, hook), 0, -1)))

    async def emit(self, account: str, type_: str, at: str, data: str, only: str = "") -> str:
        """An event from Python (the test trigger); the scripts emit the others themselves."""
        fields = {"type": type_, "at": at, "account": account, "data": data}
        if only:
            fields["only"] = only
        tag = slot_tag(account)
        entry = await self._redis.xadd(stream_key(tag), fields)
        return event_id(tag, entry.decode())

    async def slots(self) -> builtins.list[str]:
        return sorted(t.decode() for t in await again(lambda: self._redis.smembers(SLOTS_KEY)))

    async def _ensure_group(self, tag: str) -> None:
        if tag in self._groups:
            return
        try:
            await self._redis.xgroup_create(stream_key(tag), GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(tag)

    async def read(
        self, tag: str, consumer: str, count: int, idle_ms: int
    ) -> builtins.list[QueuedEvent]:
        """Entries other consumers read but did not fan out (they died) for ``idle_ms``, then
        new ones."""
        await self._ensure_group(tag)
        stream = stream_key(tag)
        try:
            _, stale, *_ = await self._redis.xautoclaim(
                stream, GROUP, consumer, idle_ms, "0-0", count=count
            )
            # this consumer's own pending entries: events waiting for their batch to settle
            mine = await self._redis.xreadgroup(GROUP, consumer, {stream: "0"}, count=count)
            fresh = await self._redis.xreadgroup(GROUP, consumer, {stream: ">"}, count=count)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # a Redis that lost its data: make the group again
                self._groups.discard(tag)
            raise
        entries = list(stale) + [e for part in (mine, fresh) for _, items in part for e in items]
        out: dict[str, QueuedEvent] = {}
        for entry_id, fields in entries:
            if not fields:  # deleted meanwhile
                continue
            f = {k.decode(): v.decode() for k, v in fields.items()}
            out[entry_id.decode()] = QueuedEvent(
                id=entry_id.decode(),
                type=f.get("type", ""),
                at=f.get("at", ""),
                account=f.get("account", ""),
                data=f.get("data", "{}"),
                only=f.get("only", ""),
                attempt=f.get("attempt", ""),
            )
        return list(out.values())

    async def fanout(self, tag: str, event: QueuedEvent, now_ms: int) -> int:
        keys = [
            stream_key(tag),
            hooks_key(event.account),
            _due(tag),
            _jobs(tag),
            f"qs:{{{event.account}}}:account",
        ]
        if event.attempt:
            keys.append(f"qs:{{{event.account}}}:attempt:{event.attempt}")
        return int(
            await again(
                lambda: self._fanout(
                    keys=keys,
                    args=[
                        GROUP,
                        event.id,
                        event.type,
                        event.payload(),
                        event.event_id,
                        now_ms,
                        event.only,
                        event.account,
                        " " + " ".join(WEBHOOK_PLANS) + " ",
                    ],
                )
            )
        )

    async def claim(
        self, tag: str, now_ms: int, lease_ms: int, limit: int, token: str
    ) -> builtins.list[Job]:
        found = await self._claim(
            keys=[_due(tag), _jobs(tag)], args=[now_ms, lease_ms, limit, token]
        )
        return [_job.decode(b) for b in found]

    async def finish(self, tag: str, job: Job, outcome: Outcome) -> str:
        raw = await again(
            lambda: self._result(
                keys=[
                    _due(tag),
                    _jobs(tag),
                    hooks_key(job.account),
                    log_key(job.account, job.sub),
                    interest_key(tag),
                ],
                args=[
                    job.id,
                    job.lease,
                    outcome.kind,
                    outcome.entry,
                    outcome.next_due_ms,
                    outcome.now,
                    "" if outcome.status_code is None else outcome.status_code,
                    outcome.disable_after,
                    100,
                    job.account,
                    "1" if outcome.counts else "0",
                ],
            )
        )
        return raw.decode() if isinstance(raw, bytes) else str(raw)
