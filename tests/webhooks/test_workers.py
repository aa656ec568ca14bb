"""The shared queue on Redis: replicas split the work without delivering an event twice, an
event read by a worker that died is taken over, and kill -9 loses nothing."""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from datetime import UTC, datetime

import httpx
import redis.asyncio as aioredis

from service.assets.addresses import parse_networks
from service.limits.redis_store import RedisAdmin
from service.webhooks.model import Subscription, slot_tag
from service.webhooks.queue import GROUP, RedisHooks, stream_key
from service.webhooks.sender import Sender
from service.webhooks.worker import Deliverer, DeliveryConfig
from tests.procserver import ServeProcess
from tests.webhooks.conftest import HOOKS
from tests.webhooks.receiver import Receiver

CONFIG = DeliveryConfig(
    poll_s=0.02,
    lease_s=10,
    claim_idle_s=0.3,
    retry_base_s=0.1,
    retry_max_s=0.2,
    retry_window_s=10,
    disable_after=100,
    concurrency=4,
)


def _sender() -> Sender:
    return Sender(allowed=parse_networks("127.0.0.0/8"), allow_http=True)


async def _subscribe(hooks: RedisHooks, receiver: Receiver, path: str) -> Subscription:
    account = f"t-workers-{uuid.uuid4().hex[:10]}"
    await hooks._redis.hset(f"qs:{{{account}}}:account", "plan", "pro")
    sub = Subscription(
        id="wh_" + uuid.uuid4().hex[:16],
        account=account,
        url=receiver.url(path),
        events=["scan.created"],
        created_at="2026-12-01T00:00:00+00:00",
        secret="whsec_test",
    )
    await hooks.put(sub)
    receiver.secrets[path] = sub.secret
    return sub


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def test_two_workers_never_both_deliver_an_event(own_redis, receiver: Receiver) -> None:
    path = f"/pair-{uuid.uuid4().hex}"

    async def run() -> None:
        clients = [aioredis.Redis.from_url(own_redis.url) for _ in range(2)]
        hooks = [RedisHooks(c) for c in clients]
        sub = await _subscribe(hooks[0], receiver, path)
        ids = [
            await hooks[0].emit(sub.account, "scan.created", _now(), f'{{"n": {i}}}')
            for i in range(40)
        ]
        workers = [
            Deliverer(h, _sender(), CONFIG, consumer=f"replica-{i}") for i, h in enumerate(hooks)
        ]
        tasks = [asyncio.create_task(w.run_forever()) for w in workers]
        deadline = time.monotonic() + 60
        while len({r.event["id"] for r in receiver.delivered(path)}) < 40:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a double delivery would have time to show
        for t in tasks:
            t.cancel()
        counts = collections.Counter(r.event["id"] for r in receiver.delivered(path))
        assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
        assert all(r.valid for r in receiver.at(path))
        stream = stream_key(slot_tag(sub.account))
        pending = await clients[0].xpending(stream, GROUP)
        assert pending["pending"] == 0
        for c in clients:
            await c.aclose()

    asyncio.run(run())


def test_an_event_read_by_a_dead_worker_is_taken_over(own_redis, receiver: Receiver) -> None:
    path = f"/ghost-{uuid.uuid4().hex}"

    async def run() -> None:
        client = aioredis.Redis.from_url(own_redis.url)
        hooks = RedisHooks(client)
        sub = await _subscribe(hooks, receiver, path)
        tag = slot_tag(sub.account)
        await hooks.read(tag, "ghost", 1000, 3_600_000)  # drain what others left here
        event_id = await hooks.emit(sub.account, "scan.created", _now(), "{}")
        taken = await hooks.read(tag, "ghost", 10, 3_600_000)  # read, then "dies"
        assert [e.event_id for e in taken] == [event_id]
        worker = Deliverer(hooks, _sender(), CONFIG, consumer="survivor")
        task = asyncio.create_task(worker.run_forever())
        deadline = time.monotonic() + 30
        while not receiver.delivered(path):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        task.cancel()
        assert [r.event["id"] for r in receiver.delivered(path)] == [event_id]
        await client.aclose()

    asyncio.run(run())


def _serve(redis_url: str, workers: int) -> ServeProcess:
    env = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in HOOKS.items()}
    return ServeProcess(
        redis_url=redis_url, webhook_workers=str(workers), webhook_lease_s="6", **env
    )


def test_kill_9_between_an_event_and_its_delivery(own_redis, receiver: Receiver) -> None:
    admin = RedisAdmin(own_redis.url)
    account = f"t-kill-{uuid.uuid4().hex[:10]}"
    admin.set_account(account, plan="pro")
    key = admin.create_key(account, name="kill")
    queued, retried = f"/queued-{uuid.uuid4().hex}", f"/retried-{uuid.uuid4().hex}"
    receiver.mode[retried] = "fail"

    first = _serve(own_redis.url, workers=0)  # queues, delivers nothing
    try:
        api = httpx.Client(base_url=first.url, headers={"X-Api-Key": key}, timeout=30)
        hook = api.post(
            "/api/v1/webhooks/", json={"url": receiver.url(queued), "events": ["scan.created"]}
        ).json()
        receiver.secrets[queued] = hook["secret"]
        sid = api.post(
            "/api/v1/dynamic/", json={"name": "kill", "destination_url": "https://e.com/k"}
        ).json()["short_id"]
        assert httpx.get(f"{first.url}/q/{sid}/").status_code == 302  # scan.created queued
        event = api.post(f"/api/v1/webhooks/{hook['id']}/test/").json()
        first.proc.kill()  # SIGKILL: the events are only in Redis now
        first.proc.wait(10)
    finally:
        first.stop()

    second = _serve(own_redis.url, workers=4)  # delivers, fails, dies mid-retry
    try:
        api = httpx.Client(base_url=second.url, headers={"X-Api-Key": key}, timeout=30)
        got = receiver.wait(queued, 2)
        assert sorted(r.event["type"] for r in got) == ["scan.created", "webhook.test"]
        assert event["id"] in {r.event["id"] for r in got} and all(r.valid for r in got)
        assert [
            r.event["data"]["short_id"]
            for r in got  # type: ignore[index]
            if r.event["type"] == "scan.created"
        ] == [sid]
        hook2 = api.post(
            "/api/v1/webhooks/", json={"url": receiver.url(retried), "events": ["scan.created"]}
        ).json()
        receiver.secrets[retried] = hook2["secret"]
        event2 = api.post(f"/api/v1/webhooks/{hook2['id']}/test/").json()
        receiver.wait(retried, ok=False)
        second.proc.kill()
        second.proc.wait(10)
    finally:
        second.stop()
    receiver.mode[retried] = "ok"

    third = _serve(own_redis.url, workers=4)
    try:
        (done,) = receiver.wait(retried)
        assert done.event["id"] == event2["id"] and done.valid
        time.sleep(1)
        assert len(receiver.delivered(retried)) == 1 and len(receiver.delivered(queued)) == 2
    finally:
        third.stop()
        admin.close()


def test_queued_and_retrying_deliveries_survive_a_redis_crash(tmp_path, receiver: Receiver) -> None:
    """kill -9 the append-only Redis with one event still on the stream and one delivery
    between two attempts; both are delivered from the restarted Redis."""
    import os
    import signal

    from tests.conftest import start_redis

    server = start_redis(str(tmp_path))
    queued, retried = f"/rq-{uuid.uuid4().hex}", f"/rr-{uuid.uuid4().hex}"
    receiver.mode[retried] = "fail"

    async def before() -> tuple[str, str]:
        client = aioredis.Redis.from_url(server.url)
        hooks = RedisHooks(client)
        sub = await _subscribe(hooks, receiver, retried)
        worker = Deliverer(hooks, _sender(), CONFIG, consumer="before")
        retrying = await hooks.emit(sub.account, "scan.created", _now(), "{}")
        while not receiver.at(retried):
            await worker.round()
            await asyncio.sleep(0.02)
        sub2 = await _subscribe(hooks, receiver, queued)
        waiting = await hooks.emit(sub2.account, "scan.created", _now(), "{}")
        await asyncio.sleep(0.3)  # the failed attempt's result is recorded
        jobs = await client.hgetall(f"qs:{{{slot_tag(sub.account)}}}:wh:jobs")
        assert any(b'"attempts":1' in j for j in jobs.values())  # between two attempts
        await client.aclose()
        return retrying, waiting

    retrying, waiting = asyncio.run(before())
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    receiver.mode[retried] = "ok"
    server = start_redis(str(tmp_path), port=server.port)
    try:

        async def after() -> None:
            client = aioredis.Redis.from_url(server.url)
            worker = Deliverer(RedisHooks(client), _sender(), CONFIG, consumer="after")
            deadline = time.monotonic() + 30
            while not (receiver.delivered(retried) and receiver.delivered(queued)):
                assert time.monotonic() < deadline
                await worker.round()
                await asyncio.sleep(0.05)
            await client.aclose()

        asyncio.run(after())
        assert [r.event["id"] for r in receiver.delivered(retried)] == [retrying]
        assert [r.event["id"] for r in receiver.delivered(queued)] == [waiting]
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.terminate()
            server.process.wait(10)
