"""POST /api/v1/generate/bulk/: the batch render, streamed back as a ZIP (``service/bulk.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.response import Stream

from ..bulk import handle_bulk
from ..schema import BulkRequestBody
from ..services import Services
from .shared import KEY, IdempotencyKey, body, errors, headers

__all__ = ["BulkController"]


def _bulk_body(data: BulkRequestBody) -> None:
    """The body as documented; ``handle_bulk`` reads it raw (see ``shared``)."""


class BulkController(Controller):
    path = "/api/v1/generate/bulk/"
    security = KEY

    @post(
        status_code=200,
        operation_id="generateBulk",
        summary="Render up to 5 000 QR codes, streamed back as a ZIP with manifest.json",
        description="Checks in the contract's order; nothing is charged or written before all "
        "pass. A stream that does not complete is cut without the ZIP's end record and "
        "refunded.",
        media_type="application/zip",
        response_description="ZIP: qr-0001.png ... in request order, then manifest.json "
        "(stored; the Manifest schema)",
        response_headers=headers(
            "Content-Disposition",
            "X-QR-Plan",
            "X-QR-Quota-Remaining",
            "Idempotent-Replayed",
            required=("Content-Disposition",),
        ),
        responses=errors(
            400,
            401,
            403,
            408,
            409,
            413,
            422,
            429,
            503,
            bad="bulk",
            e400='Malformed body, item count ({"items"}) or the 100 MB ceiling',
        ),
        dependencies=body(_bulk_body),
    )
    async def generate_bulk(
        self,
        request: Request[Any, Any, Any],
        svc: NamedDependency[Services],
        idempotency_key: IdempotencyKey = None,
    ) -> Stream:
        # The body is read raw (not ``data: Struct``), after authentication and within the
        # published body limit, and decoded by a module-level msgspec decoder.
        return await handle_bulk(request, svc)
