from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, head, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from .. import dynamic
from ..responses import Analytics, CodePage, DynamicCode
from ..services import Services

__all__ = ["DYNAMIC_ROUTES"]


@get(
    "/q/{short_id:str}/",
    summary="Public redirect of a dynamic QR code (no auth)",
    include_in_schema=False,
)
async def redirect(
    request: Request[Any, Any, Any], short_id: FromPath[str], svc: NamedDependency[Services]
) -> Response[Any]:
    return await dynamic.redirect(request, short_id, svc)


@head(
    "/q/{short_id:str}/",
    summary="HEAD of the public redirect: the same answer, no scan counted",
    include_in_schema=False,
)
async def redirect_head(
    request: Request[Any, Any, Any], short_id: FromPath[str], svc: NamedDependency[Services]
) -> Response[None]:
    return await dynamic.redirect(request, short_id, svc)


@get("/api/v1/dynamic/", summary="List the account's dynamic QR codes")
async def list_codes(request: Request[Any, Any, Any], svc: NamedDependency[Services]) -> CodePage:
    return await dynamic.list_codes(request, svc)


@post("/api/v1/dynamic/", status_code=201, summary="Create a dynamic QR code without a render")
async def create_code(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> Response[Any]:
    return await dynamic.create_code(request, svc)


@get("/api/v1/dynamic/{short_id:str}/")
async def get_code(
    request: Request[Any, Any, Any], short_id: FromPath[str], svc: NamedDependency[Services]
) -> DynamicCode:
    return await dynamic.get_code(request, svc, short_id)


@patch("/api/v1/dynamic/{short_id:str}/")
async def update_code(
    request: Request[Any, Any, Any], short_id: FromPath[str], svc: NamedDependency[Services]
) -> DynamicCode:
    return await dynamic.update_code(request, svc, short_id)


@delete("/api/v1/dynamic/{short_id:str}/", status_code=204)
async def delete_code(
    request: Request[Any, Any, Any], short_id: FromPath[str], svc: NamedDependency[Services]
) -> None:
    await dynamic.delete_code(request, svc, short_id)


@get("/api/v1/dynamic/{short_id:str}/analytics/")
async def analytics(
    request: Request[Any, Any, Any], short_id: FromPath[str], svc: NamedDependency[Services]
) -> Analytics:
    return await dynamic.analytics(request, svc, short_id)


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
