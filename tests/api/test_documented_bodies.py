"""The request bodies the controllers document (``service/api/shared.body``) are never read by
Litestar: a ``data`` dependency no handler asks for is documentation only. If Litestar decoded
them, it would wait for the body before the handler ran, so the contract's check order
(401 before 413 and 400, the body's own deadline: 408) would break. Each route is sent its
headers and no body: it must answer 401 at once; with a key, a body that does not arrive is cut
at the deadline (408) where the route reads with one, and a body over the limit is 413."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest

from service.openapi import openapi_dict

# every operation whose body the document describes (method, path as the document spells it)
DOCUMENTED = sorted(
    (method.upper(), path)
    for path, item in openapi_dict()["paths"].items()
    for method, op in item.items()
    if "requestBody" in op
)
# the routes that read their body with a deadline (intake.read_body with body_timeout_s)
WITH_DEADLINE = {
    ("POST", "/api/v1/generate/bulk/"),
    ("POST", "/api/v1/generate/"),
    ("POST", "/api/v1/validate/"),
}


def _send_head(port: int, method: str, path: str, key: str | None, length: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    auth = b"X-Api-Key: " + key.encode() + b"\r\n" if key else b""
    sock.sendall(
        f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n".encode()
        + auth
        + f"Content-Length: {length}\r\n\r\n{{".encode()
    )
    return sock


def _answer(sock: socket.socket, within_s: float, trickle: bool = False) -> tuple[int, dict]:
    """The status and JSON body of the answer, which must come within ``within_s``."""
    started = time.monotonic()
    sock.setblocking(False)
    answer = b""
    while time.monotonic() - started < within_s:
        if trickle:
            with contextlib.suppress(OSError):
                sock.sendall(b" ")
        with contextlib.suppress(BlockingIOError):
            data = sock.recv(65536)
            answer += data
            head, _, body = answer.partition(b"\r\n\r\n")
            if body.rstrip().endswith(b"}"):
                return int(head.split()[1]), json.loads(body)
            if not data:
                break
        time.sleep(0.1)
    raise AssertionError(f"no answer within {within_s} s: {answer!r}")


def test_every_body_route_is_covered() -> None:
    assert len(DOCUMENTED) == 8, DOCUMENTED  # bulk, generate, validate, dynamic x2, key, hook x2


@pytest.mark.parametrize(("method", "path"), DOCUMENTED)
def test_a_documented_body_is_not_awaited_before_authentication(
    make_server, method: str, path: str
) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded", body_timeout_s=30.0)
    path = path.replace("{short_id}", "AAAAAAAA").replace("{hook_id}", "h1")
    sock = _send_head(server.port, method, path, None, 5000)
    try:
        status, body = _answer(sock, 5)  # long before the body's 30 s deadline
    finally:
        sock.close()
    assert status == 401 and set(body) == {"detail"}


@pytest.mark.parametrize(("method", "path"), sorted(WITH_DEADLINE))
def test_a_documented_body_that_trickles_is_cut_at_its_deadline(
    make_server, method: str, path: str
) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded", body_timeout_s=1.5)
    account, key = server.account("pro")
    sock = _send_head(server.port, method, path, key, 5000)
    try:
        status, body = _answer(sock, 10, trickle=True)
    finally:
        sock.close()
    assert status == 408 and "did not arrive within 1.5 s" in body["detail"]
    assert server.admin.usage(account) == 0


@pytest.mark.parametrize(("method", "path"), sorted(WITH_DEADLINE))
def test_a_documented_body_over_the_limit_is_413(make_server, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded", max_body_bytes=4096)
    _, key = server.account("pro")
    sock = _send_head(server.port, method, path, key, 100_000)
    try:
        status, body = _answer(sock, 5)
    finally:
        sock.close()
    assert status == 413 and "4096" in body["detail"]
