"""The dashboard routes' request bodies, as documented: ``keys_api`` and ``webhooks.api`` read
them field by field (the product's ``{"<field>": "<message>"}`` errors, one per field), and
these Structs say what those readers accept."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..responses import Event, Plan

__all__ = ["ApiKeyCreate", "WebhookCreate", "WebhookUpdate"]


class ApiKeyCreate(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    plan: Plan | None = None  # at most the account's own; default: the account's


class WebhookCreate(msgspec.Struct, kw_only=True):
    url: Annotated[
        str, Meta(min_length=1, max_length=2000, description="https, and a public address")
    ]
    events: Annotated[list[Event], Meta(min_length=1)]
    description: Annotated[str, Meta(max_length=200)] | None = None


class WebhookUpdate(msgspec.Struct, kw_only=True):
    url: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None
    events: Annotated[list[Event], Meta(min_length=1)] | None = None
    description: Annotated[str, Meta(max_length=200)] | None = None
    status: Literal["active", "disabled"] | None = None
