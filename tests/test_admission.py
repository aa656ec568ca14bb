"""Batch slots and slow uploads: a request takes the process's batch slot only once its body
has arrived, and a body that trickles in is cut at its deadline (408)."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import httpx

from tests.readers import check_image, open_zip


def _trickle(port: int, key: str, length: int = 5000) -> socket.socket:
    """A bulk request whose headers arrive, then its body one byte at a time."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /api/v1/generate/bulk/ HTTP/1.1\r\nHost: t\r\nContent-Type: "
        b"application/json\r\nX-Api-Key: "
        + key.encode()
        + b"\r\nContent-Length: "
        + str(length).encode()
        + b"\r\n\r\n{"
    )
    return sock


def test_slow_uploads_hold_no_batch_slot_of_other_accounts(make_server) -> None:
    """10 uploads trickling in (five accounts, two each) held all the instance's batch
    slots: every other account's bulk got 503 until they ended."""
    server = make_server("embedded", max_batches_in_flight=4, body_timeout_s=30.0)
    slow = [_trickle(server.port, server.account("pro")[1]) for _ in range(5) for _ in range(2)]
    try:
        deadline = time.monotonic() + 3
        _, key = server.account("pro")
        items = [
            {"data": f"https://example.com/free/{i}", "size_inches": 1, "dpi": 150}
            for i in range(3)
        ]
        while time.monotonic() < deadline:  # every other account is served meanwhile
            for sock in slow:
                sock.sendall(b" ")
            r = httpx.post(
                server.url + "/api/v1/generate/bulk/",
                json={"items": items},
                headers={"X-Api-Key": key},
                timeout=30,
            )
            assert r.status_code == 200, r.text
            archive, manifest = open_zip(r.content)
            for item, entry in zip(items, manifest["items"]):
                check_image("png", archive.read(entry["filename"]), item["data"], 1, 150)
            time.sleep(0.3)
        status = httpx.get(server.url + "/api/status/").json()
        assert status["batches_in_flight"] == 0  # the trickling uploads hold none
    finally:
        for sock in slow:
            sock.close()


def test_an_account_cannot_trickle_more_uploads_than_its_own_slots(make_server) -> None:
    server = make_server("embedded", max_batches_in_flight=4, body_timeout_s=30.0)
    _, key = server.account("pro")
    slow = [_trickle(server.port, key) for _ in range(2)]
    try:
        time.sleep(0.3)
        r = httpx.post(
            server.url + "/api/v1/generate/bulk/",
            headers={"X-Api-Key": key},
            json={"items": [{"data": "x", "size_inches": 1}]},
            timeout=30,
        )
        assert r.status_code == 429 and "Retry-After" in r.headers, r.text
    finally:
        for sock in slow:
            sock.close()


def test_a_body_that_does_not_arrive_in_time_is_408(make_server) -> None:
    server = make_server("embedded", body_timeout_s=1.5)
    account, key = server.account("pro")
    sock = _trickle(server.port, key)
    started = time.monotonic()
    sock.settimeout(15)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            if time.monotonic() - started < 10:
                with contextlib.suppress(OSError):
                    sock.sendall(b" ")
            data = sock.recv(4096) if _readable(sock) else b""
            answer += data
            if not data:
                time.sleep(0.2)
            assert time.monotonic() - started < 12, answer
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert "did not arrive within 1.5 s" in json.loads(body)["detail"]
    assert server.admin.usage(account) == 0


def _readable(sock: socket.socket) -> bool:
    import select

    return bool(select.select([sock], [], [], 0.1)[0])
