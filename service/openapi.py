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
            "/api/v1/generate/": {"post": {
                "summary": "Render one QR code (JSON, or the same fields as multipart/form-data)",
                "security": key,
                "requestBody": {"required": True, "content": {
                    **_json("GenerateRequest"),
                    "multipart/form-data": {"schema": {"$ref":
                                                       "#/components/schemas/GenerateRequest"}}}},
                "responses": {
                    "200": {"description": "The image. Headers X-QR-Cache, X-QR-Duration-Ms, "
                            "X-QR-Plan, X-QR-Quota-Remaining, X-Request-Id; X-QR-Short-Id and "
                            "X-QR-Public-Url for a dynamic code.",
                            "content": {"image/png": {"schema": {"type": "string",
                                                                 "format": "binary"}},
                                        "image/svg+xml": {"schema": {"type": "string"}}}},
                    "400": {"description": "Per-field errors: {\"<field>\": [\"<message>\"]}"},
                    **_errors("401", "403", "413", "429", "503")}}},
            "/api/v1/validate/": {"post": {
                "summary": "Dry run of a GenerateRequest or a bulk body: the same errors as the "
                           "real call, nothing charged, created or rendered",
                "security": key,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "oneOf": [{"$ref": "#/components/schemas/GenerateRequest"},
                              {"$ref": "#/components/schemas/BulkRequestBody"}]}}}},
                "responses": {"200": {"description": "{valid, kind, count, credits, dynamic, "
                                                     "quota_remaining_after}"},
                              **_errors("401", "403", "413", "422", "429")}}},
            "/api/v1/usage/": {"get": {
                "summary": "Plan, limits and usage this month", "security": key,
                "responses": {"200": {"description": "key_prefix, plan, monthly_quota, "
                                      "used_this_month, remaining, max_size_inches, max_dpi, "
                                      "allow_custom_logo, max_active_dynamic_qrs, "
                                      "max_bulk_items, active_dynamic_qrs, credits_remaining"},
                              **_errors("401")}}},
            "/api/v1/dynamic/": {
                "get": {"summary": "The account's dynamic QR codes (page, page_size <= 100)",
                        "security": key, "responses": {"200": {
                            "description": "{count, next, previous, results}"}}},
                "post": {"summary": "Create a dynamic QR code without a render",
                         "security": key,
                         "requestBody": {"content": {"application/json": {"schema": {
                             "type": "object", "required": ["name", "destination_url"],
                             "properties": {"name": {"type": "string", "maxLength": 120},
                                            "destination_url": {"type": "string",
                                                                "maxLength": 2000}}}}}},
                         "responses": {"201": {"description": "The code object"},
                                       **_errors("401", "403")}}},
            "/api/v1/dynamic/{short_id}/": {
                "get": {"summary": "One code", "security": key,
                        "responses": {"200": {"description": "The code object"},
                                      "404": {"description": "Not this account's"}}},
                "patch": {"summary": "Change name, destination_url or is_active",
                          "security": key,
                          "responses": {"200": {"description": "The code object"},
                                        "402": {"description": "Free plan: second "
                                                               "destination edit"},
                                        **_errors("403")}},
                "delete": {"summary": "Delete; the redirect stops", "security": key,
                           "responses": {"204": {"description": "Deleted"}}}},
            "/api/v1/dynamic/{short_id}/analytics/": {"get": {
                "summary": "Scans: total, by day, by user-agent family, by referrer, recent",
                "security": key, "responses": {"200": {"description": "Analytics"}}}},
            "/q/{short_id}/": {"get": {
                "summary": "Public redirect of a dynamic QR code (no auth)",
                "responses": {"302": {"description": "To the destination"},
                              "200": {"description": "The paused page"},
                              "404": {"description": "Unknown or deleted"}}}},
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
