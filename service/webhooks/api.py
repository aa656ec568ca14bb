"""The webhook routes (CONTRACT section 8): subscriptions, secret rotation, deliveries, test.

Pro plans and above, with the account's API key or a dashboard JWT. The signing secret is in
the answers of creation and rotation only. A URL must be https (http only where the operator
allows it, for tests) and pass the logo fetcher's address checks.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from litestar import Request

from ..errors import KeyFieldError, MalformedBody, NotFound, PlanForbidden
from ..intake import BODY_LIMIT, authenticate, json_object, read_body
from ..limits.store import Caller
from ..responses import (
    DeliveryList,
    TestEvent,
    Webhook,
    WebhookList,
    WebhookWithSecret,
)
from ..services import Services
from .model import EVENT_TYPES, TEST_EVENT, WEBHOOK_PLANS, Subscription
from .queue import Hooks
from .sender import Sender, TargetError

__all__ = [
    "MAX_WEBHOOKS",
    "WEBHOOK_PLANS",
    "create",
    "delete",
    "deliveries",
    "list_hooks",
    "patch",
    "rotate",
    "test_event",
]

MAX_WEBHOOKS = 20
_ID = re.compile(r"wh_[0-9a-f]{16}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _hook_fields(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "description": sub.description,
        "events": list(sub.events),
        "status": sub.status,
        "consecutive_failures": sub.consecutive_failures,
        "last_delivery_at": sub.last_delivery_at,
        "last_response_status": sub.last_response_status,
        "created_at": sub.created_at,
    }


def hook_object(sub: Subscription) -> Webhook:
    return Webhook(**_hook_fields(sub))


def hook_with_secret(sub: Subscription) -> WebhookWithSecret:
    """The answer that shows the signing secret: creation and rotation."""
    return WebhookWithSecret(**_hook_fields(sub), secret=sub.secret)


def _hooks(svc: Services) -> Hooks:
    return cast(Hooks, svc.store.hooks)  # type: ignore[attr-defined]


def _sender(request: Request[Any, Any, Any]) -> Sender:
    return cast(Sender, request.app.state.webhook_sender)


async def _caller(request: Request[Any, Any, Any], svc: Services) -> Caller:
    caller = await authenticate(request, svc.store, bearer=True)
    if caller.account.plan not in WEBHOOK_PLANS:
        raise PlanForbidden(
            f"Plan '{caller.account.plan}' doesn't include webhooks. Upgrade to Pro or higher."
        )
    return caller


async def _fields(
    request: Request[Any, Any, Any], data: dict[str, Any], partial: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "url" in data or not partial:
        url = data.get("url")
        if not isinstance(url, str) or not url.strip():
            raise KeyFieldError("url", "Required.")
        if len(url) > 2000:
            raise KeyFieldError("url", "Ensure this field has no more than 2000 characters.")
        try:
            out["url"] = await _sender(request).check(url.strip())
        except TargetError as exc:
            raise KeyFieldError("url", str(exc)) from None
    if "description" in data:
        description = data["description"]
        if description is None:
            description = ""
        if not isinstance(description, str):
            raise KeyFieldError("description", "Not a valid string.")
        if len(description) > 200:
            raise KeyFieldError("description", "Ensure this field has no more than 200 characters.")
        out["description"] = description
    if "events" in data or not partial:
        events = data.get("events")
        if not isinstance(events, list) or not events:
            raise KeyFieldError("events", "Choose one or more of: " + ", ".join(EVENT_TYPES) + ".")
        for event in events:
            if event not in EVENT_TYPES:
                raise KeyFieldError("events", f'"{event}" is not a valid choice.')
        out["events"] = list(dict.fromkeys(events))
    if partial and "status" in data:
        if data["status"] not in ("active", "disabled"):
            raise KeyFieldError("status", "Use 'active' or 'disabled'.")
        out["status"] = data["status"]
        if data["status"] == "active":
            out["consecutive_failures"] = 0
    return out


async def list_hooks(request: Request[Any, Any, Any], svc: Services) -> WebhookList:
    caller = await _caller(request, svc)
    return WebhookList([hook_object(s) for s in await _hooks(svc).list(caller.account.id)])


async def create(request: Request[Any, Any, Any], svc: Services) -> WebhookWithSecret:
    caller = await _caller(request, svc)
    fields = await _fields(
        request, json_object(await read_body(request, BODY_LIMIT)), partial=False
    )
    hooks = _hooks(svc)
    if len(await hooks.list(caller.account.id)) >= MAX_WEBHOOKS:
        raise MalformedBody(f"An account has at most {MAX_WEBHOOKS} webhooks; delete one first.")
    sub = Subscription(
        id="wh_" + secrets.token_hex(8),
        account=caller.account.id,
        url=fields["url"],
        description=fields.get("description", ""),
        events=fields["events"],
        created_at=_now(),
        secret="whsec_" + secrets.token_urlsafe(32),
    )
    await hooks.put(sub)
    return hook_with_secret(sub)


async def _owned(
    request: Request[Any, Any, Any], svc: Services, hook: str
) -> tuple[Caller, Subscription]:
    caller = await _caller(request, svc)
    sub = await _hooks(svc).get(caller.account.id, hook) if _ID.fullmatch(hook) else None
    if sub is None:
        raise NotFound("Not found.")
    return caller, sub


async def patch(request: Request[Any, Any, Any], svc: Services, hook: str) -> Webhook:
    caller, _ = await _owned(request, svc, hook)
    fields = await _fields(request, json_object(await read_body(request, BODY_LIMIT)), partial=True)
    sub = (
        await _hooks(svc).patch(caller.account.id, hook, fields)
        if fields
        else await _hooks(svc).get(caller.account.id, hook)
    )
    if sub is None:
        raise NotFound("Not found.")
    return hook_object(sub)


async def delete(request: Request[Any, Any, Any], svc: Services, hook: str) -> None:
    caller, _ = await _owned(request, svc, hook)
    if not await _hooks(svc).delete(caller.account.id, hook):
        raise NotFound("Not found.")


async def rotate(request: Request[Any, Any, Any], svc: Services, hook: str) -> WebhookWithSecret:
    """A new signing secret, at once: deliveries from now on are signed with it."""
    caller, _ = await _owned(request, svc, hook)
    sub = await _hooks(svc).patch(
        caller.account.id, hook, {"secret": "whsec_" + secrets.token_urlsafe(32)}
    )
    if sub is None:
        raise NotFound("Not found.")
    return hook_with_secret(sub)


async def deliveries(request: Request[Any, Any, Any], svc: Services, hook: str) -> DeliveryList:
    caller, _ = await _owned(request, svc, hook)
    lines = await _hooks(svc).log(caller.account.id, hook)
    return DeliveryList([msgspec.json.decode(line) for line in lines])


async def test_event(request: Request[Any, Any, Any], svc: Services, hook: str) -> TestEvent:
    """Queues a ``webhook.test`` event for this webhook only, delivered like any other."""
    caller, sub = await _owned(request, svc, hook)
    data = msgspec.json.encode({"webhook_id": sub.id}).decode()
    event_id = await _hooks(svc).emit(caller.account.id, TEST_EVENT, _now(), data, only=sub.id)
    return TestEvent(event_id, TEST_EVENT)
