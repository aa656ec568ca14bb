"""The single render, its dry run and the usage summary (``service/single.py``,
``service/dryrun.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from .. import dryrun, single
from ..responses import Usage, ValidateResult
from ..schema import BulkRequestBody, GenerateRequest
from ..services import Services
from .shared import KEY, IdempotencyKey, body, errors, headers

__all__ = ["SingleController"]


def _item_body(data: GenerateRequest) -> None:
    """One item as JSON; the same fields as a form are added to the document
    (``openapi.py``); ``single.handle_generate`` reads the body raw."""


def _validate_body(data: GenerateRequest | BulkRequestBody) -> None:
    """One item or a bulk body; ``dryrun.handle_validate`` reads the body raw."""


class SingleController(Controller):
    path = "/api/v1"
    security = KEY

    @post(
        "/generate/",
        status_code=200,
        operation_id="generate",
        summary="Render one QR code (JSON, or the same fields as a form)",
        media_type="image/png",
        response_description="The image (PNG, or SVG with format svg)",
        response_headers=headers(
            "X-QR-Cache",
            "X-QR-Duration-Ms",
            "X-QR-Plan",
            "X-QR-Quota-Remaining",
            "X-QR-Verified",
            "X-QR-Repaired",
            "X-QR-Warning",
            "X-QR-Short-Id",
            "X-QR-Public-Url",
            "Idempotent-Replayed",
        ),
        responses=errors(400, 401, 403, 408, 409, 413, 429, 503),
        dependencies=body(_item_body),
    )
    async def generate(
        self,
        request: Request[Any, Any, Any],
        svc: NamedDependency[Services],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await single.handle_generate(request, svc)

    @get(
        "/usage/",
        operation_id="usage",
        summary="The account's plan, limits and usage this month",
        responses=errors(401),
    )
    async def usage(self, request: Request[Any, Any, Any], svc: NamedDependency[Services]) -> Usage:
        return await single.usage(request, svc)

    @post(
        "/validate/",
        status_code=200,
        operation_id="validate",
        summary="Dry run of one item or a bulk body: the real call's checks and answers, "
        "nothing charged, created or rendered",
        response_description="Valid",
        responses=errors(
            400,
            401,
            403,
            408,
            413,
            422,
            429,
            503,
            bad="validate",
            e400="Malformed body, a failing field of a single item, or a bulk body's item "
            "count or ceiling",
        ),
        dependencies=body(_validate_body),
    )
    async def validate(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> ValidateResult:
        return await dryrun.handle_validate(request, svc)
