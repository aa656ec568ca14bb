"""POST /api/v1/generate/ and GET /api/v1/usage/, on both stores."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.readers import check_image

GEN = "/api/v1/generate/"


def gen(server, key: str | None, body: dict[str, object] | None = None, **kw: object):
    headers = {"X-Api-Key": key} if key else {}
    return httpx.post(server.url + GEN, json=body, headers=headers, timeout=60, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt,media", [("png", "image/png"), ("svg", "image/svg+xml")])
def test_json_render_returns_the_image_with_its_headers(server, fmt: str, media: str) -> None:
    account, key = server.account("starter")
    r = gen(
        server,
        key,
        {"data": "https://example.com/single", "size_inches": 2, "format": fmt, "dpi": 150},
    )
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(media)
    assert r.headers["X-QR-Cache"] == "MISS" and int(r.headers["X-QR-Duration-Ms"]) >= 0
    assert r.headers["X-QR-Plan"] == "starter" and r.headers["X-QR-Quota-Remaining"] == "499"
    assert len(r.headers["X-Request-Id"]) == 26
    check_image(fmt, r.content, "https://example.com/single", 2, 150)
    assert server.admin.usage(account) == 1


def test_multipart_form_fields_render_the_same(server) -> None:
    _, key = server.account("pro")
    form = {
        "data_type": "wifi",
        "payload": '{"ssid": "Cafe", "password": "pw"}',
        "size_inches": "1.5",
        "dpi": "300",
        "pattern": "squares",
        "format": "png",
    }
    r = httpx.post(
        server.url + GEN,
        data={**form, "data": "ignored"},
        files={"note": ("note.txt", b"abc", "text/plain")},
        headers={"X-Api-Key": key},
    )
    assert r.status_code == 400 and r.json() == {"note": ["Expected a text field."]}
    r = httpx.post(
        server.url + GEN, data={**form, "unknown_field": "ignored"}, headers={"X-Api-Key": key}
    )
    assert r.status_code == 200, r.text
    check_image("png", r.content, "WIFI:T:WPA;S:Cafe;P:pw;;", 1.5, 300)
    svg = httpx.post(
        server.url + GEN,
        data={**form, "format": "svg"},
        files={"format": (None, "svg")},
        headers={"X-Api-Key": key},
    )
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    check_image("svg", svg.content, "WIFI:T:WPA;S:Cafe;P:pw;;", 1.5, 300)
    r = httpx.post(
        server.url + GEN,
        data=form,
        headers={"X-Api-Key": key},
        files={"logo_file": ("logo.png", b"\x89PNG", "image/png")},
    )
    assert r.status_code == 400 and list(r.json()) == ["logo_file"]


def test_single_dynamic_code_redirects(server) -> None:
    _, key = server.account("starter")
    r = gen(
        server,
        key,
        {
            "data_type": "dynamic",
            "size_inches": 2,
            "payload": {"name": "card", "destination_url": "https://example.com/dest"},
        },
    )
    assert r.status_code == 200, r.text
    short_id, url = r.headers["X-QR-Short-Id"], r.headers["X-QR-Public-Url"]
    assert url == f"http://localhost:8000/q/{short_id}/"
    check_image("png", r.content, url, 2, 300)
    hop = httpx.get(f"{server.url}/q/{short_id}/")
    assert hop.status_code == 302 and hop.headers["Location"] == "https://example.com/dest"


def test_every_error_class_and_nothing_charged(server) -> None:
    account, key = server.account("free")
    assert gen(server, None, {"data": "a", "size_inches": 1}).status_code == 401
    cases = [
        (
            {"data": "a", "size_inches": 1, "color": "rouge"},
            400,
            {"color": ["Invalid color 'rouge'. Use 'black', 'white', or hex like #RRGGBB."]},
        ),
        ({"data": "a"}, 400, {"size_inches": ["This field is required."]}),
        ({"data": "a", "size_inches": "x"}, 400, {"size_inches": ["A valid number is required."]}),
        ({"size_inches": 1}, 400, {"data": ["This field is required."]}),
        (
            {"data": "a", "size_inches": 4},
            403,
            {"detail": "Plan 'free' allows up to 3\". Upgrade for larger sizes."},
        ),
        (
            {"data": "a", "size_inches": 1, "dpi": 600},
            403,
            {"detail": "Plan 'free' allows up to 300 dpi. Upgrade for higher resolution."},
        ),
        (
            {"data": "a", "size_inches": 1, "logo_url": "https://cdn.example.com/l.png"},
            403,
            {"detail": "Plan 'free' doesn't include custom logos. Upgrade to Starter or higher."},
        ),
        ({"data": "x" * 2000, "size_inches": 3, "error_correction": "H"}, 400, None),
    ]
    for body, status, expected in cases:
        r = gen(server, key, body)
        assert r.status_code == status, (body, r.text)
        if expected is not None:
            assert r.json() == expected
    r = httpx.post(server.url + GEN, content=b"{nope", headers={"X-Api-Key": key})
    assert r.status_code == 400 and "detail" in r.json()
    assert server.admin.usage(account) == 0
    for i in range(5):  # the free plan's 5 renders
        ok = gen(server, key, {"data": f"f{i}", "size_inches": 1})
        assert ok.status_code == 200
        check_image("png", ok.content, f"f{i}", 1, 300)
    r = gen(server, key, {"data": "six", "size_inches": 1})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.json() == {"detail": "This render would exceed your monthly quota (5/5 used)."}
    assert server.admin.usage(account) == 5


def test_usage_follows_renders_failures_and_refunds(server) -> None:
    account, key = server.account("pro")

    def usage() -> dict[str, object]:
        r = httpx.get(server.url + "/api/v1/usage/", headers={"X-Api-Key": key})
        assert r.status_code == 200
        return r.json()

    first = usage()
    assert first == {
        "key_prefix": key[:12],
        "plan": "pro",
        "monthly_quota": 5000,
        "used_this_month": 0,
        "remaining": 5000,
        "max_size_inches": 15,
        "max_dpi": 600,
        "allow_custom_logo": True,
        "max_active_dynamic_qrs": 200,
        "max_bulk_items": 1000,
        "active_dynamic_qrs": 0,
        "credits_remaining": 0,
        "overage": True,
        "limits_note": "5000 renders a month (the plan's); renders "
        "past it are allowed and billed as overage.",
    }
    ok = gen(server, key, {"data": "u", "size_inches": 1})
    check_image("png", ok.content, "u", 1, 300)
    assert gen(server, key, {"data": "u", "size_inches": 99}).status_code == 400
    bulk = httpx.post(
        server.url + "/api/v1/generate/bulk/",
        headers={"X-Api-Key": key},
        json={
            "items": [{"data": "b", "size_inches": 1}] * 3
            + [
                {
                    "data_type": "dynamic",
                    "size_inches": 1,
                    "payload": {"name": "d", "destination_url": "https://e.co"},
                }
            ]
        },
    )
    assert bulk.status_code == 200
    cut = [{"data": f"https://example.com/{i}", "size_inches": 6} for i in range(600)]
    with (
        httpx.Client(timeout=60) as client,
        client.stream(
            "POST",
            server.url + "/api/v1/generate/bulk/",
            json={"items": cut},
            headers={"X-Api-Key": key},
        ) as s,
    ):
        chunks = s.iter_raw()
        next(chunks)
        time.sleep(0.2)
        assert usage()["used_this_month"] == 1 + 4 + 600
    deadline = time.monotonic() + 20
    while usage()["used_this_month"] != 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    now = usage()
    assert now["remaining"] == 4995 and now["credits_remaining"] == 0  # no credit pack (17.3)
    assert now["active_dynamic_qrs"] == 1
    assert httpx.get(server.url + "/api/v1/usage/").status_code == 401


def test_every_failing_field_in_the_products_words(server) -> None:
    """Issue 17.1: all failing fields at once, each a list of messages naming the limit."""
    _, key = server.account("pro")
    r = gen(server, key, {"data": "https://x.com", "size_inches": 16, "color": "rouge"})
    assert r.status_code == 400
    assert r.json() == {
        "size_inches": ["Ensure this value is less than or equal to 15."],
        "color": ["Invalid color 'rouge'. Use 'black', 'white', or hex like #RRGGBB."],
    }
    r = gen(
        server,
        key,
        {
            "data_type": "wifi",
            "size_inches": 0.1,
            "dpi": 50,
            "quiet_zone": 2.5,
            "pattern": "zigzag",
            "background": "nope",
            "frame_label": "x" * 41,
            "eye_outer_frame": "maybe",
        },
    )
    assert r.status_code == 400
    assert r.json() == {
        "payload": ["This field is required."],
        "size_inches": ["Ensure this value is greater than or equal to 0.5."],
        "dpi": ["Ensure this value is greater than or equal to 72."],
        "quiet_zone": ["A valid integer is required."],
        "background": ["Invalid color 'nope'. Use 'black', 'white', or hex like #RRGGBB."],
        "pattern": ['"zigzag" is not a valid choice.'],
        "eye_outer_frame": ["Must be a valid boolean."],
        "frame_label": ["Ensure this field has no more than 40 characters."],
    }
    r = gen(
        server, key, {"data_type": "geo", "size_inches": 1, "payload": {"lat": 91, "lng": "east"}}
    )
    assert r.json() == {
        "payload": [
            "lat: Ensure this value is less than or equal to 90.",
            "lng: A valid number is required.",
        ]
    }
    r = gen(server, key, {"data_type": "vcard"})
    assert r.json() == {
        "payload": ["This field is required."],
        "size_inches": ["This field is required."],
    }


def test_numbers_and_booleans_as_strings_or_whole_floats(server) -> None:
    """Issue 17.2: accepted as the product's serializers accept them; anything else is a
    400 on that field."""
    _, key = server.account("pro")
    data = "https://example.com/lenient"
    for extra, size, dpi in [
        ({"size_inches": "3"}, 3, 300),
        ({"size_inches": 1, "dpi": "300"}, 1, 300),
        ({"size_inches": 1, "dpi": 150.0}, 1, 150),
        ({"size_inches": "1.5", "dpi": "200.0"}, 1.5, 200),
        ({"size_inches": 1, "eye_outer_frame": "true", "logo_clear_zone": "false"}, 1, 300),
        ({"size_inches": 1, "eye_outer_frame": "yes"}, 1, 300),
    ]:
        r = gen(server, key, {"data": data, **extra})
        assert r.status_code == 200, (extra, r.text)
        check_image("png", r.content, data, size, dpi)
    r = gen(
        server,
        key,
        {"data_type": "geo", "size_inches": 1, "payload": {"lat": "45.5", "lng": "-73.25"}},
    )
    assert r.status_code == 200, r.text
    check_image("png", r.content, "geo:45.5,-73.25", 1, 300)
    refused = {
        "3abc": "A valid number is required.",
        "": "A valid number is required.",
        "1e999": "A valid number is required.",
        "NaN": "A valid number is required.",
        "inf": "A valid number is required.",
        True: "A valid number is required.",
    }
    for value, message in refused.items():
        r = gen(server, key, {"data": data, "size_inches": value})
        assert r.status_code == 400 and r.json() == {"size_inches": [message]}, (value, r.text)
    for value in ("300.5", 300.5, "3e2", "", True):
        r = gen(server, key, {"data": data, "size_inches": 1, "dpi": value})
        assert r.json() == {"dpi": ["A valid integer is required."]}, value
    for value in ("maybe", 2, "", None):
        r = gen(server, key, {"data": data, "size_inches": 1, "eye_outer_frame": value})
        expected = "This field may not be null." if value is None else "Must be a valid boolean."
        assert r.json() == {"eye_outer_frame": [expected]}, value


def test_usage_of_enterprise_says_what_unlimited_means(server) -> None:
    """Issue 17.3 and 17.4: credits_remaining is the credit-pack balance (none: 0), not a copy
    of remaining; every count is an integer, an uncapped one 2147483647."""
    _, key = server.account("enterprise")
    body = httpx.get(server.url + "/api/v1/usage/", headers={"X-Api-Key": key}).json()
    assert body["monthly_quota"] == 1_000_000 and body["remaining"] == 1_000_000
    assert body["credits_remaining"] == 0 and body["overage"] is False
    assert body["max_active_dynamic_qrs"] == 2_147_483_647
    assert all(
        isinstance(body[k], int)
        for k in (
            "monthly_quota",
            "used_this_month",
            "remaining",
            "max_size_inches",
            "max_dpi",
            "max_active_dynamic_qrs",
            "max_bulk_items",
            "active_dynamic_qrs",
            "credits_remaining",
        )
    )
    assert (
        "enterprise default" in body["limits_note"]
        and "2147483647 means no cap" in body["limits_note"]
        and "refused (429)" in body["limits_note"]
    )
    account, key = server.account("enterprise", monthly_quota=42, overage=True)
    body = httpx.get(server.url + "/api/v1/usage/", headers={"X-Api-Key": key}).json()
    assert (body["monthly_quota"], body["overage"]) == (42, True)
    assert "this account's own quota" in body["limits_note"]


def test_the_default_png_is_black_on_transparent_and_the_readme_says_so(server) -> None:
    """Issue 17.13: what a new user first renders looks blank in a dark viewer."""
    from pathlib import Path

    import numpy as np
    import pyvips

    _, key = server.account("starter")
    r = gen(server, key, {"data": "https://example.com/1", "size_inches": 1})
    check_image("png", r.content, "https://example.com/1", 1, 300)
    image = pyvips.Image.new_from_buffer(r.content, "").colourspace("srgb")
    pixels = np.ndarray(
        buffer=image.write_to_memory(),
        dtype=np.uint8,
        shape=[image.height, image.width, image.bands],
    )
    assert image.bands == 4 and pixels[0, 0, 3] == 0  # the margin: transparent
    opaque = pixels[pixels[:, :, 3] == 255]
    assert len(opaque) and (opaque[:, :3] == 0).all()  # every opaque pixel: black
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    try_it = readme[readme.index("## Try it") : readme.index("With Redis (production)")]
    assert "black on transparent" in try_it and '"background": "white"' in try_it
