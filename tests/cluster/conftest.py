"""One real Redis Cluster (3 masters, 3 replicas) for the tests of this directory, started
once per session, and two ``qrstudio serve`` replicas on it behind nginx. The rest of the
suite keeps its single redis-server.

The slowest tests (a sweeper's 60 s wait, a failover) are marked ``slow``:
``pytest -m "not slow"`` leaves them out.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.limits.redis_store import RedisAdmin
from tests.cluster.processes import Gateway, descendants, end
from tests.cluster.rediscluster import Cluster, start_cluster
from tests.procserver import ServeProcess

__all__ = ["BASE", "REDIS_TIMEOUT_S", "Replicas", "descendants", "end", "serve_on"]
BASE = "https://qr.example.test"
REDIS_TIMEOUT_S = 1.0
# Every replica: one render process (2 cores, shared), stream limits and the per-key request
# rate lifted (the quota race and the failover load send faster than any plan's rate), the
# sweeper every second and charges unsettled for a minute (the least allowed) swept.
REPLICA_ENV = {
    "render_threads": "1",
    "max_batches_in_flight": "64",
    "rate_limit": "false",
    "max_batches_per_account": "64",
    "unsettled_refund_after_s": "60",
    "sweep_interval_s": "1",
    "redis_timeout_s": str(REDIS_TIMEOUT_S),
    "public_base_url": BASE,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a test that takes a minute or more")


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[Cluster]:
    cluster = start_cluster(tempfile.mkdtemp(prefix="qrstudio-cluster-"))
    yield cluster
    cluster.stop()


def serve_on(cluster: Cluster) -> ServeProcess:
    return ServeProcess(redis_url=cluster.url, redis_cluster="true", **REPLICA_ENV)


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
