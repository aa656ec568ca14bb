"""The HTTP face: one controller per resource, side by side (none imports another), each thin
over the module that does the work. What they declare alike for the OpenAPI document is in
``shared``; the dashboard bodies they document in ``bodies``."""

from __future__ import annotations

from litestar import Controller

from .bulk import BulkController
from .docs import DocsController
from .dynamic import DynamicController, RedirectController
from .keys import KeysController
from .ops import OpsController
from .single import SingleController
from .webhooks import WebhooksController

__all__ = ["CONTROLLERS"]

CONTROLLERS: list[type[Controller]] = [
    BulkController,
    SingleController,
    DynamicController,
    RedirectController,
    KeysController,
    WebhooksController,
    OpsController,
    DocsController,
]
