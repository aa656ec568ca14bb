"""Typed settings, read once from the environment and validated at startup.

Every knob is a ``QRSTUDIO_<NAME>`` variable with a documented default; the README's settings
table is generated from the same field list (``python -m service.settings``).
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .assets.addresses import parse_networks
from .auth.jwt import build_verifier

__all__ = ["Settings", "SettingsError", "load_settings"]

PositiveInt = Annotated[int, Meta(ge=1)]


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # Where state lives. Unset: the embedded in-process store (single process only).
    redis_url: str | None = None
    # QRSTUDIO_REDIS_URL names one node of a Redis Cluster (any master or replica; the others
    # are discovered): the cluster client, every script in its account's slot.
    redis_cluster: bool = False
    # A separate Redis for the render cache (may evict, e.g. allkeys-lru). Unset: the main one,
    # bounded by cache_redis_bytes.
    cache_redis_url: str | None = None
    # Bytes the render cache may write to the main Redis per 24 h (its entries live 24 h).
    cache_redis_bytes: Annotated[int, Meta(ge=0)] = 256 * 1024 * 1024
    # Bytes of rendered images each process keeps in memory.
    cache_memory_bytes: Annotated[int, Meta(ge=0)] = 64 * 1024 * 1024
    # How long a cached render lives in Redis.
    cache_ttl_s: PositiveInt = 24 * 3600
    # Base of the public short links that dynamic QR codes encode.
    public_base_url: str = "http://localhost:8000"
    # Render workers per server process (0: one per CPU core).
    render_threads: Annotated[int, Meta(ge=0, le=64)] = 0
    # Workers are processes (each on its own core) or threads of the server process.
    render_mode: Literal["process", "thread"] = "process"
    # Items rendering or rendered but not yet written, per batch (0: 32 per render worker).
    render_window: Annotated[int, Meta(ge=0, le=4096)] = 0
    # Largest accepted request body; the default admits 5 000 items at their maximal lengths.
    max_body_bytes: PositiveInt = 96 * 1024 * 1024
    # Seconds a request body may take to arrive (bulk and the dry run); past it, 408. Batch
    # slots are taken only once the body is in, so a slow upload holds no one else's slot.
    body_timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    # Largest request header block (every name and value); above it, 431. The gateway's own
    # bound (deploy/nginx.conf: large_client_header_buffers) should be at most this.
    max_header_bytes: Annotated[int, Meta(ge=4096)] = 32 * 1024
    # The bulk ZIP ceiling (bulk-api.md: 100 MB).
    zip_ceiling_bytes: PositiveInt = 100_000_000
    # Bulk batches streaming at once in one process; beyond it, 503 at once.
    max_batches_in_flight: PositiveInt = 8
    # Bulk batches streaming at once for one account, in one process; beyond it, 429 at once.
    max_batches_per_account: PositiveInt = 2
    # A charge whose process died before settling it (completed or refunded) is refunded by the
    # sweeper once it is this old: longer than any stream can last.
    unsettled_refund_after_s: Annotated[float, Meta(ge=60)] = 3600.0
    # How often each process's sweeper looks for such charges.
    sweep_interval_s: Annotated[float, Meta(ge=0.5, le=3600)] = 60.0
    # Seconds streams in flight may take to finish after SIGTERM; then they are cut and refunded.
    shutdown_grace_s: Annotated[float, Meta(ge=0, le=3600)] = 30.0
    # PNG deflate: 0 ISA-L's fastest level (the fastest, and smaller than zlib's level 1),
    # or a zlib level 1-9.
    png_compression: Annotated[int, Meta(ge=0, le=9)] = 0
    # Default monthly quota of enterprise accounts without an override.
    enterprise_monthly_quota: PositiveInt = 1_000_000
    # Seconds every Redis command may take before the request fails with 503.
    redis_timeout_s: Annotated[float, Meta(gt=0, le=60)] = 2.0
    # Refuse to start on a Redis that could lose keys, accounts or counters (no AOF, eviction).
    redis_require_durable: bool = True
    # Per-key request rates of the plan table (plans.py); false leaves them to the gateway.
    rate_limit: bool = True
    # Networks (CIDRs, comma-separated) logo and background URLs may resolve to although they
    # are private or internal (a private CDN). Empty: only public addresses.
    asset_allowed_networks: str = ""
    # Fetched logos and background images kept in memory, by URL: bytes, and seconds.
    asset_cache_bytes: Annotated[int, Meta(ge=0)] = 64 * 1024 * 1024
    asset_cache_ttl_s: Annotated[float, Meta(ge=0)] = 600.0
    # Distinct logo and background URLs one batch may use (fetched 8 at a time, at most 5 s
    # each: the default bounds a batch's fetching to two rounds before its first byte).
    asset_urls_per_batch: Annotated[int, Meta(ge=1, le=1000)] = 16
    log_level: str = "info"
    # Dashboard bearer tokens (JWTs signed by the gateway's application). One key source: an
    # HS256 secret, a PEM public key file (RS256/ES256) or a JWKS file. Unset: API keys only.
    jwt_secret: str = ""
    jwt_public_key_file: str = ""
    jwt_jwks_file: str = ""
    # The token's required iss and aud, and the claim that names the account.
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_account_claim: str = "account"
    # Clock skew tolerated on exp, nbf and iat.
    jwt_leeway_s: Annotated[float, Meta(ge=0, le=300)] = 30.0
    # Webhooks. Networks (CIDRs) webhook URLs may resolve to although private or internal;
    # empty: public addresses only. http:// targets: for tests only, never in production.
    webhook_allowed_networks: str = ""
    webhook_allow_http: bool = False
    # Deliveries this process makes at once (0: it delivers nothing; other replicas do).
    webhook_workers: Annotated[int, Meta(ge=0, le=256)] = 8
    # Seconds between the delivery worker's rounds over the queue.
    webhook_poll_s: Annotated[float, Meta(gt=0, le=60)] = 1.0
    # A leased delivery is hidden from other workers this long (more than the 5 s deadline);
    # an event read by a worker that died is taken over once idle this long.
    webhook_lease_s: Annotated[float, Meta(ge=6, le=3600)] = 30.0
    webhook_claim_idle_s: Annotated[float, Meta(ge=0.1, le=3600)] = 30.0
    # Retries: exponential backoff from base (doubling, at most max, with jitter) for at most
    # the window after the event; then the delivery is dead-lettered.
    webhook_retry_base_s: Annotated[float, Meta(gt=0)] = 10.0
    webhook_retry_max_s: Annotated[float, Meta(gt=0)] = 3600.0
    webhook_retry_window_s: Annotated[float, Meta(gt=0)] = 86400.0
    # Failed attempts in a row after which a webhook is disabled.
    webhook_disable_after: PositiveInt = 25

    @property
    def threads(self) -> int:
        return self.render_threads or (os.cpu_count() or 1)

    @property
    def window(self) -> int:
        return self.render_window or 32 * self.threads

    @property
    def embedded(self) -> bool:
        return not self.redis_url


def _env_name(field: str) -> str:
    return f"QRSTUDIO_{field.upper()}"


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Read ``QRSTUDIO_*`` variables, convert and validate them; raise SettingsError if off."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in Settings.__struct_fields__:
        value = env.get(_env_name(field))
        if value is not None and value != "":
            raw[field] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid setting: {exc}") from exc
    if not settings.public_base_url.startswith(("http://", "https://")):
        raise SettingsError("QRSTUDIO_PUBLIC_BASE_URL must start with http:// or https://")
    if settings.redis_url and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise SettingsError("QRSTUDIO_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    try:
        parse_networks(settings.asset_allowed_networks)
    except ValueError as exc:
        raise SettingsError(f"QRSTUDIO_ASSET_ALLOWED_NETWORKS: {exc}") from None
    try:
        parse_networks(settings.webhook_allowed_networks)
    except ValueError as exc:
        raise SettingsError(f"QRSTUDIO_WEBHOOK_ALLOWED_NETWORKS: {exc}") from None
    try:
        build_verifier(settings)
    except ValueError as exc:
        raise SettingsError(f"QRSTUDIO_JWT_*: {exc}") from None
    return settings


if __name__ == "__main__":  # pragma: no cover - prints the README table
    defaults = Settings()
    for name in Settings.__struct_fields__:
        print(f"| `{_env_name(name)}` | `{getattr(defaults, name)!r}` |")
