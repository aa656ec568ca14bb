"""msgspec Structs: the single source of the request, payload, manifest and error schemas.

Field names, defaults and ranges are CONTRACT section 2's. Decoders are built once here. The
bulk body decodes to a list of raw item slices, so that every item is then decoded on its own
and every failing index can be reported (msgspec stops at the first error of a document).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "PAYLOADS",
    "UNLIMITED",
    "BulkRequest",
    "BulkRequestBody",
    "CodeCreate",
    "CodeUpdate",
    "DataType",
    "DetailBody",
    "DynamicPayload",
    "EmailPayload",
    "EpcPayload",
    "EventPayload",
    "GenerateRequest",
    "GeoPayload",
    "ItemErrorsBody",
    "ItemsErrorBody",
    "Manifest",
    "ManifestDynamic",
    "ManifestItem",
    "PhonePayload",
    "SmsPayload",
    "VCardPayload",
    "WifiPayload",
    "bulk_decoder",
    "field_message",
    "item_decoder",
]

# Reusable constrained types.
Str40 = Annotated[str, Meta(max_length=40)]
Str120 = Annotated[str, Meta(max_length=120)]
DynamicName = Annotated[str, Meta(min_length=1, max_length=120)]
Str256 = Annotated[str, Meta(max_length=256)]
Str2000 = Annotated[str, Meta(max_length=2000)]
Str2048 = Annotated[str, Meta(max_length=2048)]
Color = Annotated[str, Meta(max_length=16)]
StrList = Annotated[list[Str256], Meta(max_length=8)]

DataType = Literal[
    "url",
    "text",
    "vcard",
    "wifi",
    "email",
    "sms",
    "geo",
    "dynamic",
    "mecard",
    "phone",
    "epc",
    "event",
]
Pattern = Literal[
    "rounded",
    "squares",
    "dot",
    "diamond",
    "liquid",
    "connected-h",
    "connected-v",
    "hexagon",
    "star",
    "halftone",
    "frame",
]
EyeShape = Literal["square", "rounded", "circle", "frame"]
EyeBorderShape = Literal[
    "square", "rounded", "circle", "leaf-tl", "leaf-tr", "leaf-br", "leaf-bl", "frame"
]
EyeCenterShape = Literal[
    "square", "rounded", "circle", "leaf-tl", "sunburst", "star", "diamond", "cross"
]
FrameStyle = Literal["none", "box", "banner-bottom", "banner-top", "rounded"]
ErrorCorrection = Literal["L", "M", "Q", "H", "auto"]
ImageFormat = Literal["png", "svg"]


class GenerateRequest(msgspec.Struct, kw_only=True):
    """One item: the body of POST /generate/ and each entry of a bulk ``items`` list."""

    # What to encode
    data: Str2048 | None = None
    data_type: DataType = "url"
    payload: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # decoded by data_type: PAYLOADS
    # Output and dimensions
    format: ImageFormat = "png"
    size_inches: Annotated[float, Meta(ge=0.5, le=15)]
    dpi: Annotated[int, Meta(ge=72, le=600)] = 300
    error_correction: ErrorCorrection = "auto"
    quiet_zone: Annotated[int, Meta(ge=0, le=16)] = 4
    # Style
    color: Color = "black"
    background: Color = "transparent"
    pattern: Pattern = "rounded"
    gradient_from: Color | None = None
    gradient_to: Color | None = None
    eye_shape: EyeShape = "square"
    eye_color: Color | None = None
    eye_border_shape: EyeBorderShape | None = None
    eye_center_shape: EyeCenterShape | None = None
    eye_border_color: Color | None = None
    eye_center_color: Color | None = None
    eye_outer_frame: bool = False
    eye_outer_frame_match: bool = False
    frame_style: FrameStyle = "none"
    frame_color: Color | None = None
    frame_label: Str40 | None = None
    logo_url: Str2048 | None = None
    logo_size_ratio: Annotated[float, Meta(ge=0.05, le=0.30)] = 0.24
    logo_clear_zone: bool = True
    bg_image_url: Str2048 | None = None


class VCardPayload(msgspec.Struct, kw_only=True):
    name: Str256
    org: Str256 | None = None
    title: Str256 | None = None
    phone: Str256 | None = None
    phones: StrList | None = None
    email: Str256 | None = None
    emails: StrList | None = None
    url: Str2048 | None = None
    address: Str256 | None = None
    note: Str2048 | None = None


class WifiPayload(msgspec.Struct, kw_only=True):
    ssid: Str256
    password: Str256 | None = None
    security: Literal["WPA", "WEP", "nopass"] = "WPA"
    hidden: bool = False


class EmailPayload(msgspec.Struct, kw_only=True):
    to: Str256
    subject: Str256 | None = None
    body: Str2048 | None = None
    cc: Str256 | None = None
    bcc: Str256 | None = None


class SmsPayload(msgspec.Struct, kw_only=True):
    number: Str256
    message: Str2048 | None = None


class GeoPayload(msgspec.Struct, kw_only=True):
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lng: Annotated[float, Meta(ge=-180, le=180)]


# The destination's pattern is the document's only: dynamic.py normalises the URL and answers
# a bad one in the product's words.
Destination = Annotated[
    str,
    Meta(
        max_length=2000,
        description="An http or https URL",
        extra_json_schema={
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,4})?(/[!-~]*)?$"
        },
    ),
]


class DynamicPayload(msgspec.Struct, kw_only=True):
    name: DynamicName
    destination_url: Destination


class PhonePayload(msgspec.Struct, kw_only=True):
    number: Str256


class EpcPayload(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=70)]
    iban: Annotated[str, Meta(min_length=5, max_length=34)]
    amount: Annotated[float, Meta(ge=0.01, le=999_999_999.99)]
    bic: Annotated[str, Meta(max_length=11)] | None = None
    text: Annotated[str, Meta(max_length=140)] | None = None
    reference: Annotated[str, Meta(max_length=35)] | None = None


class EventPayload(msgspec.Struct, kw_only=True):
    summary: Str256
    start: Annotated[str, Meta(max_length=40)]  # ISO 8601 date or date-time
    end: Annotated[str, Meta(max_length=40)] | None = None
    location: Str256 | None = None
    description: Str2048 | None = None


# data_type -> payload schema (url and text carry ``data`` instead).
PAYLOADS: dict[str, type[msgspec.Struct]] = {
    "vcard": VCardPayload,
    "mecard": VCardPayload,
    "wifi": WifiPayload,
    "email": EmailPayload,
    "sms": SmsPayload,
    "geo": GeoPayload,
    "dynamic": DynamicPayload,
    "phone": PhonePayload,
    "epc": EpcPayload,
    "event": EventPayload,
}
payload_decoders = {t: msgspec.json.Decoder(s) for t, s in PAYLOADS.items()}


class BulkRequest(msgspec.Struct):
    items: list[msgspec.Raw]


# The document's view of the body ``BulkRequest`` decodes (each item is then decoded on its own)
class BulkRequestBody(msgspec.Struct):
    """POST /api/v1/generate/bulk/: 1 to the plan's cap (at most 5 000) items."""

    items: Annotated[list[GenerateRequest], Meta(min_length=1, max_length=5000)]


# -- dynamic codes: POST and PATCH /api/v1/dynamic/ (decoded by dynamic.py, documented as is)
class CodeCreate(msgspec.Struct, kw_only=True):
    """POST /api/v1/dynamic/: a dynamic code without a render."""

    name: DynamicName
    destination_url: Destination


class CodeUpdate(msgspec.Struct, kw_only=True):
    """PATCH /api/v1/dynamic/{short_id}/: the fields to change."""

    name: DynamicName | None = None
    destination_url: Destination | None = None
    is_active: bool | None = None


# -- responses ----------------------------------------------------------------------------
class ManifestDynamic(msgspec.Struct):
    short_id: str
    public_url: str


class ManifestItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    filename: str
    data_type: str
    format: str
    size_inches: int | float
    dpi: int
    bytes: int
    cache: Literal["HIT", "MISS"]
    duration_ms: int
    has_logo: bool
    dynamic: ManifestDynamic | None = None  # only on dynamic items
    # [ext] fields a client may ignore
    sha256: str
    error_correction: str
    version: int
    pixels: int
    inverted: bool
    # read back to its exact content before it was written (always true: nothing else ships)
    verified: bool
    # only when set: what was changed so that it reads ("mask 5", "solid modules"), and what
    # is worth telling although it reads (low contrast)
    repaired: str | None = None
    warnings: list[str] = []


class Manifest(msgspec.Struct):
    count: int
    plan: str
    items: list[ManifestItem]


UNLIMITED = 2_147_483_647  # a cap the plan does not have, as an integer (int32's maximum)


class DetailBody(msgspec.Struct):
    detail: str


class ItemsErrorBody(msgspec.Struct):
    items: str


class ItemErrorsBody(msgspec.Struct):
    errors: dict[str, str]
    rendered_before_failure: int


bulk_decoder = msgspec.json.Decoder(BulkRequest)
item_decoder = msgspec.json.Decoder(GenerateRequest)


def field_message(exc: msgspec.ValidationError, prefix: str = "") -> str:
    """msgspec's ``Expected ... - at `$.a.b``` as ``a.b: Expected ...``."""
    text = str(exc)
    message, sep, path = text.rpartition(" - at `")
    if not sep:
        return f"{prefix}: {text}" if prefix else text
    field = path.rstrip("`").removeprefix("$").lstrip(".")
    field = ".".join(p for p in (prefix, field) if p)
    return f"{field}: {message}" if field else message
