"""Servers whose webhooks may reach the loopback receiver, with quick retries, on a Redis of
their own.

Every Redis-mode server runs a delivery worker, and workers share whatever queue their Redis
holds: the suite's other servers (which may not call loopback, and retry after 10 s) would
take these servers' deliveries. In production every replica has the same settings; here the
webhook tests get their own Redis (and the worker tests one per test).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, RedisServer, start_redis
from tests.webhooks.receiver import Receiver

# Loopback over http is for tests only; retries every ~0.2-0.4 s for 3 s, disabled after 4.
HOOKS = {
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_allow_http": True,
    "webhook_poll_s": 0.05,
    "webhook_retry_base_s": 0.2,
    "webhook_retry_max_s": 0.4,
    "webhook_retry_window_s": 3.0,
    "webhook_disable_after": 4,
}


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def hooks_redis() -> Iterator[RedisServer]:
    data_dir = tempfile.mkdtemp(prefix="qrstudio-hooks-redis-")
    server = start_redis(data_dir)
    yield server
    assert server.process is not None
    server.process.terminate()
    server.process.wait(10)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def hook_servers(hooks_redis: RedisServer) -> Iterator[dict[str, LiveServer]]:
    servers: dict[str, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def hook_server(
    backend: str, hooks_redis: RedisServer, hook_servers: dict[str, LiveServer]
) -> LiveServer:
    if backend not in hook_servers:
        hook_servers[backend] = LiveServer(backend, hooks_redis.url, **HOOKS)
    return hook_servers[backend]


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:  # type: ignore[no-untyped-def]
    """A Redis for one test: no other server's worker reads its queue."""
    server = start_redis(str(tmp_path))
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(10)
