"""The account's API keys and the workspace's usage (``service/keys_api.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency

from .. import keys_api
from ..responses import ApiKeyCreated, ApiKeyList, UsageMe
from ..services import Services
from .bodies import ApiKeyCreate
from .shared import KEY_OR_BEARER, KeyId, body, errors

__all__ = ["KeysController"]


def _create_body(data: ApiKeyCreate) -> None:
    """The body as documented; ``keys_api`` reads it field by field."""


class KeysController(Controller):
    path = "/api/v1"
    security = KEY_OR_BEARER

    @get(
        "/keys/",
        operation_id="listKeys",
        summary="The account's API keys (never the raw keys)",
        responses=errors(401),
    )
    async def list_keys(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> ApiKeyList:
        return await keys_api.list_keys(request, svc)

    @post(
        "/keys/",
        status_code=201,
        operation_id="createKey",
        summary="Create an API key (the raw key shown once)",
        responses=errors(400, 401, 413, bad="key_field"),
        dependencies=body(_create_body),
    )
    async def create_key(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> ApiKeyCreated:
        return await keys_api.create_key(request, svc)

    @delete(
        "/keys/{key_id:str}/",
        status_code=204,
        operation_id="revokeKey",
        summary="Revoke an API key at once",
        responses=errors(401, 404),
    )
    async def delete_key(
        self, request: Request[Any, Any, Any], key_id: KeyId, svc: NamedDependency[Services]
    ) -> None:
        await keys_api.delete_key(request, svc, key_id)

    @post(
        "/keys/{key_id:str}/rotate/",
        status_code=201,
        operation_id="rotateKey",
        summary="Replace an API key by a new one; the old one stops at once",
        responses=errors(401, 404),
    )
    async def rotate_key(
        self, request: Request[Any, Any, Any], key_id: KeyId, svc: NamedDependency[Services]
    ) -> ApiKeyCreated:
        return await keys_api.rotate_key(request, svc, key_id)

    @get(
        "/usage/me/",
        operation_id="usageMe",
        summary="The workspace's plan, usage and keys",
        responses=errors(401),
    )
    async def usage_me(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> UsageMe:
        return await keys_api.usage_me(request, svc)
