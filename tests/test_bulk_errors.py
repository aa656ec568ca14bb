"""Every refusal of bulk-api.md and CONTRACT section 3: exact status and body, in the contract's
order of checks, and never a credit spent."""

from __future__ import annotations

import httpx
import pytest

from service.limits.quota import seconds_to_reset
from tests.readers import check_image, open_zip

URL = "/api/v1/generate/bulk/"
OK_ITEM = {"data": "https://example.com/ok", "size_inches": 1}
UNAUTHORISED = {"detail": "Missing or invalid X-Api-Key."}


def post(
    server,
    key: str | None,
    body: object = None,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        hdrs["X-Api-Key"] = key
    if content is None:
        return httpx.post(server.url + URL, json=body, headers=hdrs, timeout=60)
    return httpx.post(server.url + URL, content=content, headers=hdrs, timeout=60)


@pytest.mark.parametrize(
    "key", [None, "", "smk_short", "Bearer smk_" + "a" * 36, "smk_" + "A" * 36, "pk_" + "a" * 37]
)
def test_missing_or_unknown_key_is_401_with_one_body(server, key) -> None:
    r = post(server, key, {"items": [OK_ITEM]})
    assert r.status_code == 401 and r.json() == UNAUTHORISED


def test_revoked_and_rotated_keys_stop_working_at_once(server) -> None:
    account, key = server.account("starter")
    assert post(server, key, {"items": [OK_ITEM]}).status_code == 200
    new_key = server.admin.rotate_key(key[:12])
    r = post(server, key, {"items": [OK_ITEM]})
    assert r.status_code == 401 and r.json() == UNAUTHORISED
    assert post(server, new_key, {"items": [OK_ITEM]}).status_code == 200
    server.admin.revoke_key(new_key)
    assert post(server, new_key, {"items": [OK_ITEM]}).json() == UNAUTHORISED
    assert server.admin.usage(account) == 2


def test_body_over_the_limit_is_413_after_authentication(make_server, backend) -> None:
    small = make_server(backend, max_body_bytes=4096)
    account, key = small.account("pro")
    big = {"items": [{"data": f"https://example.com/{i}", "size_inches": 1} for i in range(200)]}
    r = post(small, key, big)
    assert r.status_code == 413 and "4096" in r.json()["detail"]
    # 401 comes before 413
    assert post(small, None, big).status_code == 401
    # a chunked body (no Content-Length) is cut as it crosses the limit
    chunks = (b'{"items": [' + b'{"data": "x", "size_inches": 1},' * 200 + b"{}]}",)
    r = httpx.post(small.url + URL, content=iter(chunks), headers={"X-Api-Key": key})
    assert r.status_code == 413
    assert small.admin.usage(account) == 0


def test_default_body_limit_admits_the_largest_valid_batch() -> None:
    import msgspec

    from service.settings import Settings

    s = "x"
    longest = {
        "name": s * 256,
        "org": s * 256,
        "title": s * 256,
        "phone": s * 256,
        "phones": [s * 256] * 8,
        "email": s * 256,
        "emails": [s * 256] * 8,
        "url": s * 2048,
        "address": s * 256,
        "note": s * 2048,
    }
    item = {
        "data": s * 2048,
        "data_type": "mecard",
        "payload": longest,
        "format": "png",
        "size_inches": 14.999,
        "dpi": 600,
        "error_correction": "auto",
        "quiet_zone": 16,
        "color": s * 16,
        "background": s * 16,
        "pattern": "connected-h",
        "gradient_from": s * 16,
        "gradient_to": s * 16,
        "eye_shape": "rounded",
        "eye_color": s * 16,
        "eye_border_shape": "leaf-tl",
        "eye_center_shape": "sunburst",
        "eye_border_color": s * 16,
        "eye_center_color": s * 16,
        "eye_outer_frame": False,
        "eye_outer_frame_match": False,
        "frame_style": "banner-bottom",
        "frame_color": s * 16,
        "frame_label": s * 40,
        "logo_url": s * 2048,
        "logo_size_ratio": 0.123456789,
        "logo_clear_zone": False,
        "bg_image_url": s * 2048,
    }
    import json

    pretty = len(json.dumps({"items": [item] * 5000}, indent=1).encode())
    compact = len(msgspec.json.encode({"items": [item] * 5000}))
    assert Settings().max_body_bytes >= max(pretty, compact)


@pytest.mark.parametrize(
    "content,why",
    [
        (b"{not json", "Malformed"),
        (b"", "Malformed"),
        (b"[]", "object"),
        (b'{"items": {}}', "items"),
        (b'{"item": []}', "items"),
        (b'{"items": [' * 2000 + b"]" * 2000 + b"}", "items"),
        (b'{"items": [{"data": "\xff\xfe", "size_inches": 1}]}', "Malformed"),
        (b'"just a string"', "object"),
    ],
)
def test_malformed_body_is_400_detail(server, content: bytes, why: str) -> None:
    account, key = server.account("starter")
    r = post(server, key, content=content)
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"detail"}
    assert server.admin.usage(account) == 0


def test_free_plan_is_403_before_counting_or_validating(server) -> None:
    account, key = server.account("free")
    for items in ([OK_ITEM], [], [{"size_inches": 99}] * 3):
        r = post(server, key, {"items": items})
        assert r.status_code == 403
        assert r.json() == {
            "detail": "Plan 'free' doesn't include bulk generation. Upgrade to Starter or higher."
        }
    # a malformed body answers first
    assert post(server, key, content=b"{").status_code == 400
    assert server.admin.usage(account) == 0


@pytest.mark.parametrize(
    "plan,count,message",
    [
        ("starter", 0, "items must contain at least 1 item."),
        ("starter", 51, "Plan 'starter' caps bulk at 50 items per request, got 51."),
        ("starter", 200, "Plan 'starter' caps bulk at 50 items per request, got 200."),
        ("pro", 1001, "Plan 'pro' caps bulk at 1000 items per request, got 1001."),
        ("agency", 5001, "Plan 'agency' caps bulk at 5000 items per request, got 5001."),
    ],
)
def test_item_count_is_400_with_an_items_message(server, plan, count, message) -> None:
    account, key = server.account(plan)
    # invalid items too: the count answers before per-item validation
    r = post(server, key, {"items": [{"size_inches": 0}] * count})
    assert r.status_code == 400
    assert r.json() == {"items": message}
    assert server.admin.usage(account) == 0


def test_every_failing_item_is_reported_and_nothing_is_charged(server) -> None:
    account, key = server.account("starter")
    items = [OK_ITEM] * 20
    items[3] = {"data": "a", "size_inches": 9}
    items[5] = {"data": "a", "size_inches": 2, "dpi": 400}
    items[7] = {"data": "a", "size_inches": 2, "color": "rouge"}
    items[8] = {"data": "a", "size_inches": 2, "background": "#12345"}
    items[9] = {"data_type": "vcard", "size_inches": 2}
    items[10] = {"data_type": "vcard", "payload": {"phone": "1"}, "size_inches": 2}
    items[11] = {"data": "a"}
    items[12] = {"data": "a", "size_inches": "3"}  # accepted as the product does (17.2)
    items[13] = 42
    items[14] = {
        "data": "a",
        "size_inches": 2,
        "pattern": "dot",
        "background": "white",
        "gradient_from": "#000000",
        "gradient_to": "#EEEEEE",
    }
    items[15] = {"data": "a", "size_inches": 2, "pattern": "plaid"}
    items[16] = {"size_inches": 2}
    items[17] = {"data": "Invalid color first", "size_inches": 99, "color": "rouge"}
    r = post(server, key, {"items": items})
    assert r.status_code == 422
    assert r.json() == {
        "errors": {
            "3": "size_inches > plan max (8)",
            "5": "dpi > plan max (300)",
            "7": "Invalid color 'rouge'. Use 'black', 'white', or hex like #RRGGBB.",
            "8": "Invalid color '#12345'. Use 'black', 'white', or hex like #RRGGBB.",
            "9": "payload: This field is required.",
            "10": "payload.name: This field is required.",
            "11": "size_inches: This field is required.",
            "13": "Invalid data. Expected a dictionary, but got int.",
            "15": 'pattern: "plaid" is not a valid choice.',
            "16": "data: This field is required.",
            "17": "size_inches: Ensure this value is less than or equal to 15.",
        },
        "rendered_before_failure": 3,
    }
    # 14's gradient ends at 1.16:1 yet its drawing read back (the valid items' drawings are
    # read back although others failed): a warning, not a refusal
    assert server.admin.usage(account) == 0


def test_content_that_cannot_be_a_qr_code_is_422(server) -> None:
    account, key = server.account("pro")
    items = [
        {"data": "x" * 1300, "size_inches": 8, "error_correction": "H"},
        {
            "data": "https://example.com/a-rather-long-url/for-a-tiny-code",
            "size_inches": 0.5,
            "dpi": 72,
        },
        {"data": "x" * 1200, "size_inches": 8, "error_correction": "H"},
        {"data": "dark", "size_inches": 2, "color": "#777777", "background": "#888888"},
        {"data": "x" * 2049, "size_inches": 2},
    ]
    r = post(server, key, {"items": items})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors["0"] == (
        "Content of 1300 bytes does not fit in a QR code at error correction "
        "H (at most 1273 bytes of binary data); shorten it or choose a lower "
        "error_correction."
    )
    assert errors["1"].startswith(
        "A 33x33 symbol with a quiet zone of 4 needs at least 41 px, "
        "but 0.5 in at 72 dpi is 36 px (0.88 px per module)"
    )
    assert "raise size_inches or dpi" in errors["1"]
    assert "2" not in errors
    assert "3" not in errors  # 1.26:1 reads back: a warning, not a refusal
    assert errors["4"] == "data: Ensure this field has no more than 2048 characters."
    assert r.json()["rendered_before_failure"] == 0
    assert server.admin.usage(account) == 0


def test_style_fields_are_checked_not_ignored(server) -> None:
    _, key = server.account("starter")
    fields = [
        {"gradient_from": "#000000"},
        {"frame_label": "Scan me"},
        {"eye_color": "vert"},
        {"background": "#101010", "color": "#181818", "eye_color": "#000000"},
        {"bg_image_url": "file:///etc/passwd"},
        {"eye_center_shape": "heart"},
    ]
    r = post(server, key, {"items": [{"data": "a", "size_inches": 2, **f} for f in fields]})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors == {
        "0": "gradient_from and gradient_to go together: give both or neither.",
        "1": "frame_label needs a frame_style other than 'none'.",
        "2": "Invalid color 'vert'. Use 'black', 'white', or hex like #RRGGBB.",
        "3": errors["3"],
        "4": "bg_image_url must be an http or https URL of at most 2048 characters, got "
        "'file:///etc/passwd'",
        "5": errors["5"],
    }
    assert errors["5"] == 'eye_center_shape: "heart" is not a valid choice.'
    # dark modules and eyes on a dark background: nothing to find, in any form
    assert errors["3"].startswith("This code does not read back as drawn")
    assert "color #181818 and background #101010 is 1.07:1" in errors["3"]
    assert "eye_border_color #000000 and background #101010 is 1.10:1" in errors["3"]
    # plan gates are per-item messages (checked with a plan that has bulk)
    from service.items.types import InvalidItem
    from service.items.validation import validate_item
    from service.limits.plans import PLANS

    with pytest.raises(InvalidItem, match="Plan 'free' doesn't include custom logos"):
        validate_item(
            b'{"data": "a", "size_inches": 2, "logo_url": "https://x/l.png"}', PLANS["free"]
        )


def test_dark_eyes_on_a_dark_ground_are_drawn_in_the_modules_colour(server) -> None:
    """Light modules with black eyes on #101010: no finder to find as asked; the eyes in the
    modules' colour read, and the manifest says so (with the measured contrast as warnings)."""
    _, key = server.account("starter")
    item = {"data": "a", "size_inches": 2, "background": "#101010", "color": "#FFFFFF"}
    r = post(server, key, {"items": [{**item, "eye_color": "#000000"}]})
    assert r.status_code == 200, r.text
    archive, manifest = open_zip(r.content)
    (entry,) = manifest["items"]
    assert entry["repaired"] == "eyes in the modules' colour"
    assert any("eye_border_color #000000" in w for w in entry["warnings"])
    check_image("png", archive.read(entry["filename"]), "a", 2, 300, inverted=True)


def test_quota_without_overage_is_429_with_retry_after(server) -> None:
    account, key = server.account("enterprise", monthly_quota=500)
    assert post(server, key, {"items": [OK_ITEM] * 30}).status_code == 200
    r = post(server, key, {"items": [OK_ITEM] * 50})
    assert r.status_code == 200 and r.headers["X-QR-Quota-Remaining"] == "420"
    for _ in range(8):
        assert post(server, key, {"items": [OK_ITEM] * 50}).status_code == 200
    used = server.admin.usage(account)
    assert used == 480
    r = post(server, key, {"items": [OK_ITEM] * 50})
    assert r.status_code == 429
    assert r.json() == {"detail": "Bulk of 50 would exceed your monthly quota (480/500 used)."}
    retry = int(r.headers["Retry-After"])
    assert abs(retry - seconds_to_reset()) < 60
    assert server.admin.usage(account) == 480
    # exactly the rest still fits
    r = post(server, key, {"items": [OK_ITEM] * 20})
    assert r.status_code == 200 and r.headers["X-QR-Quota-Remaining"] == "0"


def test_overage_switched_off_on_a_paid_plan_is_429(server) -> None:
    account, key = server.account("pro", monthly_quota=10, overage=False)
    r = post(server, key, {"items": [OK_ITEM] * 11})
    assert r.status_code == 429
    assert r.json() == {"detail": "Bulk of 11 would exceed your monthly quota (0/10 used)."}
    assert server.admin.usage(account) == 0


def test_item_errors_answer_before_quota(server) -> None:
    account, key = server.account("enterprise", monthly_quota=1)
    r = post(server, key, {"items": [OK_ITEM, {"data": "a", "size_inches": 99}]})
    assert r.status_code == 422
    assert server.admin.usage(account) == 0


def test_output_certain_to_exceed_the_ceiling_is_400(make_server, backend) -> None:
    small = make_server(backend, zip_ceiling_bytes=200_000)
    account, key = small.account("agency")
    big = {"data": "a", "size_inches": 15, "dpi": 600}
    r = post(small, key, {"items": [big] * 25})
    assert r.status_code == 400
    assert "ZIP ceiling" in r.json()["detail"] and "200000" in r.json()["detail"]
    assert small.admin.usage(account) == 0
