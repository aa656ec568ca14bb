"""SIGTERM during a stream, and Redis going away before and during batches."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from service.limits.redis_store import RedisAdmin
from tests.conftest import LiveServer, start_redis
from tests.procserver import ServeProcess
from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"
# Rounded 6 in codes at 300 dpi: long enough (several seconds) to signal mid-stream. Each
# test gets its own content (``long_items()``): the render cache would serve a repeat at once.


def long_items(n: int = 1500) -> list[dict[str, object]]:
    tag = uuid.uuid4().hex[:8]
    return [{"data": f"https://example.com/long/{tag}/{i}", "size_inches": 6} for i in range(n)]


def _provision(url: str, plan: str = "agency") -> tuple[RedisAdmin, str, str]:
    admin = RedisAdmin(url)
    account = f"life-{uuid.uuid4().hex[:8]}"
    return admin, account, admin.create_key(account, plan=plan)


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_sigterm_lets_a_stream_finish_within_the_grace(redis_server) -> None:
    admin, account, key = _provision(redis_server.url)
    LONG = long_items()
    server = ServeProcess(redis_url=redis_server.url, shutdown_grace_s="60",
                          redis_require_durable="true")
    try:
        with httpx.stream("POST", server.url + BULK, json={"items": LONG},
                          headers={"X-Api-Key": key}, timeout=120) as r:
            assert r.status_code == 200
            chunks = r.iter_raw()
            body = bytearray(next(chunks))
            server.terminate()
            time.sleep(0.5)
            with pytest.raises(httpx.TransportError):  # no longer accepting
                httpx.get(server.url + "/api/health/", timeout=2)
            for chunk in chunks:
                body += chunk
        archive, manifest = open_zip(bytes(body))
        assert manifest["count"] == len(LONG)
        for i, entry in enumerate(manifest["items"]):
            check_image("png", archive.read(entry["filename"]), LONG[i]["data"], 6, 300)
        assert server.wait() in (0, -15)  # uvicorn re-raises the signal once it has shut down
        assert admin.usage(account) == len(LONG)
    finally:
        server.stop()


def test_sigterm_past_the_grace_cuts_the_stream_and_refunds_once(redis_server) -> None:
    admin, account, key = _provision(redis_server.url)
    LONG = long_items()
    server = ServeProcess(redis_url=redis_server.url, shutdown_grace_s="0.3")
    try:
        received = bytearray()
        with pytest.raises(httpx.RemoteProtocolError):
            with httpx.stream("POST", server.url + BULK, json={"items": LONG},
                              headers={"X-Api-Key": key}, timeout=120) as r:
                assert r.status_code == 200
                chunks = r.iter_raw()
                received += next(chunks)
                assert admin.usage(account) == len(LONG)
                server.terminate()
                for chunk in chunks:
                    received += chunk
        server.wait()
        import io
        import zipfile

        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(bytes(received)))
        assert admin.usage(account) == 0
        time.sleep(1)
        assert admin.usage(account) == 0
        assert '"shutdown' in server.logs() or "credits refunded=True" in server.logs()
    finally:
        server.stop()


def test_redis_outage_is_503_charges_nothing_and_recovers(tmp_path) -> None:
    redis = start_redis(str(tmp_path))
    srv = LiveServer("redis", redis.url, redis_timeout_s=1.0)
    LONG = long_items(400)
    try:
        admin, account, key = _provision(redis.url)
        ok = httpx.post(srv.url + BULK, json={"items": LONG[:5]}, headers={"X-Api-Key": key})
        assert ok.status_code == 200

        # stopped before a request
        assert redis.process is not None
        redis.process.terminate()
        redis.process.wait(10)
        start = time.monotonic()
        down = httpx.post(srv.url + BULK, json={"items": LONG[:5]}, headers={"X-Api-Key": key},
                          timeout=30)
        assert time.monotonic() - start < 10
        assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
        assert "nothing was charged" in down.json()["detail"]
        status = httpx.get(srv.url + "/api/status/")
        assert status.status_code == 503 and status.json()["store"]["ok"] is False

        # back, on the same data (AOF)
        redis = start_redis(str(tmp_path), port=redis.port)
        _wait_for(lambda: httpx.post(srv.url + BULK, json={"items": LONG[:3]},
                                     headers={"X-Api-Key": key}).status_code == 200)
        assert admin.usage(account) == 8

        # stopped during a batch: the batch already charged completes; new ones get 503
        with httpx.stream("POST", srv.url + BULK, json={"items": LONG[:400]},
                          headers={"X-Api-Key": key}, timeout=120) as r:
            assert r.status_code == 200
            chunks = r.iter_raw()
            body = bytearray(next(chunks))
            redis.process.terminate()
            redis.process.wait(10)
            during = httpx.post(srv.url + BULK, json={"items": LONG[:2]},
                                headers={"X-Api-Key": key}, timeout=30)
            assert during.status_code == 503
            for chunk in chunks:
                body += chunk
        archive, manifest = open_zip(bytes(body))
        assert manifest["count"] == 400
        for i, entry in enumerate(manifest["items"]):
            check_image("png", archive.read(entry["filename"]), LONG[i]["data"], 6, 300)
        redis = start_redis(str(tmp_path), port=redis.port)
        _wait_for(lambda: httpx.get(srv.url + "/api/status/").status_code == 200)
        assert admin.usage(account) == 408  # 5 + 3 + 400; the 503s cost nothing
    finally:
        srv.stop()
        if redis.process is not None and redis.process.poll() is None:
            redis.process.terminate()
            redis.process.wait(10)
