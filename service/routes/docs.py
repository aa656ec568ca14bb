"""/docs: the interactive API reference and the files it loads (``service/docs_page.py``)."""

from __future__ import annotations

from litestar import Response, get
from litestar.params import FromPath

from ..docs_page import PAGE, asset, asset_type
from ..errors import NotFound

__all__ = ["DOCS_ROUTES"]


@get("/docs", summary="Interactive API reference", include_in_schema=False, media_type="text/html")
async def docs_page() -> Response[str]:
    return Response(PAGE, media_type="text/html; charset=utf-8")


@get("/docs/assets/{name:str}", include_in_schema=False)
async def docs_asset(name: FromPath[str]) -> Response[bytes]:
    kind = asset_type(name)
    if kind is None:
        raise NotFound(f"No docs asset named {name!r}.")
    return Response(
        asset(name), media_type=kind, headers={"Cache-Control": "public, max-age=86400"}
    )


DOCS_ROUTES = [docs_page, docs_asset]
