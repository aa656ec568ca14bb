"""The dashboard routes' part of /schema: API keys, workspace usage and webhooks (CONTRACT
section 8). Their bodies are read field by field (``keys_api``, ``webhooks.api``); these
Structs describe what those readers accept and what they answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .responses import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyList,
    DeliveryList,
    Event,
    Plan,
    TestEvent,
    UsageMe,
    Webhook,
    WebhookList,
    WebhookWithSecret,
)

__all__ = [
    "DASHBOARD_PARAMETERS",
    "DASHBOARD_TYPES",
    "dashboard_paths",
    "dashboard_responses",
    "key_field_errors",
]

Json = dict[str, Any]


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


DASHBOARD_TYPES: list[Any] = [
    ApiKey,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyCreate,
    UsageMe,
    Webhook,
    WebhookWithSecret,
    WebhookList,
    WebhookCreate,
    WebhookUpdate,
    DeliveryList,
    TestEvent,
]


def dashboard_responses(error: Any) -> dict[str, Json]:
    return {
        "KeyFieldError": error(
            'Malformed body ({"detail"}) or a failing field ({"<field>": "<message>"})',
            "DetailBody",
            "KeyFieldErrors",
        )
    }


DASHBOARD_PARAMETERS: dict[str, Json] = {
    "KeyId": {
        "name": "key_id",
        "in": "path",
        "required": True,
        "description": "An API key's id (from the key listing)",
        "schema": {"type": "string"},
    },
    "HookId": {
        "name": "hook_id",
        "in": "path",
        "required": True,
        "description": "A webhook's id",
        "schema": {"type": "string"},
    },
}


def key_field_errors() -> Json:
    return {
        "title": "KeyFieldErrors",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": "string"},
    }


def dashboard_paths(
    op: Any, ok: Any, errors: Any, ref: Any, json: Any, security: list[Json]
) -> Json:
    """``op``, ``ok``, ``errors``, ``ref``, ``json``: openapi.py's builders."""
    field = {"400": {"$ref": "#/components/responses/KeyFieldError"}}
    key = [{"$ref": "#/components/parameters/KeyId"}]
    hook = [{"$ref": "#/components/parameters/HookId"}]
    return {
        "/api/v1/keys/": {
            "get": op(
                "listKeys",
                "The account's API keys (never the raw keys)",
                {**ok("200", "Keys", "ApiKeyList"), **errors(401)},
                security=security,
            ),
            "post": op(
                "createKey",
                "Create an API key (the raw key shown once)",
                {**ok("201", "Created", "ApiKeyCreated"), **errors(401, 413), **field},
                security=security,
                body=json(ref("ApiKeyCreate")),
            ),
        },
        "/api/v1/keys/{key_id}/": {
            "parameters": key,
            "delete": op(
                "revokeKey",
                "Revoke an API key at once",
                {**ok("204", "Revoked", None), **errors(401, 404)},
                security=security,
            ),
        },
        "/api/v1/keys/{key_id}/rotate/": {
            "parameters": key,
            "post": op(
                "rotateKey",
                "A new key in place of this one (which stops at once)",
                {**ok("201", "The new key", "ApiKeyCreated"), **errors(401, 404)},
                security=security,
            ),
        },
        "/api/v1/usage/me/": {
            "get": op(
                "usageMe",
                "The workspace's plan, usage and keys",
                {**ok("200", "Usage", "UsageMe"), **errors(401)},
                security=security,
            )
        },
        "/api/v1/webhooks/": {
            "get": op(
                "listWebhooks",
                "The account's webhooks (never their secrets)",
                {**ok("200", "Webhooks", "WebhookList"), **errors(401, 403)},
                security=security,
            ),
            "post": op(
                "createWebhook",
                "Subscribe a URL to events (the secret shown once)",
                {**ok("201", "Created", "WebhookWithSecret"), **errors(401, 403, 413), **field},
                security=security,
                body=json(ref("WebhookCreate")),
            ),
        },
        "/api/v1/webhooks/{hook_id}/": {
            "parameters": hook,
            "patch": op(
                "updateWebhook",
                "Change a webhook's url, events, description, status",
                {**ok("200", "The webhook", "Webhook"), **errors(401, 403, 404, 413), **field},
                security=security,
                body=json(ref("WebhookUpdate")),
            ),
            "delete": op(
                "deleteWebhook",
                "Delete a webhook",
                {**ok("204", "Deleted", None), **errors(401, 403, 404)},
                security=security,
            ),
        },
        "/api/v1/webhooks/{hook_id}/rotate/": {
            "parameters": hook,
            "post": op(
                "rotateWebhookSecret",
                "A new signing secret (shown once)",
                {**ok("200", "The webhook", "WebhookWithSecret"), **errors(401, 403, 404)},
                security=security,
            ),
        },
        "/api/v1/webhooks/{hook_id}/deliveries/": {
            "parameters": hook,
            "get": op(
                "webhookDeliveries",
                "Recent delivery attempts",
                {**ok("200", "Attempts", "DeliveryList"), **errors(401, 403, 404)},
                security=security,
            ),
        },
        "/api/v1/webhooks/{hook_id}/test/": {
            "parameters": hook,
            "post": op(
                "testWebhook",
                "Queue a webhook.test event for this webhook",
                {**ok("202", "Queued", "TestEvent"), **errors(401, 403, 404)},
                security=security,
            ),
        },
    }
