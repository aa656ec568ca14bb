from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from .. import keys_api
from ..responses import ApiKeyCreated, ApiKeyList, UsageMe
from ..services import Services

__all__ = ["KEY_ROUTES"]


@get("/api/v1/keys/", summary="The account's API keys (never the raw keys)")
async def list_keys(request: Request[Any, Any, Any], svc: NamedDependency[Services]) -> ApiKeyList:
    return await keys_api.list_keys(request, svc)


@post("/api/v1/keys/", status_code=201, summary="Create an API key (the raw key shown once)")
async def create_key(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> ApiKeyCreated:
    return await keys_api.create_key(request, svc)


@delete("/api/v1/keys/{key_id:str}/", status_code=204, summary="Revoke an API key at once")
async def delete_key(
    request: Request[Any, Any, Any], key_id: FromPath[str], svc: NamedDependency[Services]
) -> None:
    await keys_api.delete_key(request, svc, key_id)


@post(
    "/api/v1/keys/{key_id:str}/rotate/",
    status_code=201,
    summary="Replace an API key by a new one; the old one stops at once",
)
async def rotate_key(
    request: Request[Any, Any, Any], key_id: FromPath[str], svc: NamedDependency[Services]
) -> ApiKeyCreated:
    return await keys_api.rotate_key(request, svc, key_id)


@get("/api/v1/usage/me/", summary="The workspace's plan, usage and keys")
async def usage_me(request: Request[Any, Any, Any], svc: NamedDependency[Services]) -> UsageMe:
    return await keys_api.usage_me(request, svc)


KEY_ROUTES = [list_keys, create_key, delete_key, rotate_key, usage_me]
