"""Fixtures: a real Redis (started here, or REDIS_URL), and the real app served on a free port.

Contract tests take the ``backend`` fixture and run twice: on the embedded store and on Redis.
The server runs under uvicorn in a thread of the test process, so a test can provision
accounts through the same store the app uses (``Admin``), and talks to it over HTTP only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import uvicorn

from service.app import create_app
from service.limits.memory import MemoryStore
from service.limits.redis_store import RedisAdmin, RedisStore
from service.limits.store import Admin, Store
from service.settings import load_settings
from tests.assetserver import AssetServer, TestResolver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    url: str
    port: int
    data_dir: str
    process: subprocess.Popen[bytes] | None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


def start_redis(data_dir: str, port: int | None = None, appendonly: bool = True) -> RedisServer:
    port = port or free_port()
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed (.ci/run installs it)")
    args = [
        exe,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        data_dir,
        "--save",
        "",
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "always",
        "--maxmemory-policy",
        "noeviction",
        "--daemonize",
        "no",
        "--logfile",
        os.path.join(data_dir, "redis.log"),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"redis-server did not start on port {port}") from None
            time.sleep(0.05)
    client.close()
    return RedisServer(url, port, data_dir, proc)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if os.environ.get("REDIS_URL"):
        url = os.environ["REDIS_URL"]
        yield RedisServer(url, 0, "", None)
        return
    data_dir = tempfile.mkdtemp(prefix="qrstudio-redis-")
    server = start_redis(data_dir)
    yield server
    assert server.process is not None
    server.process.terminate()
    server.process.wait(10)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(params=["embedded", "redis"])
def stores(request, redis_server: RedisServer) -> tuple[Store, Admin]:  # type: ignore[no-untyped-def]
    """A store and its admin, embedded and on the suite's Redis: store-level tests run on
    both."""
    if request.param == "embedded":
        memory = MemoryStore(enterprise_quota=1_000_000)
        return memory, memory
    return (
        RedisStore(redis_server.url, enterprise_quota=1_000_000, timeout_s=5),
        RedisAdmin(redis_server.url),
    )


class LiveServer:
    """The real app under uvicorn on a free port, in a background thread."""

    def __init__(self, backend: str, redis_url: str | None, **settings: object) -> None:
        self.backend = backend
        # A Redis the suite did not start (REDIS_URL) may lack persistence; ours has it.
        settings.setdefault("redis_require_durable", not os.environ.get("REDIS_URL"))
        # Tests send requests faster than a plan's rate; the rate tests turn it on.
        settings.setdefault("rate_limit", False)
        self.settings = load_settings(
            {}, redis_url=redis_url if backend == "redis" else None, **settings
        )
        if backend == "redis":
            assert redis_url
            self.admin: Admin = RedisAdmin(redis_url)
            store = None
        else:
            memory = MemoryStore(enterprise_quota=self.settings.enterprise_monthly_quota)
            self.admin, store = memory, memory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(self.settings, store, resolver=TestResolver())
        grace = (
            {"timeout_graceful_shutdown": self.settings.shutdown_grace_s}
            if "shutdown_grace_s" in settings
            else {}
        )
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", **grace
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.02)

    def account(
        self, plan: str, *, monthly_quota: int | None = None, overage: bool | None = None
    ) -> tuple[str, str]:
        """A fresh account on ``plan`` and a key for it: (account id, raw key)."""
        account = f"t-{plan}-{uuid.uuid4().hex[:12]}"
        self.admin.set_account(account, plan=plan, monthly_quota=monthly_quota, overage=overage)
        return account, self.admin.create_key(account, name="test")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture(scope="session")
def asset_server() -> Iterator[AssetServer]:
    server = AssetServer()
    yield server
    server.stop()


# The asset server is on loopback: servers that fetch from it must allow that network.
ASSETS_ALLOWED = {"asset_allowed_networks": "127.0.0.0/8"}


@pytest.fixture(scope="session", params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_servers: dict[tuple[object, ...], LiveServer] = {}


@pytest.fixture(scope="session")
def make_server(redis_server: RedisServer) -> Iterator[object]:
    """``make_server(backend, **settings)``: a live server, shared by tests asking the same."""

    def make(backend: str, **settings: object) -> LiveServer:
        key = (backend, *sorted(settings.items()))
        if key not in _servers:
            _servers[key] = LiveServer(backend, redis_server.url, **settings)
        return _servers[key]

    yield make
    for server in _servers.values():
        server.stop()
    _servers.clear()


@pytest.fixture
def server(backend: str, make_server) -> LiveServer:  # type: ignore[no-untyped-def]
    return make_server(backend)  # type: ignore[no-any-return]


# --- A 5xx fails the suite (issue 21) ---------------------------------------------------------
# LiveServer runs the app in this process: every unhandled exception it logs (errors.py's
# "unhandled error on ...", a traceback uvicorn logs for an exception that escaped the app, an
# unexpected asset failure) is collected here and fails the test that caused it, at teardown,
# even when that test only looked at another request. A test that provokes one on purpose says
# so with @pytest.mark.allow_server_errors.
import logging  # noqa: E402

from service.errors import AbortedStreamFilter  # noqa: E402


class _Crashes(logging.Filter):
    """Collects what it sees and lets everything through: a filter on uvicorn.error (uvicorn's
    dictConfig replaces that logger's handlers, not its filters), and on a sink handler of our
    own loggers."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self._aborted = AbortedStreamFilter()  # a stream cut on purpose is not a crash

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno >= logging.ERROR
            and self._aborted.filter(record)
            and (record.exc_info or record.getMessage().startswith("unhandled error"))
        ):
            self.records.append(record)
        return True


class _Sink(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        pass


_crashes, _sink = _Crashes(), _Sink(logging.ERROR)
_sink.addFilter(_crashes)
for _name in ("qrstudio", "litestar"):
    logging.getLogger(_name).addHandler(_sink)
logging.getLogger("uvicorn.error").addFilter(_crashes)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_server_errors: the test provokes unhandled "
        "server errors on purpose; they do not fail it",
    )


@pytest.fixture(autouse=True)
def fail_on_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    _crashes.records.clear()
    yield
    found, _crashes.records[:] = list(_crashes.records), []
    if found and request.node.get_closest_marker("allow_server_errors") is None:
        pytest.fail(
            f"the server logged {len(found)} unhandled error(s):\n"
            + "\n".join(map(_describe, found)),
            pytrace=False,
        )


def _describe(record: logging.LogRecord) -> str:
    trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    return f"{record.name}: {record.getMessage()}\n{trace}"
