"""service/items/fields.py: what each field accepts and the product's words for what it refuses
(issue 17, points 1 and 2), without a server."""

from __future__ import annotations

import msgspec
import pytest

from service.items.fields import FieldProblems, check_fields, first_message, read_item

BASE = {"data": "https://example.com/f", "size_inches": 2}


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("size_inches", "3", 3.0),
        ("size_inches", 3, 3.0),
        ("size_inches", " 1.5 ", 1.5),
        ("size_inches", "1e0", 1.0),
        ("dpi", "300", 300),
        ("dpi", 300.0, 300),
        ("dpi", "300.0", 300),
        ("dpi", "+150", 150),
        ("quiet_zone", "0", 0),
        ("eye_outer_frame", "true", True),
        ("eye_outer_frame", "True", True),
        ("eye_outer_frame", "yes", True),
        ("eye_outer_frame", "on", True),
        ("eye_outer_frame", 1, True),
        ("logo_clear_zone", "0", False),
        ("logo_clear_zone", "off", False),
        ("logo_clear_zone", "false", False),
    ],
)
def test_accepted_as_the_product_accepts(field: str, value: object, expected: object) -> None:
    item = check_fields({**BASE, field: value})
    got = getattr(item, field)
    assert got == expected and type(got) is type(expected)
    # the bulk path reads it the same way
    assert getattr(read_item(msgspec.json.encode({**BASE, field: value})), field) == expected


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("size_inches", "3abc", "A valid number is required."),
        ("size_inches", "", "A valid number is required."),
        ("size_inches", "1e999", "A valid number is required."),
        ("size_inches", "NaN", "A valid number is required."),
        ("size_inches", "-inf", "A valid number is required."),
        ("size_inches", True, "A valid number is required."),
        ("size_inches", [3], "A valid number is required."),
        ("size_inches", 16, "Ensure this value is less than or equal to 15."),
        ("size_inches", "0.1", "Ensure this value is greater than or equal to 0.5."),
        ("dpi", 300.5, "A valid integer is required."),
        ("dpi", "3e2", "A valid integer is required."),
        ("dpi", "9" * 5000, "A valid integer is required."),
        ("dpi", 601, "Ensure this value is less than or equal to 600."),
        ("eye_outer_frame", "maybe", "Must be a valid boolean."),
        ("eye_outer_frame", 2, "Must be a valid boolean."),
        ("eye_outer_frame", None, "This field may not be null."),
        ("pattern", "zigzag", '"zigzag" is not a valid choice.'),
        ("color", "rouge", "Invalid color 'rouge'. Use 'black', 'white', or hex like #RRGGBB."),
        ("background", 12, "Not a valid string."),
        ("frame_label", "x" * 41, "Ensure this field has no more than 40 characters."),
    ],
)
def test_refused_in_the_products_words(field: str, value: object, message: str) -> None:
    with pytest.raises(FieldProblems) as caught:
        check_fields({**BASE, field: value})
    assert caught.value.problems == {field: [message]}


def test_every_failing_field_in_schema_order_and_one_line_for_bulk() -> None:
    with pytest.raises(FieldProblems) as caught:
        check_fields({"color": "rouge", "size_inches": 16, "dpi": "x", "unknown": 1})
    problems = caught.value.problems
    assert list(problems) == ["data", "size_inches", "dpi", "color"]
    assert first_message(problems) == "data: This field is required."
    assert first_message({"color": problems["color"]}).startswith("Invalid color 'rouge'")
    assert first_message({"payload": ["lat: Ensure ..."]}) == "payload.lat: Ensure ..."
    with pytest.raises(FieldProblems) as caught:
        check_fields([1, 2])
    assert caught.value.problems == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


def test_payloads_are_read_by_their_type() -> None:
    item = check_fields(
        {"data_type": "wifi", "size_inches": 1, "payload": '{"ssid": "Cafe", "hidden": "true"}'}
    )  # a form's JSON text
    assert msgspec.json.decode(item.payload) == {"ssid": "Cafe", "hidden": True}
    with pytest.raises(FieldProblems) as caught:
        check_fields({"data_type": "geo", "size_inches": 1, "payload": {"lat": "x"}})
    assert caught.value.problems == {
        "payload": ["lat: A valid number is required.", "lng: This field is required."]
    }
    with pytest.raises(FieldProblems) as caught:
        read_item(b'{"data_type": "vcard", "size_inches": 1, "payload": null}')
    assert caught.value.problems == {"payload": ["This field may not be null."]}
    assert check_fields({**BASE, "payload": {"x": 1}}).payload is msgspec.UNSET  # url: ignored
