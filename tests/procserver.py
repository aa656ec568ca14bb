"""``qrstudio serve`` as a real process: for SIGTERM, logs, and the gateway in front of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

QRSTUDIO = str(Path(sys.executable).parent / "qrstudio")


class ServeProcess:
    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
        full.update({f"QRSTUDIO_{k.upper()}": v for k, v in env.items()})
        self.log = tempfile.NamedTemporaryFile(prefix="qrstudio-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [QRSTUDIO, "serve", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=full,
        )
        self.demo_keys: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/api/health/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, f"serve exited: {self.logs()[-2000:]}"
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.1)
        if not env.get("redis_url"):
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                parts = line.split()
                if len(parts) == 2 and parts[1].startswith("smk_"):
                    self.demo_keys[parts[0]] = parts[1]
                if len(self.demo_keys) == 5:
                    break

    def logs(self) -> str:
        return Path(self.log.name).read_text()

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        os.unlink(self.log.name)
