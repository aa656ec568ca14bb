"""Health, readiness and metrics: what the gateway and the orchestrator probe."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from ..responses import Health, Status, StoreState
from ..services import Services
from .shared import errors

__all__ = ["OpsController"]


class OpsController(Controller):
    path = "/"

    @get(
        "/api/health/",
        operation_id="health",
        summary="Liveness, no dependencies",
        responses=errors(),
    )
    async def health(self) -> Health:
        return Health("ok")

    @get(
        "/api/status/",
        operation_id="status",
        summary="Readiness: probes the store",
        response_description="Ready",
        responses={
            **errors(),
            503: ResponseSpec(
                Status, description="The store does not answer", generate_examples=False
            ),
        },
    )
    async def status(
        self, request: Request[Any, Any, Any], svc: NamedDependency[Services]
    ) -> Response[Status]:
        store: Literal["redis", "embedded"] = "redis" if svc.settings.redis_url else "embedded"
        try:
            await svc.store.ping()
        except Exception as exc:  # any failure of the probe is the answer, not a 500
            return Response(
                Status(
                    status="degraded",
                    store=StoreState(kind=store, ok=False, error=type(exc).__name__),
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
        operation_id="metrics",
        summary="Prometheus metrics of this process",
        response_description="Text exposition format 0.0.4",
        media_type="text/plain; version=0.0.4",
        responses=errors(),
    )
    async def metrics(self, request: Request[Any, Any, Any]) -> bytes:
        return request.app.state.metrics.exposition()  # type: ignore[no-any-return]
