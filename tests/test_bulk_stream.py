"""Streams that do not complete: a client that leaves, a ceiling crossed mid-stream. Both are
refunded exactly once and never leave an archive that opens. And the quota race on Redis."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile

import httpx
import pytest

from tests.readers import check_image, open_zip

URL = "/api/v1/generate/bulk/"


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_client_that_disconnects_gets_its_credits_back_once(server) -> None:
    account, key = server.account("agency")
    items = [{"data": f"https://example.com/d/{i}", "size_inches": 4} for i in range(2000)]
    with (
        httpx.Client(timeout=60) as client,
        client.stream(
            "POST", server.url + URL, json={"items": items}, headers={"X-Api-Key": key}
        ) as r,
    ):
        assert r.status_code == 200
        assert r.headers["X-QR-Quota-Remaining"] == str(25_000 - 2000)
        chunks = r.iter_raw()  # kept: a dropped iterator would close the response itself
        first = next(chunks)
        assert first.startswith(b"PK\x03\x04")
        time.sleep(0.2)
        assert server.admin.usage(account) == 2000
        # leaving the block closes the connection while the batch is still rendering
    _wait_for(lambda: server.admin.usage(account) == 0)
    time.sleep(1.0)  # a second refund would show up here
    assert server.admin.usage(account) == 0
    # the account works normally afterwards
    r = httpx.post(server.url + URL, json={"items": items[:3]}, headers={"X-Api-Key": key})
    assert r.status_code == 200 and server.admin.usage(account) == 3
    archive, _ = open_zip(r.content)
    for i in range(3):
        check_image(
            "png", archive.read(f"qr-{i + 1:04d}.png"), f"https://example.com/d/{i}", 4, 300
        )


def test_ceiling_crossed_mid_stream_aborts_without_an_archive_and_refunds(
    make_server, backend
) -> None:
    # An estimate well under the ceiling, real output well over it: the pre-flight renders
    # the first 256 distinct drawings (here small, one colour each) and takes the lower bound
    # of the rest (here large), so only the stream can know.
    small = make_server(backend, zip_ceiling_bytes=300_000)
    account, key = small.account("agency")
    items = [
        {
            "data": f"https://example.com/s/{i}",
            "size_inches": 1,
            "dpi": 72,
            "color": f"#{i:02X}0000",
        }
        for i in range(256)
    ]
    items += [
        {"data": f"https://example.com/c/{i}", "size_inches": 4, "dpi": 600} for i in range(60)
    ]
    received = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST", small.url + URL, json={"items": items}, headers={"X-Api-Key": key}, timeout=60
        ) as r,
    ):
        assert r.status_code == 200
        for chunk in r.iter_raw():
            received += chunk
    assert received.startswith(b"PK\x03\x04")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(received)))
    assert len(received) <= 300_000
    _wait_for(lambda: small.admin.usage(account) == 0)


def test_quota_race_never_overspends(make_server) -> None:
    """20 concurrent batches for the last credits of an account without overage, on Redis."""
    srv = make_server("redis", max_batches_in_flight=32, max_batches_per_account=32)
    account, key = srv.account("enterprise", monthly_quota=100)
    sizes = [7] * 20  # 140 credits asked for, 100 available: at most 14 batches fit

    async def one(client: httpx.AsyncClient, n: int) -> httpx.Response:
        items = [{"data": f"r{n}-{i}", "size_inches": 0.5, "quiet_zone": 1} for i in range(n)]
        return await client.post(srv.url + URL, json={"items": items}, headers={"X-Api-Key": key})

    async def race() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(*(one(client, n) for n in sizes))

    responses = asyncio.run(race())
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(refused) == len(sizes)
    assert len(ok) == 14
    assert srv.admin.usage(account) == 7 * len(ok) == 98
    for r in refused:
        detail = r.json()["detail"]
        assert detail.startswith("Bulk of 7 would exceed your monthly quota (")
        assert detail.endswith("/100 used).")
        used = int(detail.split("(")[1].split("/")[0])
        assert used + 7 > 100
    for r in ok:
        archive, manifest = open_zip(r.content)
        assert manifest["count"] == 7
        for i in range(7):
            check_image("png", archive.read(f"qr-{i + 1:04d}.png"), f"r7-{i}", 0.5, 300)


def test_completed_streams_are_settled_so_the_sweeper_leaves_them(server, redis_server) -> None:
    from service.limits.redis_store import RedisStore

    account, key = server.account("starter")
    r = httpx.post(
        server.url + URL,
        json={"items": [{"data": "kept", "size_inches": 1}] * 3},
        headers={"X-Api-Key": key},
    )
    archive, _ = open_zip(r.content)
    for i in range(3):
        check_image("png", archive.read(f"qr-{i + 1:04d}.png"), "kept", 1, 300)
    single = httpx.post(
        server.url + "/api/v1/generate/",
        headers={"X-Api-Key": key},
        json={"data": "kept", "size_inches": 1},
    )
    check_image("png", single.content, "kept", 1, 300)
    created = httpx.post(
        server.url + "/api/v1/dynamic/",
        headers={"X-Api-Key": key},
        json={"name": "k", "destination_url": "https://e.co"},
    )
    assert created.status_code == 201

    async def sweep() -> None:
        store = (
            RedisStore(redis_server.url, enterprise_quota=1, timeout_s=5)
            if server.backend == "redis"
            else server.admin
        )
        await store.sweep(0)
        if server.backend == "redis":
            await store.close()

    time.sleep(0.01)
    asyncio.run(sweep())
    assert server.admin.usage(account) == 4
    listing = httpx.get(server.url + "/api/v1/dynamic/", headers={"X-Api-Key": key}).json()
    assert listing["count"] == 1


def _sweeper(server, redis_server):  # type: ignore[no-untyped-def]
    from service.limits.redis_store import RedisStore

    async def sweep(older_than: float) -> int:
        if server.backend != "redis":
            return int(await server.admin.sweep(older_than))
        store = RedisStore(redis_server.url, enterprise_quota=1, timeout_s=5)
        try:
            return await store.sweep(older_than)
        finally:
            await store.close()

    return sweep


def test_a_live_slow_stream_is_never_swept_and_a_swept_one_never_completes(
    server, redis_server, monkeypatch
) -> None:
    from service.settlement import Settlement

    monkeypatch.setattr(Settlement, "HEARTBEAT_S", 0.05)
    sweep = _sweeper(server, redis_server)
    account, key = server.account("agency")
    tag = uuid.uuid4().hex[:8]
    items = [{"data": f"https://example.com/{tag}/{i}", "size_inches": 6} for i in range(120)]
    body = bytearray()
    with httpx.stream(
        "POST", server.url + URL, json={"items": items}, headers={"X-Api-Key": key}, timeout=60
    ) as r:
        for chunk in r.iter_raw(16 * 1024):  # a slow reader, beating all along
            body += chunk
            time.sleep(0.01)
            asyncio.run(sweep(1.0))  # the stream lasts longer than that: only beats save it
    archive, manifest = open_zip(bytes(body))
    assert manifest["count"] == 120
    for i, entry in enumerate(manifest["items"]):
        check_image("png", archive.read(entry["filename"]), items[i]["data"], 6, 300, read_side=450)
    assert server.admin.usage(account) == 120

    # a stream whose charge the sweeper refunds (as if it had stalled past the sweep age) is
    # cut at its next heartbeat, never completed
    monkeypatch.setattr(Settlement, "HEARTBEAT_S", 1e9)  # no heartbeat: the charge ages
    account, key = server.account("agency")
    items = [
        {"data": f"https://example.com/{tag}/stall/{i}", "size_inches": 12} for i in range(300)
    ]  # far more than socket buffers hold: it cannot finish alone
    received = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST", server.url + URL, json={"items": items}, headers={"X-Api-Key": key}, timeout=60
        ) as r,
    ):
        chunks = r.iter_raw()
        received += next(chunks)
        time.sleep(0.3)
        assert asyncio.run(sweep(0.1)) >= 1
        assert server.admin.usage(account) == 0
        monkeypatch.setattr(Settlement, "HEARTBEAT_S", 0.0)  # the next yield beats
        for chunk in chunks:
            received += chunk
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(received)))
    assert server.admin.usage(account) == 0


def _spawned_workers() -> set[int]:
    import os
    from pathlib import Path

    out = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"spawn_main" in cmdline:
            out.add(int(proc.name))
    return out


def test_a_render_worker_that_dies_cuts_its_stream_refunds_and_is_replaced() -> None:
    import os
    import signal

    from tests.conftest import LiveServer

    before = _spawned_workers()
    srv = LiveServer("embedded", None, render_threads=2)
    try:
        workers = _spawned_workers() - before
        assert len(workers) == 2
        account, key = srv.account("agency")
        items = [
            {"data": f"https://example.com/{uuid.uuid4().hex}/{i}", "size_inches": 12}
            for i in range(300)
        ]
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream(
                "POST", srv.url + URL, json={"items": items}, headers={"X-Api-Key": key}, timeout=60
            ) as r,
        ):
            chunks = r.iter_raw()
            next(chunks)
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            for _ in chunks:
                pass
        _wait_for(lambda: srv.admin.usage(account) == 0)
        fresh = [
            {"data": f"https://example.com/{uuid.uuid4().hex}", "size_inches": 2} for _ in range(3)
        ]  # not in the render cache: the new workers render them
        again = httpx.post(
            srv.url + URL, json={"items": fresh}, headers={"X-Api-Key": key}, timeout=60
        )
        assert again.status_code == 200
        archive, manifest = open_zip(again.content)
        assert [e["cache"] for e in manifest["items"]] == ["MISS"] * 3
        for i in range(3):
            check_image("png", archive.read(f"qr-{i + 1:04d}.png"), fresh[i]["data"], 2, 300)
        assert srv.admin.usage(account) == 3
        assert len(_spawned_workers() - before) == 2 and not workers & _spawned_workers()
    finally:
        srv.stop()


@pytest.mark.parametrize("lagging_writer", [False, True])
def test_a_client_that_stops_reading_stops_the_renders(
    make_server, monkeypatch, lagging_writer
) -> None:
    """Every archive byte waits for the client: a reader that pauses holds the server to its
    render window plus what the sockets buffer, never the whole archive in memory, even when
    the ZIP writer thread falls behind the renders (a busy machine). The flow control is the
    stream's, not the store's: one backend is enough."""
    from concurrent.futures import ThreadPoolExecutor

    import service.zipstream
    from tests.test_operations import _metric

    if lagging_writer:
        real = service.zipstream.stream_zip

        def slow_zip(*args, **kwargs):  # type: ignore[no-untyped-def]
            for chunk in real(*args, **kwargs):
                time.sleep(0.002)
                yield chunk

        monkeypatch.setattr(service.zipstream, "stream_zip", slow_zip)
    srv = make_server("embedded")
    _, key = srv.account("agency")
    tag = uuid.uuid4().hex[:8]
    metrics = lambda: _metric(
        httpx.get(srv.url + "/metrics").text,
        "qrstudio_items_rendered_total",
        format="png",
    )
    before = metrics()
    items = [
        {"data": f"https://example.com/{tag}/pause/{i}", "size_inches": 12} for i in range(400)
    ]  # ~64 kB each: ~25 MB of archive
    with httpx.stream(
        "POST", srv.url + URL, json={"items": items}, headers={"X-Api-Key": key}, timeout=120
    ) as r:
        assert r.status_code == 200
        chunks = r.iter_raw()
        body = bytearray(next(chunks))
        time.sleep(3)  # ample time to render all 400 if nothing held the server back
        rendered = metrics() - before
        assert rendered < 250, rendered
        for chunk in chunks:
            body += chunk
    archive, manifest = open_zip(bytes(body))
    assert manifest["count"] == 400

    def check(i: int) -> None:
        check_image(
            "png", archive.read(f"qr-{i + 1:04d}.png"), items[i]["data"], 12, 300, read_side=450
        )

    with ThreadPoolExecutor(2) as pool:  # the readers release the GIL
        list(pool.map(check, range(400)))
