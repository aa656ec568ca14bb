"""A loopback webhook receiver for the tests: verifies signatures the way the README tells
receivers to, records what it got, and misbehaves on request (fails, answers slowly,
redirects, goes away)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import free_port


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """The README's check: t and v1 from the header, HMAC-SHA256 of "t.body", recent t."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return (
        hmac.compare_digest(expected, parts["v1"])
        and abs(time.time() - int(parts["t"])) <= tolerance_s
    )


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict[str, str]
    valid: bool
    answered: int

    @property
    def event(self) -> dict[str, object]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """``mode[path]``: 'ok' (204), 'fail' (500), 'slow' (6 s, then 200), 'redirect' (302)."""

    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)
    mode: dict[str, str] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = owner.mode.get(self.path, "ok")
                valid = verify(
                    owner.secrets.get(self.path, ""),
                    self.headers.get("X-QRStudio-Signature", ""),
                    body,
                )
                status = {"ok": 204, "fail": 500, "slow": 200, "redirect": 302}[mode]
                if not valid and mode == "ok":
                    status = 400  # a receiver refuses what it cannot verify
                owner.got.append(Received(self.path, body, dict(self.headers), valid, status))
                if mode == "slow":
                    time.sleep(6)
                self.send_response(status)
                if mode == "redirect":
                    self.send_header("Location", f"http://127.0.0.1:{owner.port}/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in list(self.got) if r.path == path]

    def delivered(self, path: str) -> list[Received]:
        return [r for r in self.at(path) if 200 <= r.answered < 300]

    def wait(self, path: str, n: int = 1, timeout: float = 30, ok: bool = True) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.delivered(path) if ok else self.at(path)
            if len(found) >= n:
                return found
            assert time.monotonic() < deadline, f"{path}: {len(found)} of {n} arrived"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
