"""Stage 1: what a code carries. One builder per data type, in a table.

Scanner-standard strings, built with segno's helpers where they exist (vCard 3.0, MECARD,
WIFI:, mailto:, geo:, EPC) and by hand, escaped per each format's spec, where they do not
(SMSTO:, tel:, iCalendar VEVENT). A builder raises ``ContentError`` with a message for the
client; the validation stage turns it into that item's 422.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from segno import helpers

from ..schema import (
    EmailPayload,
    EpcPayload,
    EventPayload,
    GenerateRequest,
    GeoPayload,
    PhonePayload,
    SmsPayload,
    VCardPayload,
    WifiPayload,
    field_message,
    payload_decoders,
)

__all__ = ["ContentError", "build_content", "decode_payload"]

Content = str | bytes


class ContentError(ValueError):
    """The item's data or payload cannot become a code; the message is for the client."""


def decode_payload(item: GenerateRequest) -> msgspec.Struct | None:
    """Decode ``payload`` with the schema of the item's data_type (None for url and text)."""
    decoder = payload_decoders.get(item.data_type)
    if decoder is None:
        return None
    if item.payload is msgspec.UNSET or bytes(item.payload) == b"null":
        raise ContentError(f"payload is required for data_type '{item.data_type}'")
    try:
        return decoder.decode(item.payload)
    except msgspec.ValidationError as exc:
        raise ContentError(field_message(exc, "payload")) from None


def _text(item: GenerateRequest, _: Any) -> Content:
    if not item.data:
        raise ContentError(f"data is required for data_type '{item.data_type}'")
    return item.data


def _lf(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


def _vcard(_: GenerateRequest, p: VCardPayload) -> Content:
    emails = [e for e in [p.email, *(p.emails or [])] if e]
    phones = [t for t in [p.phone, *(p.phones or [])] if t]
    given, _sep, family = p.name.strip().rpartition(" ")  # vCard N is "family;given"
    structured = f"{family};{given}" if given else family
    data = helpers.make_vcard_data(
        structured,
        p.name.strip(),
        email=emails or None,
        phone=phones or None,
        url=p.url,
        org=_lf(p.org),
        title=_lf(p.title),
        street=_lf(p.address),
        memo=_lf(p.note),
    )
    # segno escapes ; , and \ but leaves line breaks inside values; vCard 3.0 writes them \n.
    return re.sub(r"(?<!\r)\n", r"\\n", data)


def _mecard(_: GenerateRequest, p: VCardPayload) -> Content:
    emails = [e for e in [p.email, *(p.emails or [])] if e]
    phones = [t for t in [p.phone, *(p.phones or [])] if t]
    memo = "\n".join(x for x in (p.org, p.title, p.note) if x) or None
    return helpers.make_mecard_data(
        p.name.strip(),
        email=emails or None,
        phone=phones or None,
        url=p.url,
        memo=memo,
        city=p.address,
    )


def _wifi(_: GenerateRequest, p: WifiPayload) -> Content:
    if p.security != "nopass" and not p.password:
        raise ContentError(f"payload.password is required for {p.security} networks")
    data = helpers.make_wifi_data(
        p.ssid, p.password if p.security != "nopass" else None, p.security, p.hidden
    )
    # segno ends a hidden network's string after "H:true;"; the format (ZXing's WIFI:) closes
    # every string with an empty field, ";;".
    return data + ";" if p.hidden else data


def _email(_: GenerateRequest, p: EmailPayload) -> Content:
    return helpers.make_make_email_data(p.to, cc=p.cc, bcc=p.bcc, subject=p.subject, body=p.body)


def _sms(_: GenerateRequest, p: SmsPayload) -> Content:
    number = _phone_number(p.number)
    return f"SMSTO:{number}:{p.message}" if p.message else f"SMSTO:{number}"


def _geo(_: GenerateRequest, p: GeoPayload) -> Content:
    return helpers.make_geo_data(p.lat, p.lng)


def _phone(_: GenerateRequest, p: PhonePayload) -> Content:
    return f"tel:{_phone_number(p.number)}"


def _phone_number(raw: str) -> str:
    number = "".join(ch for ch in raw if ch not in " ()-.\t")
    body = number.removeprefix("+")
    if not body or not body.isdigit() or len(body) > 20:
        raise ContentError(
            f"Invalid phone number '{raw}'. Use digits, optionally with a leading +."
        )
    return number


def _epc(item: GenerateRequest, p: EpcPayload) -> Content:
    if item.error_correction not in ("auto", "M"):
        raise ContentError(
            f"EPC codes use error correction M (EPC069-12); got '{item.error_correction}'"
        )
    try:
        return helpers._make_epc_qr_data(  # type: ignore[attr-defined]
            p.name, p.iban.replace(" ", ""), p.amount, text=p.text, reference=p.reference, bic=p.bic
        )
    except ValueError as exc:
        raise ContentError(f"payload: {exc}") from None


def _ical_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _ical_time(field: str, value: str) -> str:
    try:
        if len(value) == 10:
            return date.fromisoformat(value).strftime("%Y%m%d")
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ContentError(
            f"payload.{field}: '{value}' is not an ISO 8601 date or date-time"
        ) from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return moment.strftime("%Y%m%dT%H%M%S")


def _event(_: GenerateRequest, p: EventPayload) -> Content:
    lines = [
        "BEGIN:VEVENT",
        f"SUMMARY:{_ical_text(p.summary)}",
        f"DTSTART:{_ical_time('start', p.start)}",
    ]
    if p.end:
        lines.append(f"DTEND:{_ical_time('end', p.end)}")
    if p.location:
        lines.append(f"LOCATION:{_ical_text(p.location)}")
    if p.description:
        lines.append(f"DESCRIPTION:{_ical_text(p.description)}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


BUILDERS: dict[str, Callable[[GenerateRequest, Any], Content]] = {
    "url": _text,
    "text": _text,
    "vcard": _vcard,
    "mecard": _mecard,
    "wifi": _wifi,
    "email": _email,
    "sms": _sms,
    "geo": _geo,
    "phone": _phone,
    "epc": _epc,
    "event": _event,
}


def build_content(item: GenerateRequest) -> Content:
    """The exact string (or bytes, for EPC) the code must carry."""
    payload = decode_payload(item)  # None for url and text, which carry ``data``
    try:
        return BUILDERS[item.data_type](item, payload)
    except ContentError:
        raise
    except ValueError as exc:  # segno's helpers validate too
        raise ContentError(f"payload: {exc}") from None
