from __future__ import annotations

from typing import Any, Literal

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Response

from ..openapi import openapi_document
from ..responses import Health, Status, StoreState
from ..services import Services

__all__ = ["health", "metrics", "openapi", "status"]


@get("/api/health/", summary="Liveness: answers without touching any dependency")
async def health() -> Health:
    return Health("ok")


@get("/api/status/", summary="Readiness: probes the store")
async def status(
    request: Request[Any, Any, Any], svc: NamedDependency[Services]
) -> Response[Status]:
    store: Literal["redis", "embedded"] = "redis" if svc.settings.redis_url else "embedded"
    try:
        await svc.store.ping()
    except Exception as exc:  # any failure of the probe is the answer, not a 500
        return Response(
            Status(
                status="degraded", store=StoreState(kind=store, ok=False, error=type(exc).__name__)
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return Response(
        Status(
            status="ok",
            store=StoreState(kind=store, ok=True),
            render_threads=svc.settings.threads,
            batches_in_flight=svc.admission.in_flight,
        )
    )


@get(
    "/metrics",
    summary="Prometheus metrics of this process",
    include_in_schema=False,
    media_type="text/plain; version=0.0.4",
)
async def metrics(request: Request[Any, Any, Any]) -> bytes:
    return request.app.state.metrics.exposition()  # type: ignore[no-any-return]


@get(
    ["/schema", "/schema/openapi.json"],
    summary="The OpenAPI document",
    include_in_schema=False,
    media_type="application/json",
)
async def openapi() -> bytes:
    return openapi_document()
