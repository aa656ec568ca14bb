"""Processes around the replicas: nginx in front of them (deploy/nginx.conf), and what a
kill -9 leaves behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

__all__ = ["CONF", "Gateway", "descendants", "end"]

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (its render workers), to end them after a kill -9."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        todo += [int(c) for c in children]
    return found


def end(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Gateway:
    """deploy/nginx.conf with an upstream of every replica (one ``server`` line each)."""

    def __init__(self, ports: list[int], rundir: Path) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(nginx).exists(), "nginx is installed by .ci/run (Debian's nginx)"
        self.port = free_port()
        servers = "\n        ".join(f"server 127.0.0.1:{p};" for p in ports)
        text = (
            CONF.read_text()
            .replace("server 127.0.0.1:@UPSTREAM_PORT@;", servers)
            .replace("@RUNDIR@", str(rundir))
            .replace("@LISTEN_PORT@", str(self.port))
        )
        assert all(f"127.0.0.1:{p};" in text for p in ports)
        conf = rundir / "nginx.conf"
        conf.write_text(text)
        self.proc = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(rundir), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(self.url + "/api/health/").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
