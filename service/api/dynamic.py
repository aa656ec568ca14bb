"""Dynamic QR codes: the management API and the public redirect (``service/dynamic.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, head, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from .. import dynamic
from ..responses import Analytics, CodePage, DynamicCode
from ..schema import CodeCreate, CodeUpdate
from ..services import Services
from .shared import KEY_OR_BEARER, IdempotencyKey, ShortId, body, errors, headers

__all__ = ["DynamicController", "RedirectController"]


# Declared for the document, as the integers they must be; ``dynamic.list_codes`` reads them
# from the query itself, as the product's paginator does (the first of repeated values, its
# own message for a bad one), so Litestar never refuses them (plain optional strings).
Page = Annotated[
    str | None,
    QueryParameter(
        name="page",
        required=False,
        schema_extra={"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
    ),
]
PageSize = Annotated[
    str | None,
    QueryParameter(
        name="page_size",
        required=False,
        description="At most 100 are returned (larger values count as 100)",
        schema_extra={"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 25},
    ),
]


def _create_body(data: CodeCreate) -> None:
    """The body as documented; ``dynamic`` decodes it with the same Struct."""


def _update_body(data: CodeUpdate) -> None:
    """The body as documented; ``dynamic`` decodes it with the same Struct."""


class DynamicController(Controller):
    path = "/api/v1/dynamic"
    security = KEY_OR_BEARER

    @get(
        "/",
        operation_id="listDynamicCodes",
        summary="The account's dynamic QR codes, newest first",
        response_description="A page",
        responses=errors(400, 401, 404, e404='A page past the end: {"detail": "Invalid page."}'),
    )
    async def list_codes(
        self,
        request: Request[Any, Any, Any],
        svc: NamedDependency[Services],
        page: Page = None,
        page_size: PageSize = None,
    ) -> CodePage:
        return await dynamic.list_codes(request, svc)

    @post(
        "/",
        status_code=201,
        operation_id="createDynamicCode",
        summary="Create a dynamic QR code without a render",
        response_headers=headers("Idempotent-Replayed"),
        responses=errors(400, 401, 403, 409, 413, 503),
        dependencies=body(_create_body),
    )
    async def create_code(
        self,
        request: Request[Any, Any, Any],
        svc: NamedDependency[Services],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DynamicCode]:
        return await dynamic.create_code(request, svc)

    @get(
        "/{short_id:str}/",
        operation_id="getDynamicCode",
        summary="One code",
        responses=errors(401, 404),
    )
    async def get_code(
        self, request: Request[Any, Any, Any], short_id: ShortId, svc: NamedDependency[Services]
    ) -> DynamicCode:
        return await dynamic.get_code(request, svc, short_id)

    @patch(
        "/{short_id:str}/",
        operation_id="updateDynamicCode",
        summary="Change name, destination_url or is_active",
        responses=errors(400, 401, 402, 403, 404, 413),
        dependencies=body(_update_body),
    )
    async def update_code(
        self, request: Request[Any, Any, Any], short_id: ShortId, svc: NamedDependency[Services]
    ) -> DynamicCode:
        return await dynamic.update_code(request, svc, short_id)

    @delete(
        "/{short_id:str}/",
        status_code=204,
        operation_id="deleteDynamicCode",
        summary="Delete; the redirect stops",
        responses=errors(401, 404),
    )
    async def delete_code(
        self, request: Request[Any, Any, Any], short_id: ShortId, svc: NamedDependency[Services]
    ) -> None:
        await dynamic.delete_code(request, svc, short_id)

    @get(
        "/{short_id:str}/analytics/",
        operation_id="dynamicCodeAnalytics",
        summary="Scans by day, agent family, referrer; recent",
        responses=errors(401, 404),
    )
    async def analytics(
        self, request: Request[Any, Any, Any], short_id: ShortId, svc: NamedDependency[Services]
    ) -> Analytics:
        return await dynamic.analytics(request, svc, short_id)


class RedirectController(Controller):
    """What phones hit: no authentication."""

    path = "/q/{short_id:str}/"

    @get(
        operation_id="redirect",
        summary="Public redirect of a dynamic QR code (no auth; counts the scan)",
        responses={
            **errors(
                302,
                404,
                e302="To the destination (Cache-Control: no-store; the Location header)",
                e404="Unknown or deleted",
            ),
            200: ResponseSpec(
                str, description="The paused page", media_type="text/html", generate_examples=False
            ),
        },
    )
    async def redirect(
        self, request: Request[Any, Any, Any], short_id: ShortId, svc: NamedDependency[Services]
    ) -> Response[str]:
        return await dynamic.redirect(request, short_id, svc)

    @head(
        summary="HEAD of the public redirect: the same answer, no scan counted",
        include_in_schema=False,
    )
    async def redirect_head(
        self, request: Request[Any, Any, Any], short_id: ShortId, svc: NamedDependency[Services]
    ) -> Response[None]:
        return await dynamic.redirect(request, short_id, svc)
