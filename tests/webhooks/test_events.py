"""Scans, edits, creations and quota crossings each produce exactly their events, from the
atomic step that causes them, on both stores."""

from __future__ import annotations

import asyncio
import collections
import time
import uuid

import httpx
import pytest

from service.assets.addresses import parse_networks
from service.limits.memory import MemoryStore
from service.limits.quota import month_of
from service.limits.redis_store import RedisAdmin, RedisStore
from service.limits.shortid import new_short_id
from service.limits.store import NewCode
from service.webhooks.model import EVENT_TYPES, Subscription
from service.webhooks.sender import Sender
from service.webhooks.worker import Deliverer, DeliveryConfig
from tests.webhooks.receiver import Receiver

HOOKS = "/api/v1/webhooks/"


def call(server, key: str, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"X-Api-Key": key}, timeout=60, **kw)  # type: ignore[arg-type]


def listen(server, key: str, receiver: Receiver, events: list[str]) -> tuple[str, str]:
    path = f"/events-{uuid.uuid4().hex}"
    r = call(server, key, "POST", HOOKS, json={"url": receiver.url(path), "events": events})
    assert r.status_code == 201, r.text
    receiver.secrets[path] = r.json()["secret"]
    return path, r.json()["id"]


def settled(receiver: Receiver, path: str, n: int) -> list[dict[str, object]]:
    """The n events delivered to ``path``, after a pause in which an extra one would show."""
    got = receiver.wait(path, n)
    time.sleep(0.6)
    got = receiver.delivered(path)
    assert all(r.valid for r in got)
    assert len({r.event["id"] for r in got}) == len(got), "an event arrived twice"
    return [r.event for r in got]


def test_codes_scans_and_edits(hook_server, receiver: Receiver) -> None:
    account, key = hook_server.account("pro")
    everything, every_id = listen(hook_server, key, receiver, list(EVENT_TYPES))
    edits, _ = listen(hook_server, key, receiver, ["dynamic_qr.updated"])
    _, other_key = hook_server.account("pro")  # another account's activity is not ours

    code = call(
        hook_server,
        key,
        "POST",
        "/api/v1/dynamic/",
        json={"name": "Menu", "destination_url": "https://example.com/menu"},
    ).json()
    sid = code["short_id"]
    other = call(
        hook_server,
        other_key,
        "POST",
        "/api/v1/dynamic/",
        json={"name": "x", "destination_url": "https://example.com/x"},
    ).json()
    for ua, ref in [("Mozilla/5.0 (iPhone)", "https://t.co/x"), ("Android", ""), ("curl", "")]:
        hop = httpx.get(
            f"{hook_server.url}/q/{sid}/",
            follow_redirects=False,
            headers={"User-Agent": ua, **({"Referer": ref} if ref else {})},
        )
        assert hop.status_code == 302
    httpx.get(f"{hook_server.url}/q/{other['short_id']}/", follow_redirects=False)
    path = f"/api/v1/dynamic/{sid}/"
    assert (
        call(
            hook_server, key, "PATCH", path, json={"destination_url": "https://example.com/menu2"}
        ).status_code
        == 200
    )
    assert call(hook_server, key, "PATCH", path, json={"name": "Menu"}).status_code == 200
    assert call(hook_server, key, "PATCH", path, json={"is_active": False}).status_code == 200
    assert httpx.get(f"{hook_server.url}/q/{sid}/").status_code == 200  # the paused page
    bulk = call(
        hook_server,
        key,
        "POST",
        "/api/v1/generate/bulk/",
        json={
            "items": [
                {
                    "data_type": "dynamic",
                    "size_inches": 1,
                    "payload": {
                        "name": f"Card {i}",
                        "destination_url": f"https://example.com/c{i}",
                    },
                }
                for i in range(2)
            ]
        },
    )
    assert bulk.status_code == 200

    got = settled(receiver, everything, 1 + 4 + 2 + 2)
    assert collections.Counter(e["type"] for e in got) == {
        "dynamic_qr.created": 3,
        "scan.created": 4,
        "dynamic_qr.updated": 2,
    }
    created = [e for e in got if e["type"] == "dynamic_qr.created"]
    first = next(e["data"] for e in created if e["data"]["short_id"] == sid)
    assert first == {
        "id": code["id"],
        "short_id": sid,
        "name": "Menu",
        "destination_url": "https://example.com/menu",
        "is_active": True,
        "created_at": code["created_at"],
    }
    scans = sorted(
        (e["data"] for e in got if e["type"] == "scan.created"),
        key=lambda d: (d["paused"], d["user_agent_family"]),
    )
    assert [(d["user_agent_family"], d["referrer_host"], d["paused"]) for d in scans] == [
        ("android", None, False),
        ("ios", "t.co", False),
        ("other", None, False),
        ("other", None, True),
    ]
    assert all(d["short_id"] == sid and d["dynamic_qr_id"] == code["id"] for d in scans)
    updates = sorted(
        (e["data"] for e in got if e["type"] == "dynamic_qr.updated"),
        key=lambda d: d["destination_changes_count"] + (not d["is_active"]),
    )
    assert [u["changes"] for u in updates] == [["destination_url"], ["is_active"]]
    assert updates[0]["destination_url"] == "https://example.com/menu2"
    for e in got:
        assert set(e) == {"id", "type", "created_at", "data"} and e["id"].startswith("evt_")
    assert sorted(e["type"] for e in settled(receiver, edits, 2)) == ["dynamic_qr.updated"] * 2

    # a disabled webhook is sent nothing; enabled again, it gets what happens from then on
    assert (
        call(hook_server, key, "PATCH", f"{HOOKS}{every_id}/", json={"status": "disabled"}).json()[
            "status"
        ]
        == "disabled"
    )
    httpx.get(f"{hook_server.url}/q/{sid}/")
    call(hook_server, key, "PATCH", f"{HOOKS}{every_id}/", json={"status": "active"})
    call(hook_server, key, "PATCH", path, json={"is_active": True})
    last = settled(receiver, everything, len(got) + 1)
    assert [e["type"] for e in last[len(got) :]] == ["dynamic_qr.updated"]


def test_quota_thresholds_once_each(hook_server, receiver: Receiver) -> None:
    _, key = hook_server.account("pro", monthly_quota=8)  # pro has overage: renders go on
    path, _ = listen(hook_server, key, receiver, ["quota.threshold_75", "quota.threshold_100"])
    for i in range(10):
        r = call(
            hook_server,
            key,
            "POST",
            "/api/v1/generate/",
            json={"data": f"https://example.com/{i}", "size_inches": 1},
        )
        assert r.status_code == 200, r.text
    got = settled(receiver, path, 2)
    by_type = {e["type"]: e["data"] for e in got}
    assert by_type == {
        "quota.threshold_75": {
            "plan": "pro",
            "monthly_quota": 8,
            "used_this_month": 6,
            "threshold": 75,
            "month": month_of(),
        },
        "quota.threshold_100": {
            "plan": "pro",
            "monthly_quota": 8,
            "used_this_month": 8,
            "threshold": 100,
            "month": month_of(),
        },
    }


CONFIG = DeliveryConfig(
    poll_s=0.02,
    lease_s=10,
    claim_idle_s=0.3,
    retry_base_s=0.1,
    retry_max_s=0.2,
    retry_window_s=5,
    disable_after=100,
    concurrency=4,
)


@pytest.mark.parametrize("kind", ["embedded", "redis"])
def test_codes_of_a_refunded_batch_are_never_announced(
    kind: str, own_redis, receiver: Receiver
) -> None:
    """dynamic_qr.created enters the queue in the charge, but waits for the batch to settle:
    a batch cut and refunded created no code, so its events are dropped."""
    path = f"/refund-{uuid.uuid4().hex}"

    async def run() -> None:
        if kind == "embedded":
            store = admin = MemoryStore(enterprise_quota=1_000_000)
        else:
            store = RedisStore(own_redis.url, enterprise_quota=1_000_000, timeout_s=5)
            admin = RedisAdmin(own_redis.url)
        account = f"t-refund-{uuid.uuid4().hex[:10]}"
        admin.set_account(account, plan="pro")
        await store.hooks.put(
            Subscription(
                id="wh_" + uuid.uuid4().hex[:16],
                account=account,
                url=receiver.url(path),
                events=["dynamic_qr.created"],
                created_at="2026-12-01T00:00:00+00:00",
                secret="whsec_x",
            )
        )
        receiver.secrets[path] = "whsec_x"
        worker = Deliverer(
            store.hooks, Sender(allowed=parse_networks("127.0.0.0/8"), allow_http=True), CONFIG
        )
        month = month_of()
        kept, cut = new_short_id(account), new_short_id(account)
        assert (
            await store.charge(
                account,
                "a-kept",
                1,
                bulk=False,
                month=month,
                codes=[NewCode(kept, "kept", "https://e.com/k")],
            )
        ).status == "ok"
        assert (
            await store.charge(
                account,
                "a-cut",
                1,
                bulk=False,
                month=month,
                codes=[NewCode(cut, "cut", "https://e.com/c")],
            )
        ).status == "ok"
        for _ in range(5):  # both still streaming: nothing goes out
            await worker.round()
        assert receiver.at(path) == []
        assert await store.refund(account, "a-cut", month, [cut])
        assert await store.settle(account, "a-kept")
        deadline = time.monotonic() + 20
        while not receiver.delivered(path):
            assert time.monotonic() < deadline
            await worker.round()
            await asyncio.sleep(0.02)
        for _ in range(5):
            await worker.round()
        assert [r.event["data"]["short_id"] for r in receiver.at(path)] == [kept]
        await store.close()

    asyncio.run(run())


def test_the_redirect_stays_one_round_trip_with_scan_events(tmp_path) -> None:
    """MONITOR on a Redis of the test's own: with a webhook wanting scan.created, each
    redirect is still one command (scan.lua queues the event inside), and each scan is on
    the stream. The delivery worker is off, so that only the redirects talk to Redis."""
    import threading

    from service.webhooks.model import slot_tag
    from service.webhooks.queue import stream_key
    from tests.conftest import LiveServer, start_redis
    from tests.webhooks.conftest import HOOKS as SETTINGS

    redis = start_redis(str(tmp_path))
    srv = LiveServer("redis", redis.url, **{**SETTINGS, "webhook_workers": 0})
    try:
        account, key = srv.account("pro")
        listen(srv, key, Receiver(), ["scan.created"])
        sid = call(
            srv,
            key,
            "POST",
            "/api/v1/dynamic/",
            json={"name": "a", "destination_url": "https://a.co"},
        ).json()["short_id"]
        httpx.get(f"{srv.url}/q/{sid}/")  # the first call may load the script
        seen: list[tuple[str, str]] = []
        ready, done = threading.Event(), threading.Event()

        def watch() -> None:
            with redis.client().monitor() as monitor:
                ready.set()
                for event in monitor.listen():
                    if done.is_set():
                        return
                    seen.append((event.get("client_type", ""), event["command"]))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        ready.wait(10)
        time.sleep(0.3)
        for _ in range(10):
            assert httpx.get(f"{srv.url}/q/{sid}/").status_code == 302
        time.sleep(0.3)
        done.set()
        redis.client().ping()
        watcher.join(10)
        sent = [cmd for kind, cmd in seen if kind != "lua" and not cmd.startswith("PING")]
        assert len(sent) == 10 and all(cmd.startswith("EVALSHA") for cmd in sent), sent
        assert sum(cmd.startswith("XADD") for kind, cmd in seen if kind == "lua") == 10
        entries = redis.client().xrange(stream_key(slot_tag(account)))
        scans = [f for _, f in entries if f[b"type"] == b"scan.created"]
        assert len(scans) == 11 and all(f[b"account"] == account.encode() for f in scans)
    finally:
        srv.stop()
        assert redis.process is not None
        redis.process.terminate()
        redis.process.wait(10)


@pytest.mark.parametrize("kind", ["embedded", "redis"])
def test_an_account_below_pro_is_sent_nothing(kind: str, own_redis, receiver: Receiver) -> None:
    """Webhooks are Pro and above: an account moved to a lower plan keeps its webhooks but its
    events are dropped when they are fanned out, until it is back on such a plan."""
    path = f"/downgraded-{uuid.uuid4().hex}"

    async def run() -> None:
        if kind == "embedded":
            store = admin = MemoryStore(enterprise_quota=1_000_000)
        else:
            store = RedisStore(own_redis.url, enterprise_quota=1_000_000, timeout_s=5)
            admin = RedisAdmin(own_redis.url)
        account = f"t-down-{uuid.uuid4().hex[:10]}"
        admin.set_account(account, plan="pro")
        await store.hooks.put(
            Subscription(
                id="wh_" + uuid.uuid4().hex[:16],
                account=account,
                url=receiver.url(path),
                events=["scan.created"],
                created_at="2026-12-01T00:00:00+00:00",
                secret="whsec_x",
            )
        )
        worker = Deliverer(
            store.hooks, Sender(allowed=parse_networks("127.0.0.0/8"), allow_http=True), CONFIG
        )
        admin.set_account(account, plan="starter")
        await store.hooks.emit(account, "scan.created", "2026-12-01T00:00:00+00:00", "{}")
        for _ in range(3):
            await worker.round()
        admin.set_account(account, plan="agency")
        later = await store.hooks.emit(account, "scan.created", "2026-12-01T00:00:01+00:00", "{}")
        receiver.secrets[path] = "whsec_x"
        deadline = time.monotonic() + 20
        while not receiver.delivered(path):
            assert time.monotonic() < deadline
            await worker.round()
            await asyncio.sleep(0.02)
        for _ in range(3):
            await worker.round()
        assert [r.event["id"] for r in receiver.at(path)] == [later]
        await store.close()

    asyncio.run(run())
