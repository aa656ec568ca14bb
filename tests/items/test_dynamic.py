"""A dynamic QR item's own rules (``items.dynamic``): the destination normalised for years of
Location headers, the short link the code encodes, and a new short id after a collision that
keeps the item's planned version and layout."""

from __future__ import annotations

import pytest

from service.items.dynamic import normalize_destination, public_url, with_new_short_id
from service.items.types import InvalidItem, ItemContext
from service.items.validation import validate_item
from service.limits.plans import PLANS
from service.limits.shortid import SHORT_ID_RE, slot_of


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("https://Example.com/ä?q=é#frag", "https://example.com/%C3%A4?q=%C3%A9#frag"),
        ("HTTP://bücher.example/straße", "http://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://user:pw@example.com:8443/x", "https://user:pw@example.com:8443/x"),
        ("http://[::1]:8080/p", "http://[::1]:8080/p"),
    ],
)
def test_destinations_are_normalised(given: str, normalised: str) -> None:
    assert normalize_destination(given) == normalised


@pytest.mark.parametrize(
    "refused",
    [
        "ftp://example.com/",
        "javascript:alert(1)",
        "https://",
        "https://exa mple.com/",
        "https://example.com/a b",
        "https://example.com/\r\nSet-Cookie: x",
        "https://example.com:99999/",
        "//example.com/x",
    ],
)
def test_other_destinations_are_refused_on_the_payload_field(refused: str) -> None:
    with pytest.raises(InvalidItem) as exc:
        normalize_destination(refused)
    assert exc.value.field == "payload"
    assert "payload.destination_url must be an http or https URL" in str(exc.value)


def test_a_dynamic_item_encodes_its_short_link_and_a_new_id_keeps_its_plan() -> None:
    ctx = ItemContext("acct-1", "https://qr.example.com/")
    body = (
        b'{"data_type": "dynamic", "payload": {"name": "Promo", '
        b'"destination_url": "https://example.com/promo"}, "size_inches": 2}'
    )
    item = validate_item(body, PLANS["agency"], ctx)
    assert item.code is not None and SHORT_ID_RE.fullmatch(item.code.short_id)
    assert item.job.content == public_url(ctx.public_base_url, item.code.short_id)
    assert item.job.content == f"https://qr.example.com/q/{item.code.short_id}/"
    assert item.code.destination_url == "https://example.com/promo"
    again = with_new_short_id(item, ctx)
    assert again.code is not None and again.code.short_id != item.code.short_id
    assert slot_of(again.code.short_id[:3]) == slot_of(item.code.short_id[:3])  # same slot
    assert again.job.content == public_url(ctx.public_base_url, again.code.short_id)
    assert (again.job.version, again.job.layout) == (item.job.version, item.job.layout)


def test_a_dynamic_item_needs_an_account() -> None:
    body = (
        b'{"data_type": "dynamic", "payload": {"name": "P", "destination_url": "https://e.x/"}, '
        b'"size_inches": 2}'
    )
    with pytest.raises(InvalidItem) as exc:
        validate_item(body, PLANS["agency"], None)
    assert exc.value.field == "data_type"
