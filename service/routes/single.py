from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency

from .. import dryrun, single
from ..responses import Usage, ValidateResult
from ..services import Services

__all__ = ["SINGLE_ROUTES"]


@post(
    "/api/v1/generate/", status_code=200, summary="Render one QR code (JSON or multipart/form-data)"
)
async def generate(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> Response[bytes]:
    return await single.handle_generate(request, svc)


@get("/api/v1/usage/", summary="The account's plan, limits and usage this month")
async def usage(request: Request[Any, Any, Any], svc: NamedDependency[Services]) -> Usage:
    return await single.usage(request, svc)


@post(
    "/api/v1/validate/",
    status_code=200,
    summary="Dry run of a single item or a bulk body: the same errors, nothing spent",
)
async def validate(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> ValidateResult:
    return await dryrun.handle_validate(request, svc)


SINGLE_ROUTES = [generate, usage, validate]
