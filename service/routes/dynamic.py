from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, head, patch, post

from .. import dynamic

__all__ = ["DYNAMIC_ROUTES"]


def _sid(request: Request[Any, Any, Any]) -> str:
    return str(request.path_params["short_id"])


@get(
    "/q/{short_id:str}/",
    summary="Public redirect of a dynamic QR code (no auth)",
    include_in_schema=False,
)
async def redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    return await dynamic.redirect(request, _sid(request), request.app.state.services)


@head(
    "/q/{short_id:str}/",
    summary="HEAD of the public redirect: the same answer, no scan counted",
    include_in_schema=False,
)
async def redirect_head(request: Request[Any, Any, Any]) -> Response[None]:
    return await dynamic.redirect(request, _sid(request), request.app.state.services)


@get("/api/v1/dynamic/", summary="List the account's dynamic QR codes")
async def list_codes(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await dynamic.list_codes(request, request.app.state.services)


@post("/api/v1/dynamic/", status_code=201, summary="Create a dynamic QR code without a render")
async def create_code(request: Request[Any, Any, Any]) -> Response[Any]:
    return await dynamic.create_code(request, request.app.state.services)


@get("/api/v1/dynamic/{short_id:str}/")
async def get_code(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await dynamic.get_code(request, request.app.state.services, _sid(request))


@patch("/api/v1/dynamic/{short_id:str}/")
async def update_code(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await dynamic.update_code(request, request.app.state.services, _sid(request))


@delete("/api/v1/dynamic/{short_id:str}/", status_code=204)
async def delete_code(request: Request[Any, Any, Any]) -> None:
    await dynamic.delete_code(request, request.app.state.services, _sid(request))


@get("/api/v1/dynamic/{short_id:str}/analytics/")
async def analytics(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await dynamic.analytics(request, request.app.state.services, _sid(request))


DYNAMIC_ROUTES = [
    redirect,
    redirect_head,
    list_codes,
    create_code,
    get_code,
    update_code,
    delete_code,
    analytics,
]
