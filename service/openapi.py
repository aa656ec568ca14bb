"""The OpenAPI document, built from the msgspec Structs (the single schema source) so every
field shows its type, limits and default exactly as the decoder enforces them."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from .schema import (PAYLOADS, DetailBody, GenerateRequest, ItemErrorsBody, ItemsErrorBody,
                     Manifest)

__all__ = ["openapi_document"]


class BulkRequestBody(msgspec.Struct):
    """POST /api/v1/generate/bulk/: 1 to the plan's cap (at most 5 000) GenerateRequest items."""

    items: Annotated[list[GenerateRequest], Meta(min_length=1, max_length=5000)]


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _errors(*codes: str) -> dict[str, Any]:
    texts = {"400": ("Malformed body, too many or no items, or the 100 MB ceiling",
                     "DetailBody"),
             "401": ("Missing or invalid X-Api-Key", "DetailBody"),
             "403": ("Plan does not include this", "DetailBody"),
             "413": ("Body over the published limit", "DetailBody"),
             "422": ("Per-item failures; nothing rendered or charged", "ItemErrorsBody"),
             "429": ("Monthly quota (plans without overage) or too many batches at once",
                     "DetailBody"),
             "503": ("Overloaded or store unavailable; nothing charged", "DetailBody")}
    return {c: {"description": texts[c][0], "content": _json(texts[c][1])} for c in codes}


@lru_cache(maxsize=1)
def openapi_document() -> bytes:
    payload_types = list(dict.fromkeys(PAYLOADS.values()))
    (_, *_), components = msgspec.json.schema_components(
        [BulkRequestBody, GenerateRequest, Manifest, DetailBody, ItemErrorsBody, ItemsErrorBody,
         *payload_types], ref_template="#/components/schemas/{name}")
    payload = components["GenerateRequest"]["properties"]["payload"]
    payload.update({"description": "Required for every data_type but url and text; its "
                    "schema depends on data_type (vcard and mecard: VCardPayload, wifi: "
                    "WifiPayload, ...).",
                    "oneOf": [{"$ref": f"#/components/schemas/{t.__name__}"}
                              for t in payload_types]})
    key = [{"ApiKey": []}]
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "QR Studio render service", "version": "1",
                 "description": "Bulk QR rendering streamed as a ZIP. See the README."},
        "components": {"schemas": components, "securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
        "paths": {
            "/api/v1/generate/bulk/": {"post": {
                "summary": "Render up to 5 000 QR codes, streamed back as a ZIP",
                "security": key,
                "requestBody": {"required": True, "content": _json("BulkRequestBody")},
                "responses": {
                    "200": {"description": "ZIP: qr-0001.png ... in request order, then "
                            "manifest.json (stored). Headers X-QR-Plan, X-QR-Quota-Remaining, "
                            "X-Request-Id.",
                            "content": {"application/zip": {"schema": {
                                "type": "string", "format": "binary"}}}},
                    **_errors("400", "401", "403", "413", "422", "429", "503"),
                    "400": {"description": "Malformed body, item count or ZIP ceiling",
                            "content": {"application/json": {"schema": {"oneOf": [
                                {"$ref": "#/components/schemas/DetailBody"},
                                {"$ref": "#/components/schemas/ItemsErrorBody"}]}}}},
                }}},
            "/api/health/": {"get": {"summary": "Liveness, no dependencies",
                                     "responses": {"200": {"description": "ok"}}}},
            "/api/status/": {"get": {"summary": "Readiness: probes the store",
                                     "responses": {"200": {"description": "ok"},
                                                   "503": {"description": "degraded"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics of this process",
                                 "responses": {"200": {"description": "text exposition"}}}},
        },
    }
    return msgspec.json.encode(doc)
