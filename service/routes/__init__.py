"""HTTP routes: thin handlers that hand the request to the module that does the work."""

from __future__ import annotations

from .bulk import generate_bulk
from .docs import DOCS_ROUTES
from .dynamic import DYNAMIC_ROUTES
from .health import health, metrics, openapi, status
from .keys import KEY_ROUTES
from .single import SINGLE_ROUTES
from .webhooks import WEBHOOK_ROUTES

__all__ = ["ROUTES"]

ROUTES = [
    generate_bulk,
    health,
    status,
    metrics,
    openapi,
    *DOCS_ROUTES,
    *DYNAMIC_ROUTES,
    *SINGLE_ROUTES,
    *KEY_ROUTES,
    *WEBHOOK_ROUTES,
]
