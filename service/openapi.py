"""The OpenAPI 3.1 document served at ``/schema``, built from the msgspec Structs that decode
requests (``schema.py``) and from the response Structs below, so each field shows its type,
limits and default as the decoder enforces them.

An item is one of twelve variants, one per ``data_type``, each with its own payload schema:
the payloads overlap (a dynamic payload is also a valid vCard payload), so only the data type
can tell them apart, and a fuzzer generating from this document reaches the render code with
items the service accepts. The response shapes mirror what the handlers answer with;
``tests/fuzz`` checks every answer against them.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from .docs_page import asset_names
from .openapi_dashboard import (
    DASHBOARD_PARAMETERS,
    DASHBOARD_TYPES,
    dashboard_paths,
    dashboard_responses,
    key_field_errors,
)
from .responses import (
    Analytics,
    CodePage,
    DynamicCode,
    Health,
    Status,
    Usage,
    ValidateResult,
)
from .schema import PAYLOADS, DetailBody, GenerateRequest, ItemErrorsBody, ItemsErrorBody, Manifest

__all__ = ["openapi_dict", "openapi_document"]

Json = dict[str, Any]
_REF = "#/components/schemas/{name}"
_COLOR = "^([Bb][Ll][Aa][Cc][Kk]|[Ww][Hh][Ii][Tt][Ee]|#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?)$"
_BACKGROUND = (
    "^([Tt][Rr][Aa][Nn][Ss][Pp][Aa][Rr][Ee][Nn][Tt]|[Bb][Ll][Aa][Cc][Kk]|"
    "[Ww][Hh][Ii][Tt][Ee]|#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?)$"
)
_HTTP_URL = "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,4})?(/[!-~]*)?$"
_COLOR_FIELDS = (
    "color",
    "gradient_from",
    "gradient_to",
    "eye_color",
    "eye_border_color",
    "eye_center_color",
    "frame_color",
)
_UPLOAD_TYPES = "image/png, image/jpeg, image/webp, image/gif"


Destination = Annotated[
    str, Meta(max_length=2000, pattern=_HTTP_URL, description="An http or https URL")
]


class CodeCreate(msgspec.Struct, kw_only=True):
    """POST /api/v1/dynamic/ (decoded by dynamic.py's own Struct of the same fields)."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    destination_url: Destination


class CodeUpdate(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=120)] | None = None
    destination_url: Destination | None = None
    is_active: bool | None = None


class BulkRequestBody(msgspec.Struct):
    """POST /api/v1/generate/bulk/: 1 to the plan's cap (at most 5 000) items."""

    items: Annotated[list[GenerateRequest], Meta(min_length=1, max_length=5000)]


# -- schemas -------------------------------------------------------------------------------
def _ref(name: str) -> Json:
    return {"$ref": _REF.format(name=name)}


def _strings(schema: Json, **keywords: Any) -> None:
    """Add ``keywords`` to every string alternative of ``schema`` (colour spellings)."""
    if schema.get("type") == "string":
        schema.update(keywords)
    for alternative in schema.get("anyOf", ()):
        _strings(alternative, **keywords)


def _not_null(schema: Json) -> Json:
    """A form field is absent rather than null: the non-null alternative of ``schema``."""
    options = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
    if len(options) == 1:
        return {**options[0], **{k: v for k, v in schema.items() if k not in ("anyOf", "default")}}
    return schema


def _variant_name(data_type: str) -> str:
    return f"{data_type.capitalize()}Item"


def _items(components: dict[str, Json]) -> None:
    """GenerateRequest as one variant per data type (``schema.PAYLOADS``)."""
    base = components.pop("GenerateRequest")
    fields = base["properties"]
    for name in _COLOR_FIELDS:
        _strings(fields[name], pattern=_COLOR)
    _strings(fields["background"], pattern=_BACKGROUND)
    components["DynamicPayload"]["properties"]["destination_url"].update(
        pattern=_HTTP_URL, description="An http or https URL"
    )
    fields["size_inches"]["description"] = (
        "0.5 to 15 and at most the plan's maximum; size_inches x dpi is the image's width in pixels"
    )
    fields["frame_label"]["description"] = (
        "Needs a frame_style; at least one visible character and no control characters"
    )
    fields["logo_url"]["description"] = fields["bg_image_url"]["description"] = (
        "http or https; fetched safely (no internal addresses), PNG, JPEG, WebP or GIF"
    )
    common = {k: v for k, v in fields.items() if k not in ("data", "data_type", "payload")}
    required = [r for r in base.get("required", ()) if r in common]

    def variant(title: str, description: str, head: Json, extra_required: list[str]) -> Json:
        return {
            "title": title,
            "description": description,
            "type": "object",
            "properties": {**head, **copy.deepcopy(common)},
            "required": [*extra_required, *required],
        }

    text = {**fields["data"]["anyOf"][0], "minLength": 1}
    variants = {
        "TextItem": variant(
            "TextItem",
            "data_type url (the default) or text: the code carries `data`.",
            {"data": text, "data_type": {"enum": ["url", "text"], "default": "url"}},
            ["data"],
        )
    }
    for data_type, payload in PAYLOADS.items():
        name = _variant_name(data_type)
        variants[name] = variant(
            name,
            f"data_type {data_type}: the code carries `payload` ({payload.__name__}).",
            {"data_type": {"const": data_type}, "payload": _ref(payload.__name__)},
            ["data_type", "payload"],
        )
    # EPC069-12: EPC codes use error correction M
    variants["EpcItem"]["properties"]["error_correction"] = {
        "enum": ["auto", "M"],
        "default": "auto",
    }
    components.update(variants)
    components["GenerateRequest"] = {
        "title": "GenerateRequest",
        "description": base["description"],
        "oneOf": [_ref(n) for n in variants],
    }

    # the same fields as form fields (single render and dry run): payload as JSON text
    form = {k: _not_null(v) for k, v in fields.items()}
    form["payload"] = {
        "description": "The payload of data_type as a JSON object (a form field of JSON text)",
        "anyOf": [_ref(t.__name__) for t in dict.fromkeys(PAYLOADS.values())],
    }
    components["GenerateFields"] = {
        "title": "GenerateFields",
        "type": "object",
        "properties": form,
        "required": required,
        "description": "A GenerateRequest as application/x-www-form-urlencoded fields.",
    }
    upload = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
    components["GenerateForm"] = {
        "title": "GenerateForm",
        "type": "object",
        "required": required,
        "description": "A GenerateRequest as multipart/form-data fields, with optional uploads "
        "(type judged by content: PNG, JPEG, WebP or GIF; logo at most 2 MB, "
        "background at most 5 MB, 50 megapixels).",
        "properties": {**copy.deepcopy(form), "logo_file": {**upload}, "bg_image_file": {**upload}},
    }


def _components() -> dict[str, Json]:
    types: list[Any] = [
        GenerateRequest,
        BulkRequestBody,
        Manifest,
        DetailBody,
        ItemErrorsBody,
        ItemsErrorBody,
        *dict.fromkeys(PAYLOADS.values()),
        ValidateResult,
        Usage,
        DynamicCode,
        CodePage,
        CodeCreate,
        CodeUpdate,
        Analytics,
        Health,
        Status,
    ]
    _, components = msgspec.json.schema_components([*types, *DASHBOARD_TYPES], ref_template=_REF)
    _items(components)
    components["KeyFieldErrors"] = key_field_errors()
    components["FieldErrors"] = {
        "title": "FieldErrors",
        "type": "object",
        "minProperties": 1,
        "description": 'A failing field and its message: {"<field>": ["<message>"]}.',
        "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    }
    return dict(sorted(components.items()))


# -- responses, parameters, headers --------------------------------------------------------
_HEADERS: dict[str, Json] = {
    "X-Request-Id": {
        "description": "A ULID, or the gateway's own id when it is 1-128 "
        "characters of [A-Za-z0-9._-]",
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds", "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-QR-Plan": {"description": "The plan that rendered", "schema": {"type": "string"}},
    "X-QR-Quota-Remaining": {
        "description": "Credits left this month (never below 0)",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "X-QR-Cache": {"schema": {"enum": ["HIT", "MISS"]}},
    "X-QR-Duration-Ms": {"schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-QR-Short-Id": {
        "description": "A dynamic code's short id",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8}$"},
    },
    "X-QR-Public-Url": {"description": "A dynamic code's public URL", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "A replay of an earlier request with this Idempotency-Key",
        "schema": {"const": "true"},
    },
    "Content-Disposition": {
        "schema": {
            "type": "string",
            "pattern": '^attachment; filename="qrstudio-bulk-[0-9]+\\.zip"$',
        }
    },
    "Location": {"schema": {"type": "string"}},
}


def _headers(*names: str, required: tuple[str, ...] = ()) -> Json:
    """Response headers; every answer carries X-Request-Id."""
    required = ("X-Request-Id", *required)
    return {
        n: {**_HEADERS[n], "required": True}
        if n in required
        else {"$ref": f"#/components/headers/{n}"}
        for n in ("X-Request-Id", *names)
    }


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _error(description: str, *schemas: str, headers: tuple[str, ...] = ()) -> Json:
    schema = _ref(schemas[0]) if len(schemas) == 1 else {"anyOf": [_ref(s) for s in schemas]}
    return {"description": description, "headers": _headers(*headers), "content": _json(schema)}


_RESPONSES: dict[str, Json] = {
    "Malformed": _error(
        'Malformed body or a failing field: {"detail"}, or {"<field>": ["<message>"]}',
        "DetailBody",
        "FieldErrors",
    ),
    "BulkMalformed": _error(
        'Malformed body, item count ({"items"}) or the 100 MB ceiling',
        "DetailBody",
        "ItemsErrorBody",
    ),
    "Unauthorized": _error("X-Api-Key (or Bearer) missing, unknown or revoked", "DetailBody"),
    "PaymentRequired": _error("The free plan's second destination edit", "DetailBody"),
    "Forbidden": _error(
        "A plan gate: no bulk, size, dpi, logos, or the active dynamic QR cap", "DetailBody"
    ),
    "NotFound": _error("Unknown, deleted, or another account's", "DetailBody"),
    "Conflict": _error(
        "Idempotency-Key reused with another body or route, or still in flight", "DetailBody"
    ),
    "TooLarge": _error(
        "Body over the limit (QRSTUDIO_MAX_BODY_BYTES, default 96 MiB)", "DetailBody"
    ),
    "BodyTimeout": _error(
        "The body did not arrive within QRSTUDIO_BODY_TIMEOUT_S (default "
        "60 s); the connection is closed",
        "DetailBody",
    ),
    "ItemErrors": _error(
        "Per-item failures (every failing item, one message each); nothing rendered or charged",
        "ItemErrorsBody",
    ),
    "QuotaExceeded": _error(
        "Monthly quota of a plan without overage, or too many batches of this account at once",
        "DetailBody",
        headers=("Retry-After",),
    ),
    "HeadersTooLarge": _error(
        "Request headers over the limit (QRSTUDIO_MAX_HEADER_BYTES, default 32 KiB)", "DetailBody"
    ),
    "Unavailable": _error(
        "Overloaded, or the store did not answer; nothing charged",
        "DetailBody",
        headers=("Retry-After",),
    ),
}


def _errors(*codes: int) -> Json:
    names = {
        400: "Malformed",
        401: "Unauthorized",
        402: "PaymentRequired",
        403: "Forbidden",
        404: "NotFound",
        408: "BodyTimeout",
        409: "Conflict",
        413: "TooLarge",
        422: "ItemErrors",
        429: "QuotaExceeded",
        431: "HeadersTooLarge",
        503: "Unavailable",
    }
    return {str(c): {"$ref": f"#/components/responses/{names[c]}"} for c in (*codes, 431)}


_PARAMETERS: dict[str, Json] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A retry with the same key and body within 24 h gets the same result "
        "and is not charged again; another body, or while the first is in "
        "flight: 409",
        "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    },
    "RequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": "Kept for tracing when it is 1-128 characters of "
        "[A-Za-z0-9._-]; otherwise the service makes one",
        "schema": {"type": "string"},
    },
    "DocsAsset": {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "A file of the docs page",
        "schema": {"type": "string", "enum": asset_names()},
    },
    "ShortId": {
        "name": "short_id",
        "in": "path",
        "required": True,
        "description": "8 URL-safe characters",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    },
    "Page": {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
    },
    "PageSize": {
        "name": "page_size",
        "in": "query",
        "required": False,
        "description": "At most 100 are returned (larger values count as 100)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 25},
    },
}
_KEY: list[dict[str, list[str]]] = [{"ApiKey": []}]
_KEY_OR_BEARER: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]


def _params(*names: str) -> list[Json]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in ("RequestId", *names)]


def _op(
    op_id: str,
    summary: str,
    responses: Json,
    *,
    security: list[Json] | None = None,
    params: tuple[str, ...] = (),
    body: Json | None = None,
    links: Json | None = None,
    description: str = "",
) -> Json:
    op: Json = {
        "operationId": op_id,
        "summary": summary,
        "parameters": _params(*params),
        "responses": responses,
    }
    if description:
        op["description"] = description
    if security is not None:
        op["security"] = security
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if links:
        first = next(k for k in responses if k.startswith("2"))
        responses[first]["links"] = links
    return op


def _ok(status: str, description: str, schema: str | None) -> Json:
    """A success answer: its schema (None: no body) and the headers every answer has."""
    answer: Json = {"description": description, "headers": _headers()}
    if schema is not None:
        answer["content"] = _json(_ref(schema))
    return {status: answer}


def _code_links(short_id: str) -> Json:
    """From an answer that names a dynamic code to what can be done with it."""
    sid = {"short_id": short_id}
    return {
        "GetCode": {"operationId": "getDynamicCode", "parameters": sid},
        "UpdateCode": {"operationId": "updateDynamicCode", "parameters": sid},
        "CodeAnalytics": {"operationId": "dynamicCodeAnalytics", "parameters": sid},
        "Redirect": {"operationId": "redirect", "parameters": sid},
        "DeleteCode": {"operationId": "deleteDynamicCode", "parameters": sid},
        "ListCodes": {"operationId": "listDynamicCodes"},
    }


def _replay(op_id: str) -> Json:
    """The same request again with the same Idempotency-Key: the same answer, replayed."""
    return {
        "Replay": {
            "operationId": op_id,
            "requestBody": "$request.body",
            "parameters": {"header.Idempotency-Key": "$request.header.Idempotency-Key"},
        }
    }


def _paths() -> Json:
    binary = {"type": "string", "format": "binary"}
    item_forms = {
        "multipart/form-data": {
            "schema": _ref("GenerateForm"),
            "encoding": {
                "payload": {"contentType": "application/json"},
                "logo_file": {"contentType": _UPLOAD_TYPES},
                "bg_image_file": {"contentType": _UPLOAD_TYPES},
            },
        },
        "application/x-www-form-urlencoded": {"schema": _ref("GenerateFields")},
    }
    return {
        "/api/v1/generate/bulk/": {
            "post": _op(
                "generateBulk",
                "Render up to 5 000 QR codes, streamed back as a ZIP",
                {
                    "200": {
                        "description": "ZIP: qr-0001.png ... in request order, then manifest.json "
                        "(stored; the Manifest schema)",
                        "headers": _headers(
                            "Content-Disposition",
                            "X-QR-Plan",
                            "X-QR-Quota-Remaining",
                            "Idempotent-Replayed",
                            required=("Content-Disposition",),
                        ),
                        "content": {"application/zip": {"schema": binary}},
                    },
                    **_errors(401, 403, 408, 409, 413, 422, 429, 503),
                    "400": {"$ref": "#/components/responses/BulkMalformed"},
                },
                security=_KEY,
                params=("IdempotencyKey",),
                body=_json(_ref("BulkRequestBody")),
                links=_replay("generateBulk"),
                description="Checks in the contract's order; nothing is charged or written before "
                "all pass. A stream that does not complete is cut without the ZIP's "
                "end record and refunded.",
            )
        },
        "/api/v1/generate/": {
            "post": _op(
                "generate",
                "Render one QR code (JSON, or the same fields as a form)",
                {
                    "200": {
                        "description": "The image",
                        "headers": _headers(
                            "X-QR-Cache",
                            "X-QR-Duration-Ms",
                            "X-QR-Plan",
                            "X-QR-Quota-Remaining",
                            "X-QR-Short-Id",
                            "X-QR-Public-Url",
                            "Idempotent-Replayed",
                        ),
                        "content": {
                            "image/png": {"schema": binary},
                            "image/svg+xml": {"schema": {"type": "string"}},
                        },
                        "links": {
                            **_replay("generate"),
                            **{
                                k: v
                                for k, v in _code_links("$response.header.X-QR-Short-Id").items()
                                if k in ("GetCode", "Redirect")
                            },
                        },
                    },
                    **_errors(400, 401, 403, 408, 409, 413, 429, 503),
                },
                security=_KEY,
                params=("IdempotencyKey",),
                body={**_json(_ref("GenerateRequest")), **item_forms},
            )
        },
        "/api/v1/validate/": {
            "post": _op(
                "validate",
                "Dry run of one item or a bulk body: the real call's checks and "
                "answers, nothing charged, created or rendered",
                {
                    "200": {
                        "description": "Valid",
                        "headers": _headers(),
                        "content": _json(_ref("ValidateResult")),
                    },
                    **_errors(401, 403, 408, 413, 422, 429, 503),
                    "400": _error(
                        "Malformed body, a failing field of a single item, or a "
                        "bulk body's item count or ceiling",
                        "DetailBody",
                        "FieldErrors",
                        "ItemsErrorBody",
                    ),
                },
                security=_KEY,
                body={
                    **_json({"anyOf": [_ref("GenerateRequest"), _ref("BulkRequestBody")]}),
                    **item_forms,
                },
            )
        },
        "/api/v1/usage/": {
            "get": _op(
                "usage",
                "Plan, limits and usage this month",
                {
                    "200": {
                        "description": "Usage",
                        "headers": _headers(),
                        "content": _json(_ref("Usage")),
                    },
                    **_errors(401),
                },
                security=_KEY,
            )
        },
        "/api/v1/dynamic/": {
            "get": _op(
                "listDynamicCodes",
                "The account's dynamic QR codes, newest first",
                {
                    "200": {
                        "description": "A page",
                        "headers": _headers(),
                        "content": _json(_ref("CodePage")),
                    },
                    **_errors(400, 401),
                    "404": _error('A page past the end: {"detail": "Invalid page."}', "DetailBody"),
                },
                security=_KEY_OR_BEARER,
                params=("Page", "PageSize"),
            ),
            "post": _op(
                "createDynamicCode",
                "Create a dynamic QR code without a render",
                {
                    "201": {
                        "description": "Created",
                        "headers": _headers("Idempotent-Replayed"),
                        "content": _json(_ref("DynamicCode")),
                        "links": {
                            **_code_links("$response.body#/short_id"),
                            **_replay("createDynamicCode"),
                        },
                    },
                    **_errors(400, 401, 403, 409, 413, 503),
                },
                security=_KEY_OR_BEARER,
                params=("IdempotencyKey",),
                body=_json(_ref("CodeCreate")),
            ),
        },
        "/api/v1/dynamic/{short_id}/": {
            "parameters": [{"$ref": "#/components/parameters/ShortId"}],
            "get": _op(
                "getDynamicCode",
                "One code",
                {
                    "200": {
                        "description": "The code",
                        "headers": _headers(),
                        "content": _json(_ref("DynamicCode")),
                    },
                    **_errors(401, 404),
                },
                security=_KEY_OR_BEARER,
            ),
            "patch": _op(
                "updateDynamicCode",
                "Change name, destination_url or is_active",
                {
                    "200": {
                        "description": "The code",
                        "headers": _headers(),
                        "content": _json(_ref("DynamicCode")),
                    },
                    **_errors(400, 401, 402, 403, 404, 413),
                },
                security=_KEY_OR_BEARER,
                body=_json(_ref("CodeUpdate")),
            ),
            "delete": _op(
                "deleteDynamicCode",
                "Delete; the redirect stops",
                {"204": {"description": "Deleted", "headers": _headers()}, **_errors(401, 404)},
                security=_KEY_OR_BEARER,
            ),
        },
        "/api/v1/dynamic/{short_id}/analytics/": {
            "parameters": [{"$ref": "#/components/parameters/ShortId"}],
            "get": _op(
                "dynamicCodeAnalytics",
                "Scans by day, agent family, referrer; recent",
                {
                    "200": {
                        "description": "Analytics",
                        "headers": _headers(),
                        "content": _json(_ref("Analytics")),
                    },
                    **_errors(401, 404),
                },
                security=_KEY_OR_BEARER,
            ),
        },
        "/q/{short_id}/": {
            "parameters": [{"$ref": "#/components/parameters/ShortId"}],
            "get": _op(
                "redirect",
                "Public redirect of a dynamic QR code (no auth; counts the scan)",
                {
                    "302": {
                        "description": "To the destination (Cache-Control: no-store)",
                        "headers": _headers("Location", required=("Location",)),
                    },
                    "200": {
                        "description": "The paused page",
                        "headers": _headers(),
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "404": {
                        "description": "Unknown or deleted",
                        "headers": _headers(),
                        "content": _json(_ref("DetailBody")),
                    },
                    **_errors(),
                },
                security=[],
            ),
        },
        "/api/health/": {
            "get": _op(
                "health",
                "Liveness, no dependencies",
                {
                    "200": {
                        "description": "Alive",
                        "headers": _headers(),
                        "content": _json(_ref("Health")),
                    },
                    **_errors(),
                },
                security=[],
            )
        },
        "/api/status/": {
            "get": _op(
                "status",
                "Readiness: probes the store",
                {
                    "200": {
                        "description": "Ready",
                        "headers": _headers(),
                        "content": _json(_ref("Status")),
                    },
                    "503": {
                        "description": "The store does not answer",
                        "headers": _headers("Retry-After"),
                        "content": _json(_ref("Status")),
                    },
                    **_errors(),
                },
                security=[],
            )
        },
        "/metrics": {
            "get": _op(
                "metrics",
                "Prometheus metrics of this process",
                {
                    "200": {
                        "description": "Text exposition format 0.0.4",
                        "headers": _headers(),
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(),
                },
                security=[],
            )
        },
        "/schema": {
            "get": _op(
                "openapi",
                "This document",
                {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "headers": _headers(),
                        "content": _json({"type": "object"}),
                    },
                    **_errors(),
                },
                security=[],
            )
        },
        "/docs": {
            "get": _op(
                "docs",
                "Interactive API reference (Swagger UI over this document; every file it "
                "loads is served by the service)",
                {
                    "200": {
                        "description": "An HTML page",
                        "headers": _headers(),
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **_errors(),
                },
                security=[],
            )
        },
        "/docs/assets/{name}": {
            "parameters": [{"$ref": "#/components/parameters/DocsAsset"}],
            "get": _op(
                "docsAsset",
                "A script, stylesheet or icon of the docs page",
                {
                    "200": {
                        "description": "The file (cached for a day)",
                        "headers": _headers(),
                        "content": {
                            "text/css": {"schema": {"type": "string"}},
                            "text/javascript": {"schema": {"type": "string"}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    **_errors(404),
                },
                security=[],
            ),
        },
        "/schema/openapi.json": {
            "get": _op(
                "openapiJson",
                "This document",
                {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "headers": _headers(),
                        "content": _json({"type": "object"}),
                    },
                    **_errors(),
                },
                security=[],
            )
        },
    }


@lru_cache(maxsize=1)
def openapi_dict() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "QR Studio render service",
            "version": "1",
            "description": "Bulk and single QR rendering, dynamic QR codes, usage. See "
            "the README for the contract and its limits.",
        },
        "paths": {**_paths(), **dashboard_paths(_op, _ok, _errors, _ref, _json, _KEY_OR_BEARER)},
        "components": {
            "schemas": _components(),
            "responses": {**_RESPONSES, **dashboard_responses(_error)},
            "parameters": {**_PARAMETERS, **DASHBOARD_PARAMETERS},
            "headers": _HEADERS,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "Bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The same API key as a bearer token, or a JWT of "
                    "the gateway's application when QRSTUDIO_JWT_* is "
                    "set (dynamic QR and dashboard routes)",
                },
            },
        },
    }


@lru_cache(maxsize=1)
def openapi_document() -> bytes:
    return msgspec.json.encode(openapi_dict())
