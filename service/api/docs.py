"""The OpenAPI document Litestar generates (``service/openapi.py``) and the interactive
reference over it, served with its own files (``service/docs_page.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import PathParameter

from .. import openapi as document_source
from ..docs_page import PAGE, asset, asset_names, asset_type
from ..errors import NotFound
from .shared import errors

__all__ = ["DocsController"]

AssetName = Annotated[
    str, PathParameter(description="A file of the docs page", schema_extra={"enum": asset_names()})
]


class DocsController(Controller):
    path = "/"

    @get(
        "/schema", operation_id="openapi", summary="This document (OpenAPI 3.1)", responses=errors()
    )
    async def openapi(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return document_source.document(request.app)

    @get(
        "/schema/openapi.json",
        operation_id="openapiJson",
        summary="This document, by its name",
        responses=errors(),
    )
    async def openapi_json(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return document_source.document(request.app)

    @get(
        "/docs",
        operation_id="docs",
        summary="Interactive API reference (Swagger UI over this document; every file it "
        "loads is served by the service)",
        response_description="An HTML page",
        media_type="text/html",
        responses=errors(),
    )
    async def docs_page(self) -> Response[str]:
        return Response(PAGE, media_type="text/html")  # Litestar adds "; charset=utf-8"

    @get(
        "/docs/assets/{name:str}",
        operation_id="docsAsset",
        summary="A script, stylesheet or icon of the docs page",
        response_description="The file (cached for a day)",
        media_type="application/octet-stream",
        responses=errors(404),
    )
    async def docs_asset(self, name: AssetName) -> Response[bytes]:
        kind = asset_type(name)
        if kind is None:
            raise NotFound(f"No docs asset named {name!r}.")
        return Response(
            asset(name), media_type=kind, headers={"Cache-Control": "public, max-age=86400"}
        )
