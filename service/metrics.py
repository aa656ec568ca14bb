"""Prometheus metrics, one registry per app (so several apps in one process never mix)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from .render.job import RenderResult

__all__ = ["Metrics"]

_RENDER_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "qrstudio_http_requests",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.items = Counter(
            "qrstudio_items_rendered", "Images rendered into bulk archives", ["format"], registry=r
        )
        self.render_seconds = Histogram(
            "qrstudio_render_seconds", "Render time per item", buckets=_RENDER_BUCKETS, registry=r
        )
        self.cache_hits = Counter(
            "qrstudio_render_cache_hits", "Items served from the render cache", registry=r
        )
        self.refusals = Counter(
            "qrstudio_quota_refusals",
            "Requests refused by the quota or the in-flight bounds",
            ["reason"],
            registry=r,
        )
        self.asset_failures = Counter(
            "qrstudio_asset_fetch_failures",
            "Logo and background fetches that failed",
            ["cause"],
            registry=r,
        )
        self.batches = Gauge(
            "qrstudio_batches_in_flight", "Bulk archives streaming now", registry=r
        )
        self.streams = Counter(
            "qrstudio_bulk_streams", "Bulk streams by outcome", ["outcome"], registry=r
        )
        self.refunds = Counter(
            "qrstudio_refunds", "Charges refunded (streams that did not complete)", registry=r
        )

    def item_written(self, fmt: str, result: RenderResult, hit: bool) -> None:
        """One image answered (a bulk member or a single render): from the cache, or rendered
        in ``result.seconds``."""
        self.items.labels(fmt).inc()
        if hit:
            self.cache_hits.inc()
        else:
            self.render_seconds.observe(result.seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
