from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.response import Stream

from ..bulk import handle_bulk
from ..services import Services

__all__ = ["generate_bulk"]


@post(
    "/api/v1/generate/bulk/",
    status_code=200,
    summary="Render up to 5 000 QR codes, streamed back as a ZIP with manifest.json",
)
async def generate_bulk(request: Request[Any, Any, Any], svc: NamedDependency[Services]) -> Stream:
    # The body is read raw (not ``data: Struct``) and decoded by a module-level msgspec
    # decoder, after authentication and within the published body limit.
    return await handle_bulk(request, svc)
