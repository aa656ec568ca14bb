"""``create_app()`` wires everything: settings, store, render pool, routes, the error map."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from .api import CONTROLLERS
from .assets.addresses import parse_networks
from .assets.fetch import Fetcher, Resolver
from .assets.loader import AssetLoader
from .auth.jwt import build_verifier
from .errors import AbortedStreamFilter, exception_handlers
from .intake import KeyTouch
from .limits.memory import MemoryStore
from .limits.redis_store import RedisStore
from .limits.store import Store
from .logs import configure_logging
from .metrics import Metrics
from .openapi import StructSchemas, openapi_config
from .render.pool import RenderPool
from .render_cache import RenderCache
from .requestid import RequestIdMiddleware
from .services import Services
from .settings import Settings, load_settings
from .webhooks.lifecycle import start_delivery, webhook_sender

__all__ = ["create_app", "create_served_app", "make_store"]

log = logging.getLogger("qrstudio")


def make_store(settings: Settings) -> Store:
    if settings.redis_url:
        return RedisStore(
            settings.redis_url,
            enterprise_quota=settings.enterprise_monthly_quota,
            timeout_s=settings.redis_timeout_s,
            cluster=settings.redis_cluster,
        )
    return MemoryStore(enterprise_quota=settings.enterprise_monthly_quota)


async def _sweep_forever(store: Store, settings: Settings) -> None:
    """Every minute (``QRSTUDIO_SWEEP_INTERVAL_S``), refund charges whose process died before
    settling them."""
    while True:
        await asyncio.sleep(settings.sweep_interval_s)
        try:
            await store.sweep(settings.unsettled_refund_after_s)
        except Exception as exc:  # the store is down: the next round tries again
            log.warning("sweep failed: %s", exc)


def create_app(
    settings: Settings | None = None, store: Store | None = None, resolver: Resolver | None = None
) -> Litestar:
    """The ASGI app. ``store`` lets the embedded mode (and tests) hand in a provisioned store;
    ``resolver`` replaces the system's name resolution for asset URLs (tests)."""
    settings = settings or load_settings()
    for name in ("uvicorn.error", "litestar"):
        if not any(isinstance(f, AbortedStreamFilter) for f in logging.getLogger(name).filters):
            logging.getLogger(name).addFilter(AbortedStreamFilter())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        live_store = store or make_store(settings)
        if isinstance(live_store, RedisStore):
            problems = await live_store.durability_problems()
            if problems and settings.redis_require_durable:
                await live_store.close()
                raise RuntimeError(
                    "refusing to start on this Redis: "
                    + "; ".join(problems)
                    + " (set QRSTUDIO_REDIS_REQUIRE_DURABLE=false to accept)"
                )
            for problem in problems:
                log.warning("Redis durability: %s", problem)
        pool = RenderPool(settings.threads, settings.render_mode)
        await asyncio.to_thread(pool.start)
        cache = RenderCache(
            memory_bytes=settings.cache_memory_bytes,
            redis_url=settings.cache_redis_url or settings.redis_url,
            separate=bool(settings.cache_redis_url),
            cluster=settings.redis_cluster and not settings.cache_redis_url,
            redis_budget=settings.cache_redis_bytes,
            ttl_s=settings.cache_ttl_s,
            timeout_s=settings.redis_timeout_s,
        )
        fetcher = Fetcher(resolver, parse_networks(settings.asset_allowed_networks))
        assets = AssetLoader(
            fetcher,
            cache_bytes=settings.asset_cache_bytes,
            ttl_s=settings.asset_cache_ttl_s,
            max_urls=settings.asset_urls_per_batch,
            metrics=metrics,
        )
        app.state.services = Services(
            settings=settings,
            store=live_store,
            pool=pool,
            cache=cache,
            assets=assets,
            metrics=metrics,
        )
        sweeper = asyncio.get_running_loop().create_task(_sweep_forever(live_store, settings))
        deliverer = start_delivery(live_store, app.state.webhook_sender, settings)
        try:
            yield
        finally:
            sweeper.cancel()
            if deliverer is not None:
                deliverer.cancel()
            # uvicorn has waited QRSTUDIO_SHUTDOWN_GRACE_S and cut what was still streaming:
            # settle those before the store goes away.
            await app.state.services.streams.settle_all("shutdown")
            pool.shutdown()
            await cache.close()
            await live_store.close()

    metrics = Metrics()
    return Litestar(
        route_handlers=CONTROLLERS,
        state=State(
            {
                "metrics": metrics,
                "jwt": build_verifier(settings),
                "key_touch": KeyTouch(),
                "webhook_sender": webhook_sender(settings, resolver),
            }
        ),
        lifespan=[lifespan],
        # every handler that takes ``svc: Services`` gets the process's services
        dependencies={"svc": Provide(_services, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
        middleware=[
            DefineMiddleware(
                RequestIdMiddleware, metrics=metrics, max_header_bytes=settings.max_header_bytes
            )
        ],
        request_max_body_size=settings.max_body_bytes,
        # the document at /schema, generated from the controllers (service/openapi.py)
        openapi_config=openapi_config(),
        plugins=[StructSchemas()],
        logging_config=None,  # JSON logs are configured by service/logs.py
        debug=False,
    )


def _services(state: State) -> Services:
    services: Services = state.services
    return services


def create_served_app() -> Litestar:
    """The factory ``qrstudio serve --workers N`` gives uvicorn: each worker process configures
    its JSON logs, then builds the app from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
