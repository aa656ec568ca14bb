"""The app's webhook parts: the sender (address checks, signing) and this process's worker."""

from __future__ import annotations

import asyncio

from ..assets.addresses import parse_networks
from ..assets.fetch import Resolver
from ..limits.store import Store
from ..settings import Settings
from .sender import Sender
from .worker import Deliverer, DeliveryConfig

__all__ = ["delivery_config", "start_delivery", "webhook_sender"]


def webhook_sender(settings: Settings, resolver: Resolver | None) -> Sender:
    return Sender(
        resolver,
        parse_networks(settings.webhook_allowed_networks),
        allow_http=settings.webhook_allow_http,
    )


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        poll_s=settings.webhook_poll_s,
        lease_s=settings.webhook_lease_s,
        claim_idle_s=settings.webhook_claim_idle_s,
        retry_window_s=settings.webhook_retry_window_s,
        retry_base_s=settings.webhook_retry_base_s,
        retry_max_s=settings.webhook_retry_max_s,
        disable_after=settings.webhook_disable_after,
        concurrency=settings.webhook_workers,
    )


def start_delivery(store: Store, sender: Sender, settings: Settings) -> asyncio.Task[None] | None:
    """This process's delivery worker (none with ``QRSTUDIO_WEBHOOK_WORKERS=0``)."""
    if settings.webhook_workers == 0:
        return None
    worker = Deliverer(store.hooks, sender, delivery_config(settings))  # type: ignore[attr-defined]
    return asyncio.get_running_loop().create_task(worker.run_forever())
