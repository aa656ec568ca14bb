"""The service on a real Redis Cluster (one process, in-thread): every script's keys in one
slot, the startup check on every node, the render cache on the cluster, the CLI there."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import redis.cluster

from service.limits.redis_store import RedisAdmin
from service.limits.shortid import slot_of
from tests.cluster.rediscluster import Cluster
from tests.conftest import LiveServer
from tests.readers import check_image, open_zip

BASE = "http://localhost:8000"


@pytest.fixture(scope="module")
def srv(redis_cluster: Cluster) -> Iterator[LiveServer]:
    server = LiveServer("redis", redis_cluster.url, redis_cluster=True, render_threads=1)
    server.admin = RedisAdmin(redis_cluster.url, cluster=True)
    yield server
    server.stop()


def _accounts_on_every_master(srv: LiveServer, cluster: Cluster, plan: str) -> list[str]:
    """(account, key) pairs until every master holds one: the scripts run on each."""
    found: dict[int, tuple[str, str]] = {}
    while len(found) < 3:
        account, key = srv.account(plan)
        found.setdefault(cluster.node_of(f"qs:{{{account}}}:account").port, (account, key))
    return list(found.values())  # type: ignore[arg-type]


def test_bulk_dynamic_codes_charge_refund_and_redirect_on_every_master(srv, redis_cluster) -> None:
    for account, key in _accounts_on_every_master(srv, redis_cluster, "pro"):
        items = [
            {
                "data_type": "dynamic",
                "payload": {
                    "name": f"c{i}",
                    "destination_url": f"https://example.com/{account}/{i}",
                },
                "size_inches": 2,
            }
            for i in range(3)
        ]
        items.append({"data": f"https://example.com/{account}/static", "size_inches": 2})
        r = httpx.post(
            srv.url + "/api/v1/generate/bulk/",
            json={"items": items},
            headers={"X-Api-Key": key},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        archive, manifest = open_zip(r.content)
        ids = []
        for item, entry in zip(items, manifest["items"]):
            data = archive.read(entry["filename"])
            if "dynamic" in entry:
                short_id = entry["dynamic"]["short_id"]
                assert slot_of(short_id[:3]) == slot_of(account)  # drawn into the account's slot
                check_image("png", data, f"{BASE}/q/{short_id}/", 2, 300)
                ids.append(short_id)
            else:
                check_image("png", data, str(item["data"]), 2, 300)
        assert srv.admin.usage(account) == 4
        for i, short_id in enumerate(ids):
            got = httpx.get(f"{srv.url}/q/{short_id}/")
            assert got.status_code == 302
            assert got.headers["Location"] == f"https://example.com/{account}/{i}"
        api = f"{srv.url}/api/v1/dynamic/"
        h = {"X-Api-Key": key}
        assert (
            httpx.patch(
                f"{api}{ids[0]}/", headers=h, json={"destination_url": "https://example.com/moved"}
            ).status_code
            == 200
        )
        moved = httpx.get(f"{srv.url}/q/{ids[0]}/")
        assert moved.headers["Location"] == "https://example.com/moved"
        assert httpx.delete(f"{api}{ids[1]}/", headers=h).status_code == 204
        assert httpx.get(f"{srv.url}/q/{ids[1]}/").status_code == 404
        listed = httpx.get(api, headers=h).json()
        assert listed["count"] == 2 and {c["short_id"] for c in listed["results"]} == {
            ids[0],
            ids[2],
        }
        usage = httpx.get(f"{srv.url}/api/v1/usage/", headers=h).json()
        assert usage["used_this_month"] == 4 and usage["active_dynamic_qrs"] == 2


def test_another_accounts_code_is_404_not_a_cross_slot_error(srv) -> None:
    _, key_a = srv.account("pro")
    _, key_b = srv.account("pro")
    made = httpx.post(
        f"{srv.url}/api/v1/dynamic/",
        headers={"X-Api-Key": key_a},
        json={"name": "a", "destination_url": "https://example.com/a"},
    )
    assert made.status_code == 201
    short_id = made.json()["short_id"]
    for method in ("GET", "PATCH", "DELETE"):
        r = httpx.request(
            method,
            f"{srv.url}/api/v1/dynamic/{short_id}/",
            headers={"X-Api-Key": key_b},
            json={"name": "x"},
        )
        assert r.status_code == 404, (method, r.status_code, r.text)


def test_quota_and_idempotent_replay_on_the_cluster(srv) -> None:
    account, key = srv.account("starter", monthly_quota=10, overage=False)
    items = [{"data": f"https://example.com/q/{i}", "size_inches": 1} for i in range(4)]
    h = {"X-Api-Key": key, "Idempotency-Key": "cluster-replay-1"}
    first = httpx.post(
        srv.url + "/api/v1/generate/bulk/", json={"items": items}, headers=h, timeout=60
    )
    again = httpx.post(
        srv.url + "/api/v1/generate/bulk/", json={"items": items}, headers=h, timeout=60
    )
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and first.content == again.content
    archive, manifest = open_zip(again.content)
    for i, entry in enumerate(manifest["items"]):
        check_image("png", archive.read(entry["filename"]), f"https://example.com/q/{i}", 1, 300)
    more = [{"data": f"https://example.com/q/x{i}", "size_inches": 1} for i in range(7)]
    over = httpx.post(
        srv.url + "/api/v1/generate/bulk/",
        json={"items": more},
        headers={"X-Api-Key": key},
        timeout=60,
    )
    assert over.status_code == 429 and "Retry-After" in over.headers
    assert srv.admin.usage(account) == 4


def test_render_cache_lives_on_the_cluster(srv, redis_cluster) -> None:
    _, key = srv.account("pro")
    body = {"data": "https://example.com/cached-on-cluster", "size_inches": 1}
    first = httpx.post(srv.url + "/api/v1/generate/", json=body, headers={"X-Api-Key": key})
    assert first.status_code == 200
    check_image("png", first.content, body["data"], 1, 300)
    client = redis.cluster.RedisCluster.from_url(redis_cluster.url)
    try:
        deadline = 50
        while not list(client.scan_iter(match="qs:cache:*", target_nodes=client.PRIMARIES)):
            deadline -= 1
            assert deadline, "no render cache entry was written to the cluster"
            time.sleep(0.1)
    finally:
        client.close()


def test_startup_check_runs_on_every_node(redis_cluster) -> None:
    """The durability check asks every master and every replica (a failover promotes one)."""
    from service.app import make_store
    from service.settings import load_settings

    settings = load_settings({}, redis_url=redis_cluster.url, redis_cluster=True)

    async def problems() -> list[str]:
        store = make_store(settings)
        try:
            return await store.durability_problems()  # type: ignore[attr-defined,no-any-return]
        finally:
            await store.close()

    assert asyncio.run(problems()) == []
    replica = next(n for n in redis_cluster.live() if n.role() == "slave")
    replica.client().config_set("maxmemory-policy", "allkeys-lru")
    try:
        found = asyncio.run(problems())
        assert len(found) == 1 and found[0].startswith(f"{replica.name}: maxmemory-policy"), found
    finally:
        replica.client().config_set("maxmemory-policy", "noeviction")


def test_cli_manages_keys_and_accounts_on_the_cluster(redis_cluster) -> None:
    env = {
        "QRSTUDIO_REDIS_URL": redis_cluster.url,
        "QRSTUDIO_REDIS_CLUSTER": "true",
        "PATH": str(Path(sys.executable).parent),
    }
    qrstudio = str(Path(sys.executable).parent / "qrstudio")

    def run(*args: str) -> str:
        done = subprocess.run(
            [qrstudio, *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    raw = (
        run("keys", "create", "--account", "cli-cluster", "--plan", "pro", "--name", "ci")
        .strip()
        .splitlines()[-1]
    )
    assert raw.startswith("smk_")
    run("accounts", "set", "cli-cluster", "--monthly-quota", "1234")
    assert raw[:12] in run("keys", "list")
    admin = RedisAdmin(redis_cluster.url, cluster=True)
    account = admin.get_account("cli-cluster")
    assert account is not None and account.plan == "pro" and account.monthly_quota == 1234
    run("keys", "revoke", raw)
    # a revoked key stays listed, marked revoked (so rotate then revoke reads as done)
    row = next(line for line in run("keys", "list").splitlines() if raw[:12] in line)
    assert "revoked" in row
    admin.close()
