"""What the controllers declare alike, for the generated OpenAPI document: the contract's error
answers, the response headers, the path and header parameters, who may call. Nothing here runs
on a request.

Bodies are read raw by the work modules, after authentication and within their own limit and
deadline (the contract's check order), so no handler has a ``data`` parameter. A body is
documented by a dependency whose function takes ``data`` (``body()``): Litestar's generator
takes an operation's body from such a dependency when the handler has none, and its runtime
resolves only the dependencies a handler's signature asks for, which none does
(``tests/api/test_documented_bodies.py``). Such a dependency cannot itself be named ``data``
(a reserved name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, PathParameter
from msgspec import Meta

from ..schema import DetailBody, ItemErrorsBody, ItemsErrorBody

__all__ = [
    "HEADERS",
    "KEY",
    "KEY_OR_BEARER",
    "FieldErrors",
    "HookId",
    "IdempotencyKey",
    "KeyFieldErrors",
    "KeyId",
    "Named",
    "ShortId",
    "body",
    "errors",
    "headers",
]

# who may call (the schemes are the document's: service/openapi.py)
KEY: list[dict[str, list[str]]] = [{"ApiKey": []}]
KEY_OR_BEARER: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]


class Named:
    """Names a plain type as a component of the document, whose schema msgspec writes from
    ``source`` (``openapi.StructSchemas``). Immutable, so a controller's copy shares it (msgspec's
    ``Meta`` cannot be copied)."""

    def __init__(self, name: str, source: Any) -> None:
        self.name, self.source = name, source

    def __deepcopy__(self, memo: dict[int, Any]) -> Named:
        return self


# a failing field of a single item: {"<field>": ["<message>"]}; of a dashboard body, a string
FieldErrors = Annotated[
    dict[str, list[str]],
    Named(
        "FieldErrors",
        Annotated[
            dict[str, Annotated[list[str], Meta(min_length=1)]],
            Meta(
                min_length=1,
                title="FieldErrors",
                description='A failing field and its message: {"<field>": ["<message>"]}.',
            ),
        ],
    ),
]
KeyFieldErrors = Annotated[
    dict[str, str],
    Named(
        "KeyFieldErrors",
        Annotated[
            dict[str, str],
            Meta(
                min_length=1,
                title="KeyFieldErrors",
                description='A failing field and its message: {"<field>": "<message>"}.',
            ),
        ],
    ),
]

ShortId = Annotated[
    str, PathParameter(description="A dynamic code's short id: 8 URL-safe characters")
]
KeyId = Annotated[str, PathParameter(description="An API key's id (from the key listing)")]
HookId = Annotated[str, PathParameter(description="A webhook's id")]
# Read by idempotency.py from the request's headers; declared here for the document only (a
# plain optional string: Litestar never refuses it).
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="A retry with the same key and body within 24 h gets the same result and "
        "is not charged again; another body, or while the first is in flight: 409",
        schema_extra={"pattern": "^[!-~]{1,255}$"},
    ),
]


def body(doc: Callable[..., None]) -> dict[str, Provide]:
    """The request body ``doc``'s ``data`` parameter describes, for the document only."""
    return {"documented_body": Provide(doc, sync_to_thread=False)}


_NO_BODY = object()
_ERRORS: dict[int, tuple[str, Any]] = {
    302: ("A redirect", _NO_BODY),
    400: ('Malformed body or a failing field: {"detail"}, or {"<field>": ["<message>"]}', None),
    401: ("X-Api-Key (or Bearer) missing, unknown or revoked", DetailBody),
    402: ("The free plan's second destination edit", DetailBody),
    403: (
        "A plan gate: no bulk, size, dpi, logos, webhooks, or the active dynamic QR cap",
        DetailBody,
    ),
    404: ("Unknown, deleted, or another account's", DetailBody),
    408: (
        "The body did not arrive within QRSTUDIO_BODY_TIMEOUT_S (default 60 s); the "
        "connection is closed",
        DetailBody,
    ),
    409: ("Idempotency-Key reused with another body or route, or still in flight", DetailBody),
    413: ("Body over the limit (QRSTUDIO_MAX_BODY_BYTES, default 96 MiB)", DetailBody),
    422: (
        "Per-item failures (every failing item, one message each); nothing rendered or charged",
        ItemErrorsBody,
    ),
    429: (
        "Monthly quota of a plan without overage, or too many batches of this account at once",
        DetailBody,
    ),
    431: ("Request headers over the limit (QRSTUDIO_MAX_HEADER_BYTES, default 32 KiB)", DetailBody),
    503: ("Overloaded, or the store did not answer; nothing charged", DetailBody),
}
_SHAPES: dict[str, Any] = {
    "field": DetailBody | FieldErrors,
    "key_field": DetailBody | KeyFieldErrors,
    "bulk": DetailBody | ItemsErrorBody,
    "validate": DetailBody | FieldErrors | ItemsErrorBody,
}


def errors(*codes: int, bad: str = "field", **described: str) -> dict[int, ResponseSpec]:
    """The contract's error answers of an operation (431 on every one). ``bad``: the shape of
    its 400 (``_SHAPES``); ``described``: another description for a code, as ``e404=...``."""
    specs = {}
    for code in (*codes, 431):
        description, shape = _ERRORS[code]
        container = None if shape is _NO_BODY else shape or DetailBody
        if code == 400:
            container = _SHAPES[bad]
        specs[code] = ResponseSpec(
            data_container=container,
            description=described.get(f"e{code}", description),
            generate_examples=False,
        )
    return specs


# name -> (description, JSON Schema): ``headers`` declares them, ``openapi._finish`` gives
# each its schema (Litestar's header declaration has no room for one)
HEADERS: dict[str, tuple[str, dict[str, Any]]] = {
    "X-QR-Plan": ("The plan that rendered", {"type": "string"}),
    "X-QR-Quota-Remaining": (
        "Credits left this month (never below 0)",
        {"type": "string", "pattern": "^[0-9]+$"},
    ),
    "X-QR-Cache": ("Whether the render came from the cache", {"enum": ["HIT", "MISS"]}),
    "X-QR-Duration-Ms": ("Render time", {"type": "string", "pattern": "^[0-9]+$"}),
    "X-QR-Verified": (
        "The image was decoded back to its exact content before it shipped",
        {"const": "true"},
    ),
    "X-QR-Repaired": (
        "What was changed so that the code reads (e.g. a mask), when anything was",
        {"type": "string"},
    ),
    "X-QR-Warning": (
        "What is worth knowing although the code reads (e.g. low contrast)",
        {"type": "string"},
    ),
    "X-QR-Short-Id": (
        "A dynamic code's short id",
        {"type": "string", "pattern": "^[A-Za-z0-9_-]{8}$"},
    ),
    "X-QR-Public-Url": ("A dynamic code's public URL", {"type": "string"}),
    "Idempotent-Replayed": (
        "A replay of an earlier request with this Idempotency-Key",
        {"const": "true"},
    ),
    "Content-Disposition": (
        "The archive's name",
        {"type": "string", "pattern": '^attachment; filename="qrstudio-bulk-[0-9]+\\.zip"$'},
    ),
}


def headers(*names: str, required: tuple[str, ...] = ()) -> list[ResponseHeader]:
    """Headers of an operation's success answer, for the document (the work modules set them)."""
    return [
        ResponseHeader(
            name=name,
            documentation_only=True,
            value="",  # never sent: it makes the document's schema a string
            description=HEADERS[name][0],
            required=name in required,
        )
        for name in names
    ]
