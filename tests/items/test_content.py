"""Scanner-standard strings, byte for byte (the end-to-end tests decode them from images)."""

from __future__ import annotations

import msgspec
import pytest

from service.items.content import ContentError, build_content
from service.schema import GenerateRequest


def item(data_type: str, payload: dict[str, object] | None = None, **kw: object) -> GenerateRequest:
    raw = msgspec.Raw(msgspec.json.encode(payload)) if payload is not None else msgspec.UNSET
    return GenerateRequest(data_type=data_type, payload=raw, size_inches=2, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data_type,payload,expected",
    [
        (
            "vcard",
            {"name": "Ana Maria Silva", "phones": ["+1 555", "+2 666"], "note": "a;b\nc"},
            "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Silva;Ana Maria\r\nFN:Ana Maria Silva\r\n"
            "TEL:+1 555\r\nTEL:+2 666\r\nNOTE:a\\;b\\nc\r\nEND:VCARD\r\n",
        ),
        (
            "wifi",
            {"ssid": 'a"b', "password": "p;w", "security": "WEP"},
            'WIFI:T:WEP;S:a\\"b;P:p\\;w;;',
        ),
        (
            "wifi",
            {"ssid": "Hidden", "password": "x", "hidden": True},
            "WIFI:T:WPA;S:Hidden;P:x;H:true;;",
        ),
        ("email", {"to": "a@b.co"}, "mailto:a@b.co"),
        ("sms", {"number": "(514) 555-0001"}, "SMSTO:5145550001"),
        ("phone", {"number": "+44 20 7946 0958"}, "tel:+442079460958"),
        ("geo", {"lat": -33.8688, "lng": 151.2093}, "geo:-33.8688,151.2093"),
        (
            "event",
            {"summary": "All day", "start": "2027-01-02"},
            "BEGIN:VEVENT\r\nSUMMARY:All day\r\nDTSTART:20270102\r\nEND:VEVENT",
        ),
        (
            "event",
            {"summary": "Floating", "start": "2027-01-02T09:30:00", "description": "Bring a;b,c"},
            "BEGIN:VEVENT\r\nSUMMARY:Floating\r\nDTSTART:20270102T093000\r\n"
            "DESCRIPTION:Bring a\\;b\\,c\r\nEND:VEVENT",
        ),
    ],
)
def test_payload_strings(data_type: str, payload: dict[str, object], expected: str) -> None:
    assert build_content(item(data_type, payload)) == expected


@pytest.mark.parametrize(
    "data_type,payload,message",
    [
        ("wifi", {"ssid": "x"}, "payload.password is required for WPA networks"),
        ("sms", {"number": "call me"}, "Invalid phone number 'call me'"),
        ("geo", {"lat": 91, "lng": 0}, "payload.lat: Expected `float` <= 90.0"),
        ("event", {"summary": "x", "start": "tomorrow"}, "payload.start: 'tomorrow' is not an ISO"),
        ("epc", {"name": "X", "iban": "BE72000000001616", "amount": 1}, "payload: Either a text"),
        ("vcard", None, "payload is required for data_type 'vcard'"),
    ],
)
def test_payload_errors_are_client_messages(data_type, payload, message) -> None:
    with pytest.raises(ContentError) as err:
        build_content(item(data_type, payload))
    assert str(err.value).startswith(message)


def test_epc_insists_on_level_m() -> None:
    p = {"name": "X", "iban": "BE72000000001616", "amount": 1, "text": "t"}
    assert build_content(item("epc", p, error_correction="M")).startswith(b"BCD\n002\n")
    with pytest.raises(ContentError, match="EPC codes use error correction M"):
        build_content(item("epc", p, error_correction="H"))
