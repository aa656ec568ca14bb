"""Webhook subscriptions (``service/webhooks/api.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency

from ..responses import DeliveryList, TestEvent, Webhook, WebhookList, WebhookWithSecret
from ..services import Services
from ..webhooks import api
from .bodies import WebhookCreate, WebhookUpdate
from .shared import KEY_OR_BEARER, HookId, body, errors

__all__ = ["WebhooksController"]


def _create_body(data: WebhookCreate) -> None:
    """The body as documented; ``webhooks.api`` reads it field by field."""


def _update_body(data: WebhookUpdate) -> None:
    """The body as documented; ``webhooks.api`` reads it field by field."""


class WebhooksController(Controller):
    path = "/api/v1/webhooks"
    security = KEY_OR_BEARER

    @get(
        "/",
        operation_id="listWebhooks",
        summary="The account's webhooks (never their secrets)",
        responses=errors(401, 403),
    )
    async def list_hooks(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> WebhookList:
        return await api.list_hooks(request, svc)

    @post(
        "/",
        status_code=201,
        operation_id="createWebhook",
        summary="Subscribe a URL to events (the signing secret shown once)",
        responses=errors(400, 401, 403, 413, bad="key_field"),
        dependencies=body(_create_body),
    )
    async def create_hook(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> WebhookWithSecret:
        return await api.create(request, svc)

    @patch(
        "/{hook_id:str}/",
        operation_id="updateWebhook",
        summary="Change a webhook's url, events, description, status",
        responses=errors(400, 401, 403, 404, 413, bad="key_field"),
        dependencies=body(_update_body),
    )
    async def patch_hook(
        self, request: Request[Any, Any, Any], hook_id: HookId, svc: NamedDependency[Services]
    ) -> Webhook:
        return await api.patch(request, svc, hook_id)

    @delete(
        "/{hook_id:str}/",
        status_code=204,
        operation_id="deleteWebhook",
        summary="Delete a webhook",
        responses=errors(401, 403, 404),
    )
    async def delete_hook(
        self, request: Request[Any, Any, Any], hook_id: HookId, svc: NamedDependency[Services]
    ) -> None:
        await api.delete(request, svc, hook_id)

    @post(
        "/{hook_id:str}/rotate/",
        status_code=200,
        operation_id="rotateWebhookSecret",
        summary="A new signing secret, shown once",
        responses=errors(401, 403, 404),
    )
    async def rotate_hook(
        self, request: Request[Any, Any, Any], hook_id: HookId, svc: NamedDependency[Services]
    ) -> WebhookWithSecret:
        return await api.rotate(request, svc, hook_id)

    @get(
        "/{hook_id:str}/deliveries/",
        operation_id="webhookDeliveries",
        summary="The last 100 delivery attempts, newest first, dead letters included",
        responses=errors(401, 403, 404),
    )
    async def hook_deliveries(
        self, request: Request[Any, Any, Any], hook_id: HookId, svc: NamedDependency[Services]
    ) -> DeliveryList:
        return await api.deliveries(request, svc, hook_id)

    @post(
        "/{hook_id:str}/test/",
        status_code=202,
        operation_id="testWebhook",
        summary="Queue a webhook.test event for this webhook",
        responses=errors(401, 403, 404),
    )
    async def test_hook(
        self, request: Request[Any, Any, Any], hook_id: HookId, svc: NamedDependency[Services]
    ) -> TestEvent:
        return await api.test_event(request, svc, hook_id)
