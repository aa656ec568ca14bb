from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from ..responses import DeliveryList, TestEvent, Webhook, WebhookList, WebhookWithSecret
from ..services import Services
from ..webhooks import api

__all__ = ["WEBHOOK_ROUTES"]


@get("/api/v1/webhooks/", summary="The account's webhooks (never their secrets)")
async def list_hooks(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> WebhookList:
    return await api.list_hooks(request, svc)


@post(
    "/api/v1/webhooks/",
    status_code=201,
    summary="Subscribe a URL to events (the signing secret shown once)",
)
async def create_hook(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> WebhookWithSecret:
    return await api.create(request, svc)


@patch("/api/v1/webhooks/{hook_id:str}/", summary="Change a webhook's url, events, status")
async def patch_hook(
    request: Request[Any, Any, Any], hook_id: FromPath[str], svc: NamedDependency[Services]
) -> Webhook:
    return await api.patch(request, svc, hook_id)


@delete("/api/v1/webhooks/{hook_id:str}/", status_code=204, summary="Delete a webhook")
async def delete_hook(
    request: Request[Any, Any, Any], hook_id: FromPath[str], svc: NamedDependency[Services]
) -> None:
    await api.delete(request, svc, hook_id)


@post(
    "/api/v1/webhooks/{hook_id:str}/rotate/",
    status_code=200,
    summary="A new signing secret, shown once",
)
async def rotate_hook(
    request: Request[Any, Any, Any], hook_id: FromPath[str], svc: NamedDependency[Services]
) -> WebhookWithSecret:
    return await api.rotate(request, svc, hook_id)


@get(
    "/api/v1/webhooks/{hook_id:str}/deliveries/",
    summary="The last 100 delivery attempts, newest first, dead letters included",
)
async def hook_deliveries(
    request: Request[Any, Any, Any], hook_id: FromPath[str], svc: NamedDependency[Services]
) -> DeliveryList:
    return await api.deliveries(request, svc, hook_id)


@post(
    "/api/v1/webhooks/{hook_id:str}/test/",
    status_code=202,
    summary="Queue a webhook.test event for this webhook",
)
async def test_hook(
    request: Request[Any, Any, Any], hook_id: FromPath[str], svc: NamedDependency[Services]
) -> TestEvent:
    return await api.test_event(request, svc, hook_id)


WEBHOOK_ROUTES = [
    list_hooks,
    create_hook,
    patch_hook,
    delete_hook,
    rotate_hook,
    hook_deliveries,
    test_hook,
]
