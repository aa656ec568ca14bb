"""One real Redis Cluster (3 masters, 3 replicas) for the tests of this directory, started
once per session, and two ``qrstudio serve`` replicas on it behind nginx. The rest of the
suite keeps its single redis-server.

The slowest tests (a sweeper's 60 s wait, a failover) are marked ``slow``:
``pytest -m "not slow"`` leaves them out.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from service.limits.redis_store import RedisAdmin
from tests.cluster.rediscluster import Cluster, start_cluster
from tests.conftest import free_port
from tests.procserver import ServeProcess

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
BASE = "https://qr.example.test"
REDIS_TIMEOUT_S = 1.0
# Every replica: one render process (2 cores, shared), stream limits lifted for the quota
# race, the sweeper every second and charges unsettled for a minute (the least allowed) swept.
REPLICA_ENV = {"render_threads": "1", "max_batches_in_flight": "64",
               "max_batches_per_account": "64", "unsettled_refund_after_s": "60",
               "sweep_interval_s": "1", "redis_timeout_s": str(REDIS_TIMEOUT_S),
               "public_base_url": BASE}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a test that takes a minute or more")


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[Cluster]:
    cluster = start_cluster(tempfile.mkdtemp(prefix="qrstudio-cluster-"))
    yield cluster
    cluster.stop()


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
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def serve_on(cluster: Cluster) -> ServeProcess:
    return ServeProcess(redis_url=cluster.url, redis_cluster="true", **REPLICA_ENV)


class Gateway:
    """deploy/nginx.conf with an upstream of every replica (one ``server`` line each)."""

    def __init__(self, ports: list[int], rundir: Path) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(nginx).exists(), "nginx is installed by .ci/run (Debian's nginx)"
        self.port = free_port()
        servers = "\n        ".join(f"server 127.0.0.1:{p};" for p in ports)
        text = (CONF.read_text().replace("server 127.0.0.1:@UPSTREAM_PORT@;", servers)
                .replace("@RUNDIR@", str(rundir)).replace("@LISTEN_PORT@", str(self.port)))
        assert all(f"127.0.0.1:{p};" in text for p in ports)
        conf = rundir / "nginx.conf"
        conf.write_text(text)
        self.proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(rundir), "-g",
                                      "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
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


@dataclass
class Replicas:
    a: ServeProcess
    b: ServeProcess
    gateway: Gateway
    admin: RedisAdmin

    def account(self, plan: str, name: str, **kw: object) -> tuple[str, str]:
        account = f"t-{name}-{time.monotonic_ns() % 10**9}"
        self.admin.set_account(account, plan=plan, **kw)  # type: ignore[arg-type]
        return account, self.admin.create_key(account, name="test")


@pytest.fixture(scope="session")
def replicas(redis_cluster: Cluster) -> Iterator[Replicas]:
    a = serve_on(redis_cluster)
    b = serve_on(redis_cluster)
    rundir = Path(tempfile.mkdtemp(prefix="qrstudio-nginx-"))
    gateway = Gateway([a.port, b.port], rundir)
    admin = RedisAdmin(redis_cluster.url, cluster=True)
    yield Replicas(a, b, gateway, admin)
    gateway.stop()
    a.stop()
    b.stop()
    admin.close()
    shutil.rmtree(rundir, ignore_errors=True)
