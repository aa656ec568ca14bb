"""SIGTERM during a stream, and Redis going away before and during batches."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
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
    LONG = long_items(800)  # ~2 s of stream here: signalled well before its end
    server = ServeProcess(
        redis_url=redis_server.url, shutdown_grace_s="60", redis_require_durable="true"
    )
    try:
        with httpx.stream(
            "POST", server.url + BULK, json={"items": LONG}, headers={"X-Api-Key": key}, timeout=120
        ) as r:
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
            check_image(
                "png", archive.read(entry["filename"]), LONG[i]["data"], 6, 300, read_side=450
            )
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
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream(
                "POST",
                server.url + BULK,
                json={"items": LONG},
                headers={"X-Api-Key": key},
                timeout=120,
            ) as r,
        ):
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
        down = httpx.post(
            srv.url + BULK, json={"items": LONG[:5]}, headers={"X-Api-Key": key}, timeout=30
        )
        assert time.monotonic() - start < 10
        assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
        assert "nothing was charged" in down.json()["detail"]
        status = httpx.get(srv.url + "/api/status/")
        assert status.status_code == 503 and status.json()["store"]["ok"] is False

        # back, on the same data (AOF)
        redis = start_redis(str(tmp_path), port=redis.port)
        _wait_for(
            lambda: (
                httpx.post(
                    srv.url + BULK, json={"items": LONG[:3]}, headers={"X-Api-Key": key}
                ).status_code
                == 200
            )
        )
        assert admin.usage(account) == 8

        # stopped during a batch: the batch already charged completes; new ones get 503
        with httpx.stream(
            "POST",
            srv.url + BULK,
            json={"items": LONG[:400]},
            headers={"X-Api-Key": key},
            timeout=120,
        ) as r:
            assert r.status_code == 200
            chunks = r.iter_raw()
            body = bytearray(next(chunks))
            redis.process.terminate()
            redis.process.wait(10)
            during = httpx.post(
                srv.url + BULK, json={"items": LONG[:2]}, headers={"X-Api-Key": key}, timeout=30
            )
            assert during.status_code == 503
            for chunk in chunks:
                body += chunk
        archive, manifest = open_zip(bytes(body))
        assert manifest["count"] == 400
        for i, entry in enumerate(manifest["items"]):
            check_image(
                "png", archive.read(entry["filename"]), LONG[i]["data"], 6, 300, read_side=450
            )
        redis = start_redis(str(tmp_path), port=redis.port)
        _wait_for(lambda: httpx.get(srv.url + "/api/status/").status_code == 200)
        assert admin.usage(account) == 408  # 5 + 3 + 400; the 503s cost nothing
    finally:
        srv.stop()
        if redis.process is not None and redis.process.poll() is None:
            redis.process.terminate()
            redis.process.wait(10)


def _raw_bulk(port: int, key: str, items: list[dict[str, object]]) -> socket.socket:
    """A bulk request on a socket with a small receive buffer, its headers read."""
    body = json.dumps({"items": items}).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"POST /api/v1/generate/bulk/ HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nX-Api-Key: "
        + key.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    return sock


def _read_all(sock: socket.socket) -> bytes:
    out = bytearray()
    sock.settimeout(10)
    try:
        while data := sock.recv(65536):
            out += data
    except (ConnectionResetError, TimeoutError):
        pass
    return bytes(out)


def _complete(received: bytes) -> bool:
    """The whole response: the chunked terminator after the ZIP's end record."""
    return received.endswith(b"0\r\n\r\n") and b"PK\x05\x06" in received[-200:]


_SLOW_NETWORK = """
import socket, sys, uvicorn
sock = socket.socket()
# a slow network path: the kernel holds little of a response (no autotuning; accepted sockets
# inherit it), so the tail of an archive waits in the server process for the client
sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
sock.bind(("127.0.0.1", 0))
sock.listen(16)
print(sock.getsockname()[1], flush=True)
uvicorn.run("service.app:create_served_app", factory=True, fd=sock.fileno(),
            timeout_graceful_shutdown=float(sys.argv[1]), log_level="warning")
"""


def _metric(port: int, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    return float(
        next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " "))
    )


def test_shutdown_charges_only_an_archive_that_left_the_process(redis_server) -> None:
    """SIGTERM after the archive's generator had produced its last chunk, while the tail was
    still buffered in the server (a slow reader): the process exited with those bytes, yet
    the batch stayed charged. A stream is complete only when its last byte has been handed
    to the socket; this one is cut and refunded once, and the client cannot get a whole
    archive (what was buffered is discarded)."""
    admin, account, key = _provision(redis_server.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
    env.update(QRSTUDIO_REDIS_URL=redis_server.url, QRSTUDIO_RENDER_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_NETWORK, "0.5"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        _wait_for(lambda: _metric(port, "qrstudio_batches_in_flight") == 0, timeout=60)
        items = [
            {
                "data": f"https://example.com/tail/{uuid.uuid4().hex[:8]}/{i}",
                "size_inches": 3,
                "pattern": "squares",
            }
            for i in range(300)
        ]
        sock = _raw_bulk(port, key, items)
        received = bytearray()
        # quickly up to the last member (manifest.json, ~100 KB with the central directory:
        # more than the kernel holds), then slowly until the generator has produced the
        # archive's last chunk
        while b"manifest.json" not in received[-20_000:]:
            received += sock.recv(16384)
        while _metric(port, "qrstudio_batches_in_flight") != 0:
            received += sock.recv(1024)
        assert admin.usage(account) == len(items)  # charged while the stream is under way
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        received += _read_all(sock)
        sock.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not _complete(bytes(received))
    assert admin.usage(account) == 0
    time.sleep(1)
    assert admin.usage(account) == 0
