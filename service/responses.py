"""What the service answers, as msgspec Structs: the handlers build these (Litestar encodes
them) and the OpenAPI document is generated from the same classes (``openapi.py``, over the
controllers in ``api/``), so an answer and its schema cannot drift apart. Request bodies and
the item schema live in ``schema.py``; the bulk manifest there too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from .webhooks.model import EVENT_TYPES

__all__ = [
    "Analytics",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyList",
    "CodePage",
    "DeliveryList",
    "DynamicCode",
    "Event",
    "Health",
    "KeyUsage",
    "Plan",
    "ScanEntry",
    "Status",
    "StoreState",
    "TestEvent",
    "Usage",
    "UsageMe",
    "ValidateResult",
    "Webhook",
    "WebhookList",
    "WebhookWithSecret",
]

Plan = Literal["free", "starter", "pro", "agency", "enterprise"]
Event = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class ValidateResult(msgspec.Struct, kw_only=True):
    """POST /api/v1/validate/: the real call would succeed; what it would spend."""

    valid: bool
    kind: Literal["single", "bulk"]
    count: int
    credits: int
    dynamic: int
    quota_remaining_after: int
    # a single item only
    format: Literal["png", "svg"] | UnsetType = UNSET
    pixels: int | UnsetType = UNSET
    version: int | UnsetType = UNSET
    error_correction: Literal["L", "M", "Q", "H"] | UnsetType = UNSET


class Usage(msgspec.Struct, kw_only=True):
    """GET /api/v1/usage/ (CONTRACT section 5). Every count is an integer; where the plan has
    no cap (enterprise's active dynamic QRs) it is ``UNLIMITED``."""

    key_prefix: str
    plan: str
    monthly_quota: int
    used_this_month: int
    remaining: int
    max_size_inches: int | float
    max_dpi: int
    allow_custom_logo: bool
    max_active_dynamic_qrs: int
    max_bulk_items: int
    active_dynamic_qrs: int
    credits_remaining: int  # the credit-pack balance: we sell none, so 0
    overage: bool  # [ext] whether renders past monthly_quota are allowed (and billed)
    limits_note: str  # [ext] what the numbers mean for this plan, in words


class DynamicCode(msgspec.Struct, kw_only=True):
    """The product's dynamic QR object."""

    id: int
    short_id: Annotated[str, Meta(pattern="^[A-Za-z0-9_-]{8}$")]
    name: str
    destination_url: str
    variants: Annotated[list[str], Meta(max_length=0)]  # always empty here
    is_active: bool
    scan_count: int
    last_scanned_at: str | None
    destination_changes_count: int
    public_url: str
    created_at: str
    updated_at: str


class CodePage(msgspec.Struct):
    count: int
    next: str | None
    previous: str | None
    results: list[DynamicCode]


class ScanEntry(msgspec.Struct):
    at: str
    agent: Literal["ios", "android", "windows", "macos", "linux", "bot", "other"]
    referrer: str


class Analytics(msgspec.Struct, kw_only=True):
    short_id: str
    total: int
    last_scanned_at: str | None
    by_day: dict[str, int]
    by_user_agent: dict[str, int]
    by_referrer: dict[str, int]
    recent: list[ScanEntry]
    monthly_scan_cap: int | None  # the free plan's
    months_over_cap: list[str]


class Health(msgspec.Struct):
    status: Literal["ok"]


class StoreState(msgspec.Struct, kw_only=True):
    kind: Literal["redis", "embedded"]
    ok: bool
    error: str | UnsetType = UNSET


class Status(msgspec.Struct, kw_only=True):
    status: Literal["ok", "degraded"]
    store: StoreState
    render_threads: int | UnsetType = UNSET
    batches_in_flight: int | UnsetType = UNSET


class KeyUsage(msgspec.Struct, kw_only=True):
    """A key as ``/usage/me/`` lists it."""

    id: str
    name: str
    key_prefix: str
    plan: Plan
    is_active: bool
    created_at: str
    last_used_at: str | None


class ApiKey(KeyUsage, kw_only=True):
    revoked_at: str | None


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    id: str
    name: str
    key_prefix: str
    plan: Plan
    raw_key: Annotated[str, Meta(description="Shown once, at creation and rotation")]
    warning: str


class ApiKeyList(msgspec.Struct):
    keys: list[ApiKey]


class UsageMe(msgspec.Struct, kw_only=True):
    plan: Plan
    monthly_quota: int
    used_this_month: int
    remaining: int
    credits_remaining: int
    active_dynamic_qrs: int
    max_active_dynamic_qrs: int | None
    by_key: list[KeyUsage]


class Webhook(msgspec.Struct, kw_only=True):
    id: str
    url: str
    description: str
    events: list[Event]
    status: Literal["active", "disabled"]
    consecutive_failures: int
    last_delivery_at: str | None
    last_response_status: int | None
    created_at: str


class WebhookWithSecret(Webhook, kw_only=True):
    secret: Annotated[str, Meta(description="The signing secret, shown once")]


class WebhookList(msgspec.Struct):
    webhooks: list[Webhook]


class DeliveryList(msgspec.Struct):
    deliveries: list[dict[str, Any]]


class TestEvent(msgspec.Struct):
    id: str
    type: Literal["webhook.test"]
