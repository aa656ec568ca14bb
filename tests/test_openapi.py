"""/schema: a valid OpenAPI 3.1 document that describes every route, and that the product's own
requests (bulk-api.md's example, every payload type) and our real answers validate against."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import requests
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from service.app import create_app
from service.openapi import openapi_dict
from service.settings import load_settings
from tests.readers import check_image, open_zip
from tests.test_bulk import EVERY_TYPE

# bulk-api.md's request, verbatim
PRODUCT_EXAMPLE: dict[str, Any] = {
    "items": [
        {"data": "https://example.com/1", "size_inches": 3},
        {"data": "https://example.com/2", "size_inches": 3},
        {
            "data_type": "vcard",
            "payload": {"name": "Alice", "phone": "+15145550001"},
            "size_inches": 2,
        },
        {
            "data_type": "dynamic",
            "payload": {
                "name": "Promo card 003",
                "destination_url": "https://example.com/promo/003",
            },
            "size_inches": 4,
        },
    ]
}


def validator(component: str) -> OAS31Validator:
    doc = openapi_dict()
    return OAS31Validator(
        {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    )


def test_schema_route_serves_a_valid_openapi_31_document(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded")
    for path in ("/schema", "/schema/openapi.json"):
        r = requests.get(server.url + path, timeout=10)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        assert r.json() == openapi_dict()
    validate(r.json())


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path).rstrip("/") or "/"


def test_every_route_and_method_is_described() -> None:
    app = create_app(load_settings({}))
    served = {
        (_template(route.path), method)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }
    described = {
        (_template(path), method.upper())
        for path, item in openapi_dict()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == described


def test_every_operation_declares_its_responses_and_path_parameters() -> None:
    doc = openapi_dict()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            # on the path or on the operation (where Litestar's generator declares them)
            declared = {p["name"] for p in (*item.get("parameters", ()), *op["parameters"])}
            for name in re.findall(r"\{(\w+)\}", path):
                assert name in declared, (path, method)
            assert op["operationId"] and op["responses"], (path, method)
            for status, response in op["responses"].items():
                if "$ref" not in response and status not in ("204", "302"):
                    assert response.get("content"), (path, method, status)


def test_the_products_bulk_example_validates() -> None:
    validator("BulkRequestBody").validate(PRODUCT_EXAMPLE)


@pytest.mark.parametrize(
    "item",
    [item for item, _ in EVERY_TYPE] + PRODUCT_EXAMPLE["items"],
    ids=lambda item: str(item.get("data_type", "url")),
)
def test_each_payload_type_matches_exactly_one_item_variant(item: dict[str, Any]) -> None:
    validator("GenerateRequest").validate(item)  # oneOf: exactly one variant


@pytest.mark.parametrize(
    "item",
    [
        {"data_type": "vcard", "payload": {"phone": "+1"}, "size_inches": 2},  # no name
        {"data_type": "dynamic", "payload": {"name": "x"}, "size_inches": 2},
        {"data": "https://x.example", "size_inches": 16},
        {"data": "https://x.example", "size_inches": 2, "color": "rouge"},
        {"data": "https://x.example", "size_inches": 2, "background": "#12345"},
        {
            "data_type": "epc",
            "size_inches": 2,
            "error_correction": "H",
            "payload": {"name": "A", "iban": "BE72000000001616", "amount": 1},
        },
        {"size_inches": 2},  # a url without data
    ],
    ids=["vcard-no-name", "dynamic-no-url", "size", "color", "background", "epc-level", "no-data"],
)
def test_items_the_service_refuses_do_not_validate(item: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator("GenerateRequest").validate(item)


def test_a_real_bulk_answer_matches_the_manifest_schema(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded")
    _, key = server.account("starter")
    r = requests.post(
        server.url + "/api/v1/generate/bulk/",
        headers={"X-Api-Key": key},
        json={"items": PRODUCT_EXAMPLE["items"][2:]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    archive, manifest = open_zip(r.content)
    validator("Manifest").validate(manifest)
    vcard, dynamic = manifest["items"]
    check_image(
        "png",
        archive.read(vcard["filename"]),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Alice\r\nFN:Alice\r\nTEL:+15145550001\r\nEND:VCARD\r\n",
        2,
        300,
    )
    check_image("png", archive.read(dynamic["filename"]), dynamic["dynamic"]["public_url"], 4, 300)
