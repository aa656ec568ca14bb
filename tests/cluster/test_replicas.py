"""Two ``qrstudio serve`` replicas on one Redis Cluster, behind nginx: one truth.

The quota race from both replicas at once, a code made through one redirecting through the
other, an idempotent replay across replicas, and a replica killed mid-stream whose charge the
other's sweeper refunds exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.cluster.conftest import BASE, Replicas, descendants, end, serve_on
from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"


def _bulk_lines(log: str) -> int:
    return sum(
        1
        for line in log.splitlines()
        if '"qrstudio.access"' in line and "/api/v1/generate/bulk" in line
    )


def test_quota_race_from_both_replicas_is_exact(replicas: Replicas) -> None:
    """20 concurrent batches of 7 on a quota of 100 without overage, spread by nginx over both
    replicas: exactly 14 admitted, usage exactly 98."""
    account, key = replicas.account("pro", "race", monthly_quota=100, overage=False)
    before = (_bulk_lines(replicas.a.logs()), _bulk_lines(replicas.b.logs()))

    def one(n: int) -> tuple[int, bytes, httpx.Headers]:
        items = [{"data": f"https://example.com/race/{n}/{i}", "size_inches": 1} for i in range(7)]
        r = httpx.post(
            replicas.gateway.url + BULK,
            json={"items": items},
            headers={"X-Api-Key": key},
            timeout=120,
        )
        return r.status_code, r.content, r.headers

    with ThreadPoolExecutor(20) as ex:
        results = list(ex.map(one, range(20)))
    statuses = sorted(s for s, _, _ in results)
    assert statuses == [200] * 14 + [429] * 6, statuses
    for n, (status, body, headers) in enumerate(results):
        if status == 429:
            assert "Retry-After" in headers and "exceed your monthly quota" in body.decode()
            continue
        archive, manifest = open_zip(body)
        assert manifest["count"] == 7
        for i, entry in enumerate(manifest["items"]):
            check_image(
                "png", archive.read(entry["filename"]), f"https://example.com/race/{n}/{i}", 1, 300
            )
    assert replicas.admin.usage(account) == 98
    after = (_bulk_lines(replicas.a.logs()), _bulk_lines(replicas.b.logs()))
    assert after[0] > before[0] and after[1] > before[1], "nginx used both replicas"


def test_a_code_made_on_one_replica_redirects_through_the_other(replicas: Replicas) -> None:
    _, key = replicas.account("pro", "codes")
    made = httpx.post(
        replicas.a.url + "/api/v1/dynamic/",
        headers={"X-Api-Key": key},
        json={"name": "x", "destination_url": "https://example.com/made-on-a"},
    )
    assert made.status_code == 201
    short_id = made.json()["short_id"]
    r = httpx.get(f"{replicas.b.url}/q/{short_id}/")
    assert r.status_code == 302 and r.headers["Location"] == "https://example.com/made-on-a"
    edit = httpx.patch(
        f"{replicas.b.url}/api/v1/dynamic/{short_id}/",
        headers={"X-Api-Key": key},
        json={"destination_url": "https://example.com/edited-on-b"},
    )
    assert edit.status_code == 200
    r = httpx.get(f"{replicas.a.url}/q/{short_id}/")
    assert r.status_code == 302 and r.headers["Location"] == "https://example.com/edited-on-b"
    got = httpx.get(f"{replicas.a.url}/api/v1/dynamic/{short_id}/", headers={"X-Api-Key": key})
    assert got.json()["scan_count"] == 2  # one scan through each replica


def test_an_idempotent_replay_on_the_other_replica_is_a_replay(replicas: Replicas) -> None:
    account, key = replicas.account("pro", "idem")
    items = [{"data": f"https://example.com/idem/{i}", "size_inches": 1} for i in range(3)]
    items.append(
        {
            "data_type": "dynamic",
            "size_inches": 1,
            "payload": {"name": "d", "destination_url": "https://example.com/idem-d"},
        }
    )
    h = {"X-Api-Key": key, "Idempotency-Key": "replica-replay-1"}
    first = httpx.post(replicas.a.url + BULK, json={"items": items}, headers=h, timeout=60)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    again = httpx.post(replicas.b.url + BULK, json={"items": items}, headers=h, timeout=60)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    archive, manifest = open_zip(again.content)
    for i, entry in enumerate(manifest["items"][:3]):
        check_image("png", archive.read(entry["filename"]), f"https://example.com/idem/{i}", 1, 300)
    short_id = manifest["items"][3]["dynamic"]["short_id"]
    check_image(
        "png", archive.read(manifest["items"][3]["filename"]), f"{BASE}/q/{short_id}/", 1, 300
    )
    assert replicas.admin.usage(account) == 4
    r = httpx.get(f"{replicas.b.url}/q/{short_id}/")
    assert r.status_code == 302 and r.headers["Location"] == "https://example.com/idem-d"


@pytest.mark.slow
def test_a_replica_killed_mid_stream_is_refunded_once_by_another(
    replicas: Replicas, redis_cluster
) -> None:
    """kill -9 a third replica while it streams; after the sweep age (60 s, the least allowed)
    one of the two others refunds that charge, exactly once."""
    account, key = replicas.account("agency", "swept")
    doomed = serve_on(redis_cluster)
    workers = descendants(doomed.proc.pid)
    started = False
    try:
        # a first batch on another account: the replica's render worker and its cluster
        # client are warm (the test runs after the failover's restart of a master)
        _, warm_key = replicas.account("agency", "swept-warm")
        warm = httpx.post(
            doomed.url + BULK,
            json={"items": [{"data": "https://example.com/swept/warm", "size_inches": 1}]},
            headers={"X-Api-Key": warm_key},
            timeout=120,
        )
        assert warm.status_code == 200, warm.text
        workers = descendants(doomed.proc.pid)
        items = [{"data": f"https://example.com/swept/{i}", "size_inches": 4} for i in range(3000)]
        with httpx.stream(
            "POST",
            doomed.url + BULK,
            json={"items": items},
            headers={"X-Api-Key": key},
            timeout=httpx.Timeout(60, read=180),
        ) as r:
            assert r.status_code == 200, r.read()
            # held in a name: a temporary generator is closed as soon as next() returns, and
            # closing it closes the connection, so the replica would see a client disconnect
            # (and refund, correctly) before the kill
            chunks = r.iter_raw()
            next(chunks)
            started = True  # charged: the first bytes of the archive are here
            os.kill(doomed.proc.pid, signal.SIGKILL)
            doomed.proc.wait(10)
            del chunks
    except httpx.TransportError:
        # only the kill may cut the connection; a failure before the stream started is the
        # test's own error, not a charge to sweep
        if not started:
            raise
    finally:
        log = doomed.logs()
        doomed.stop()
        end(workers)  # a killed server leaves its render workers behind
    # it died holding the charge (charged before the first byte, never settled or refunded)
    assert replicas.admin.usage(account) == 3000, log[-3000:]
    deadline = time.monotonic() + 150
    while replicas.admin.usage(account) != 0:
        assert time.monotonic() < deadline, "the charge was never swept"
        time.sleep(1)
    time.sleep(3)  # both sweepers have run again since: still exactly one refund
    assert replicas.admin.usage(account) == 0
    swept = [
        json.loads(line)
        for p in (replicas.a, replicas.b)
        for line in p.logs().splitlines()
        if "swept an unsettled charge" in line and account in line
    ]
    assert len(swept) == 1, swept
