"""The item as the OpenAPI document shows it (``openapi._finish``): one variant per
``data_type``, each with its own payload schema, because the payloads overlap (a dynamic payload
is also a valid vCard payload) and only the data type tells them apart; and the same fields as
form fields (urlencoded) and as multipart fields with uploads. Derived from msgspec's schema of
``GenerateRequest``; what the Struct cannot say (colour spellings, EPC's level, descriptions of
rules enforced in code) is added here."""

from __future__ import annotations

import copy
from typing import Any

from .items.fields import INK_FIELDS
from .schema import PAYLOADS

__all__ = ["ITEM_FORMS", "items", "not_null"]

Json = dict[str, Any]
_REF = "#/components/schemas/{name}"
_COLOR = "^([Bb][Ll][Aa][Cc][Kk]|[Ww][Hh][Ii][Tt][Ee]|#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?)$"
_BACKGROUND = (
    "^([Tt][Rr][Aa][Nn][Ss][Pp][Aa][Rr][Ee][Nn][Tt]|[Bb][Ll][Aa][Cc][Kk]|"
    "[Ww][Hh][Ii][Tt][Ee]|#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?)$"
)
_UPLOAD_TYPES = "image/png, image/jpeg, image/webp, image/gif"
ITEM_FORMS: Json = {
    "multipart/form-data": {
        "schema": {"$ref": _REF.format(name="GenerateForm")},
        "encoding": {
            "payload": {"contentType": "application/json"},
            "logo_file": {"contentType": _UPLOAD_TYPES},
            "bg_image_file": {"contentType": _UPLOAD_TYPES},
        },
    },
    "application/x-www-form-urlencoded": {"schema": {"$ref": _REF.format(name="GenerateFields")}},
}


def _strings(schema: Json, **keywords: Any) -> None:
    """Add ``keywords`` to every string alternative of ``schema`` (colour spellings)."""
    if schema.get("type") == "string":
        schema.update(keywords)
    for alternative in schema.get("anyOf", ()):
        _strings(alternative, **keywords)


def not_null(schema: Json) -> Json:
    """A form field or a parameter is absent rather than null: the non-null alternative of
    ``schema``."""
    for union in ("anyOf", "oneOf"):  # msgspec writes anyOf, Litestar oneOf
        options = [s for s in schema.get(union, ()) if s.get("type") != "null"]
        if len(options) == 1:
            rest = {k: v for k, v in schema.items() if k != union}
            if rest.get("default", 0) is None:
                del rest["default"]
            return {**options[0], **rest}
    return schema


def items(components: Json) -> None:
    """GenerateRequest as one variant per data type (``schema.PAYLOADS``), and as form fields
    (GenerateFields) and multipart fields with uploads (GenerateForm)."""
    base = components.pop("GenerateRequest")
    fields = base["properties"]
    for name in INK_FIELDS:
        _strings(fields[name], pattern=_COLOR)
    _strings(fields["background"], pattern=_BACKGROUND)
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
        name = f"{data_type.capitalize()}Item"
        variants[name] = variant(
            name,
            f"data_type {data_type}: the code carries `payload` ({payload.__name__}).",
            {
                "data_type": {"const": data_type},
                "payload": {"$ref": _REF.format(name=payload.__name__)},
            },
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
        "oneOf": [{"$ref": _REF.format(name=n)} for n in variants],
    }
    # the same fields as form fields (single render and dry run): payload as JSON text
    form = {k: not_null(v) for k, v in fields.items()}
    form["payload"] = {
        "description": "The payload of data_type as a JSON object (a form field of JSON text)",
        "anyOf": [{"$ref": _REF.format(name=t.__name__)} for t in dict.fromkeys(PAYLOADS.values())],
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
