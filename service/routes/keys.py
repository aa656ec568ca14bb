from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post

from .. import keys_api

__all__ = ["KEY_ROUTES"]


def _kid(request: Request[Any, Any, Any]) -> str:
    return str(request.path_params["key_id"])


@get("/api/v1/keys/", summary="The account's API keys (never the raw keys)")
async def list_keys(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await keys_api.list_keys(request, request.app.state.services)


@post("/api/v1/keys/", status_code=201, summary="Create an API key (the raw key shown once)")
async def create_key(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await keys_api.create_key(request, request.app.state.services)


@delete("/api/v1/keys/{key_id:str}/", status_code=204, summary="Revoke an API key at once")
async def delete_key(request: Request[Any, Any, Any]) -> None:
    await keys_api.delete_key(request, request.app.state.services, _kid(request))


@post(
    "/api/v1/keys/{key_id:str}/rotate/",
    status_code=201,
    summary="Replace an API key by a new one; the old one stops at once",
)
async def rotate_key(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await keys_api.rotate_key(request, request.app.state.services, _kid(request))


@get("/api/v1/usage/me/", summary="The workspace's plan, usage and keys")
async def usage_me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await keys_api.usage_me(request, request.app.state.services)


KEY_ROUTES = [list_keys, create_key, delete_key, rotate_key, usage_me]
