"""qrstudio serve: check what the service needs before listening, say what it runs on.

Redis must answer and be durable, and the port must be free, before anything is printed: each
failure is one line (CliError) saying what to do. The banner names the Redis, its durability,
the workers and render processes; the embedded store's demo keys are printed only once the
port is bound.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import redis

from .limits.plans import PLANS
from .settings import Settings

__all__ = ["START_REDIS", "CliError", "redis_down", "serve"]

START_REDIS = (
    "redis-server --appendonly yes --maxmemory-policy noeviction --port 6380 --daemonize yes"
)


class CliError(Exception):
    """One line for the operator: what is wrong and what to do."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def redis_down(url: str, exc: Exception) -> CliError:
    return CliError(
        f"cannot reach Redis at {_redacted(url)} ({exc}); start one (e.g. "
        f"'{START_REDIS}') or fix QRSTUDIO_REDIS_URL"
    )


def _check_redis(settings: Settings) -> str:
    """Redis answers and will not lose keys: else a CliError. Returns its description."""
    from .limits.redis_store import RedisStore

    url = settings.redis_url or ""

    async def probe() -> tuple[list[str], dict[str, str]]:
        store = RedisStore(url, enterprise_quota=1, timeout_s=settings.redis_timeout_s)
        try:
            await store.ping()
            problems = await store.durability_problems()
            info: dict[str, str] = {}
            try:
                config = await store._redis.config_get("appendfsync")  # for the banner only
                info = {
                    _text(k): _text(v) for k, v in config.items() if k is not None and v is not None
                }
                server = await store._redis.info("server")
                info["version"] = str(server.get("redis_version", "?"))
            except redis.RedisError:
                pass
            return problems, info
        finally:
            await store.close()

    try:
        problems, info = asyncio.run(probe())
    except (redis.RedisError, OSError) as exc:
        raise redis_down(url, exc) from None
    if problems and settings.redis_require_durable:
        raise CliError(
            "refusing to start on this Redis: " + "; ".join(problems) + ". Restart "
            "it with '--appendonly yes --maxmemory-policy noeviction' (e.g. "
            f"'{START_REDIS}'), or set QRSTUDIO_REDIS_REQUIRE_DURABLE=false for a "
            "throwaway instance"
        )
    durability = (
        (f"durable: appendonly yes, appendfsync {info.get('appendfsync', '?')}, noeviction")
        if not problems
        else "NOT durable: " + "; ".join(problems)
    )
    return f"Redis {info.get('version', '?')} at {_redacted(url)} ({durability})"


def _check_port(host: str, port: int) -> None:
    """Bind once before anything is printed, so a busy port is one clear line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            todo = (
                "stop what uses it or choose another --port"
                if exc.errno == errno.EADDRINUSE
                else "check --host (an address of this machine, e.g. 127.0.0.1 or 0.0.0.0)"
            )
            raise CliError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); {todo}"
            ) from None


def _render_workers(settings: Settings) -> str:
    n = settings.threads
    kind = "processes" if settings.render_mode == "process" else "threads"
    return f"{n} render {kind}"


def _run_uvicorn(app: object, on_listening: Callable[[], None], **options: object) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                on_listening()

    Server(uvicorn.Config(app, **options)).run()  # type: ignore[arg-type]


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    from .logs import configure_logging

    if workers < 1:
        raise CliError("--workers must be 1 or more")
    if settings.embedded and workers != 1:
        raise CliError(
            "the embedded store lives in one process; --workers must be 1 without "
            "QRSTUDIO_REDIS_URL (set it to run several workers)"
        )
    described = None if settings.embedded else _check_redis(settings)
    _check_port(host, port)
    configure_logging(settings.log_level)
    common = {
        "host": host,
        "port": port,
        "log_level": settings.log_level,
        "log_config": None,
        "proxy_headers": True,
        "server_header": False,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_s,
    }
    if settings.embedded:
        from .app import create_app
        from .limits.memory import MemoryStore

        store = MemoryStore(enterprise_quota=settings.enterprise_monthly_quota)
        demo = [(code, store.create_key(f"demo-{code}", plan=code, name="demo")) for code in PLANS]

        def listening() -> None:  # only now: a port that could not be bound shows no keys
            print(
                f"QR Studio on http://{host}:{port}, embedded store (state is lost at exit), "
                f"{_render_workers(settings)}. Demo keys:"
            )
            for code, key in demo:
                print(f"  {code:<10} {key}")
            sys.stdout.flush()

        _run_uvicorn(create_app(settings, store), listening, **common)
        return 0
    print(
        f"QR Studio on http://{host}:{port}: {described}; {workers} worker"
        f"{'s' if workers > 1 else ''}, each with {_render_workers(settings)}"
    )
    sys.stdout.flush()
    uvicorn.run("service.app:create_served_app", factory=True, workers=workers, **common)  # type: ignore[arg-type]
    return 0
