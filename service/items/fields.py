"""One item's fields, each checked on its own, in the product's words (issue 17, points 1-2).

msgspec stops at a document's first error; a client migrating from the product expects every
failing field at once, each a list of DRF-style messages (``This field is required.``,
``Ensure this value is less than or equal to 15.``). So the item is read field by field,
driven by the Structs in ``schema.py`` (their types and ``Meta`` limits are the one schema),
and numbers and booleans sent as strings or whole floats are accepted as the product's
serializers accept them. Only what a field can say about itself is checked here (types, limits,
choices, colours, a required ``data`` or ``payload``); rules across fields and the plan stay in
``validation.py``, which runs after this and reports its first failure.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

import msgspec
from msgspec import inspect as mi

from ..render.color import parse_background, parse_color
from ..schema import PAYLOADS, GenerateRequest, item_decoder, payload_decoders

__all__ = [
    "INK_FIELDS",
    "FieldProblems",
    "check_fields",
    "coerce_struct",
    "first_message",
    "read_item",
]

Problems = dict[str, list[str]]

# The product's boolean spellings (Django REST framework's BooleanField).
_TRUE = {"t", "y", "yes", "true", "on", "1"}
_FALSE = {"f", "n", "no", "false", "off", "0"}
_INT_TEXT = re.compile(r"\s*[+-]?[0-9]{1,30}(\.0*)?\s*")  # DRF: "300", "300.0", " 300 "
_FLOAT_TEXT = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*")
# the inks (a hex colour each); with the background, the colour fields
INK_FIELDS = (
    "color",
    "gradient_from",
    "gradient_to",
    "eye_color",
    "eye_border_color",
    "eye_center_color",
    "frame_color",
)
_COLOURS = {"background", *INK_FIELDS}
_NEEDS_DATA = ("url", "text")


class FieldProblems(ValueError):
    """Every failing field of one item: ``{field: [message, ...]}`` in schema order."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(first_message(problems))
        self.problems = problems


def first_message(problems: Problems) -> str:
    """One line for a bulk item (the contract's 422 keeps one message per item)."""
    field, messages = next(iter(problems.items()))
    if field == "non_field_errors" or field in _COLOURS:  # the colour's is the product's, verbatim
        return messages[0]
    sep = "." if field == "payload" and re.match(r"\w+: ", messages[0]) else ": "
    return f"{field}{sep}{messages[0]}"


class _Bad(Exception):
    pass


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(value: float, t: mi.FloatType | mi.IntType) -> None:
    if t.ge is not None and value < t.ge:
        raise _Bad(f"Ensure this value is greater than or equal to {_number(t.ge)}.")
    if t.le is not None and value > t.le:
        raise _Bad(f"Ensure this value is less than or equal to {_number(t.le)}.")


def _float(value: Any, t: mi.FloatType) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Bad("A valid number is required.")
    if isinstance(value, str):
        if len(value) > 100 or not _FLOAT_TEXT.fullmatch(value):
            raise _Bad("A valid number is required.")
        value = float(value)
    number = float(value)
    if not math.isfinite(number):
        raise _Bad("A valid number is required.")
    _bounds(number, t)
    return number


def _int(value: Any, t: mi.IntType) -> int:
    if isinstance(value, bool):
        raise _Bad("A valid integer is required.")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Bad("A valid integer is required.")
        value = int(value)
    elif isinstance(value, str):
        if not _INT_TEXT.fullmatch(value):
            raise _Bad("A valid integer is required.")
        value = int(value.strip().split(".")[0])
    elif not isinstance(value, int):
        raise _Bad("A valid integer is required.")
    _bounds(value, t)
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Bad("Must be a valid boolean.")


def _str(value: Any, t: mi.StrType, colour: str | None) -> str:
    if not isinstance(value, str):
        raise _Bad("Not a valid string.")
    if colour is not None:  # the contract's own message, whatever the length
        try:
            parse_background(value) if colour == "background" else parse_color(value)
        except ValueError as exc:
            raise _Bad(str(exc)) from None
        return value
    if t.min_length and len(value) < t.min_length:
        raise _Bad("This field may not be blank.")
    if t.max_length is not None and len(value) > t.max_length:
        raise _Bad(f"Ensure this field has no more than {t.max_length} characters.")
    return value


def _value(value: Any, t: mi.Type, colour: str | None = None) -> Any:
    """``value`` as type ``t``, or ``_Bad`` with the product's message."""
    if isinstance(t, mi.Metadata):  # a description or a document-only keyword: the type within
        return _value(value, t.type, colour)
    if isinstance(t, mi.UnionType):
        if value is None and any(isinstance(m, mi.NoneType) for m in t.types):
            return None
        inner = [m for m in t.types if not isinstance(m, mi.NoneType)]
        return _value(value, inner[0], colour)
    if value is None:
        raise _Bad("This field may not be null.")
    if isinstance(t, mi.FloatType):
        return _float(value, t)
    if isinstance(t, mi.IntType):
        return _int(value, t)
    if isinstance(t, mi.BoolType):
        return _bool(value)
    if isinstance(t, mi.StrType):
        return _str(value, t, colour)
    if isinstance(t, mi.LiteralType):
        if value not in t.values:
            raise _Bad(f'"{str(value)[:80]}" is not a valid choice.')
        return value
    if isinstance(t, mi.ListType):
        if not isinstance(value, list):
            raise _Bad(f'Expected a list of items but got type "{type(value).__name__}".')
        if t.max_length is not None and len(value) > t.max_length:
            raise _Bad(f"Ensure this field has no more than {t.max_length} elements.")
        return [_value(v, t.item_type) for v in value]
    if isinstance(t, mi.RawType):  # payload: an object (a JSON string in a form)
        return value
    raise TypeError(f"fields.py cannot read a {type(t).__name__} yet")  # a schema addition


@cache
def _fields(struct: type[msgspec.Struct]) -> tuple[mi.Field, ...]:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return info.fields


def coerce_struct(
    obj: Any, struct: type[msgspec.Struct], colours: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], Problems]:
    """The fields of ``struct`` read from the object ``obj``: (clean values, problems).
    Unknown fields are ignored, as the product does."""
    if not isinstance(obj, dict):
        kind = "list" if isinstance(obj, list) else type(obj).__name__
        return {}, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
    clean: dict[str, Any] = {}
    problems: Problems = {}
    for field in _fields(struct):
        if field.encode_name not in obj:
            if field.required:
                problems[field.encode_name] = ["This field is required."]
            continue
        colour = field.name if field.name in colours else None
        try:
            clean[field.name] = _value(obj[field.encode_name], field.type, colour)
        except _Bad as exc:
            problems[field.encode_name] = [str(exc)]
    return clean, problems


def _payload(value: Any, data_type: str) -> tuple[Any, list[str]]:
    """The payload for ``data_type``, coerced like the item; messages name the sub-field."""
    if isinstance(value, str):  # a form field carries it as JSON text
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError:
            return None, ["Value must be valid JSON."]
    clean, problems = coerce_struct(value, PAYLOADS[data_type])
    return clean, [
        m if f == "non_field_errors" else f"{f}: {m}" for f, ms in problems.items() for m in ms
    ]


def check_fields(obj: Any) -> GenerateRequest:
    """One item (a decoded JSON object or form fields) as a GenerateRequest, or
    ``FieldProblems`` with every failing field."""
    clean, problems = coerce_struct(obj, GenerateRequest, frozenset(_COLOURS))
    if "non_field_errors" in problems:
        raise FieldProblems(problems)
    data_type = clean.get("data_type", "url") if "data_type" not in problems else None
    if data_type in _NEEDS_DATA and not clean.get("data") and "data" not in problems:
        problems["data"] = ["This field is required."]
    if data_type in PAYLOADS and "payload" not in problems:
        if clean.get("payload") is None:
            problems["payload"] = ["This field is required."]
        else:
            payload, messages = _payload(clean["payload"], data_type)
            if messages:
                problems["payload"] = messages
            else:
                clean["payload"] = msgspec.Raw(msgspec.json.encode(payload))
    elif "payload" in clean:
        clean.pop("payload")  # url and text ignore it
    if problems:
        order = [f.encode_name for f in _fields(GenerateRequest)]
        raise FieldProblems(
            dict(
                sorted(
                    problems.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else -1
                )
            )
        )
    return msgspec.convert(clean, GenerateRequest)


def read_item(raw: bytes | msgspec.Raw) -> GenerateRequest:
    """One item's JSON: the strict decoder when it accepts the item and there is nothing left
    to say about it (the common case in a 5 000-item batch), else field by field. Raises
    ``FieldProblems``, or msgspec.DecodeError for malformed JSON."""
    try:
        item = item_decoder.decode(raw)
    except msgspec.ValidationError:
        return check_fields(msgspec.json.decode(raw))
    if item.data_type in _NEEDS_DATA and not item.data:
        return check_fields(msgspec.json.decode(raw))  # the product's message for data
    if item.data_type in PAYLOADS:
        try:  # the payload as its type's strict decoder reads it (content.py decodes it again)
            if (
                item.payload is msgspec.UNSET
                or payload_decoders[item.data_type].decode(item.payload) is None
            ):
                raise msgspec.ValidationError("missing")
        except msgspec.ValidationError:
            return check_fields(msgspec.json.decode(raw))  # coerced, or every problem
    return item
