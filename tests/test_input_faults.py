"""Inputs a hostile-input run turned into 500s (or a 200 cut mid-stream), each now a clean
answer: a rendered image that reads back, or the contract's 4xx."""

from __future__ import annotations

import httpx
import pytest

from tests.readers import check_image, open_zip

GEN = "/api/v1/generate/"


def post(
    server, path: str, key: str, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        server.url + path, json=body, headers={"X-Api-Key": key, **(headers or {})}, timeout=60
    )


QUIET_ZERO = [
    {"eye_shape": "circle"},
    {"eye_shape": "rounded"},
    {"eye_shape": "frame"},
    {"eye_center_shape": "star"},
    {"eye_border_shape": "leaf-tl"},
    {"eye_outer_frame": True},
    {"pattern": "star"},
    {"pattern": "dot"},
]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_quiet_zone_zero_renders_styled_eyes_and_patterns(server, fmt: str) -> None:
    """A styled PNG with quiet_zone 0 drew eyes whose anti-aliasing margin starts left of
    the image: numpy refused to broadcast into an empty slice (500)."""
    _, key = server.account("pro")
    for style in QUIET_ZERO:
        item = {
            "data": "https://x.example/q0",
            "size_inches": 1,
            "dpi": 300,
            "format": fmt,
            "quiet_zone": 0,
            "background": "#FFFFFF",
            **style,
        }
        assert post(server, "/api/v1/validate/", key, item).status_code == 200
        r = post(server, GEN, key, item)
        assert r.status_code == 200, (style, r.text)
        check_image(fmt, r.content, "https://x.example/q0", 1, 300)


INVISIBLE = ["   ", "\u00a0", "\u200b", "\u202e", "\ufeff", "\u200d\u200c", "\u2028"]


def test_a_caption_that_draws_nothing_is_refused_per_field(server) -> None:
    """pango refuses text with nothing to lay out ('no text to render', a 500)."""
    _, key = server.account("pro")
    for label in INVISIBLE:
        item = {
            "data": "https://x.example",
            "size_inches": 1,
            "frame_style": "box",
            "frame_label": label,
        }
        r = post(server, GEN, key, item)
        assert r.status_code == 400, (label, r.text)
        assert list(r.json()) == ["frame_label"], r.json()
        r = post(server, "/api/v1/generate/bulk/", key, {"items": [item, item]})
        assert r.status_code == 422 and set(r.json()["errors"]) == {"0", "1"}, r.text
    r = post(
        server,
        GEN,
        key,
        {
            "data": "https://x.example",
            "size_inches": 1,
            "frame_style": "box",
            "frame_label": "a\tb",
        },
    )
    assert r.status_code == 400 and "control" in r.json()["frame_label"][0]


def test_a_caption_with_marks_and_bidi_renders(server) -> None:
    _, key = server.account("pro")
    for label in ["\u202eSCAN\u202c", "e\u0301", "\u05e1\u05e8\u05d5\u05e7", "\U0001f600 go"]:
        for fmt in ("png", "svg"):
            r = post(
                server,
                GEN,
                key,
                {
                    "data": "https://x.example/l",
                    "size_inches": 2,
                    "dpi": 150,
                    "format": fmt,
                    "frame_style": "box",
                    "frame_label": label,
                    "background": "#FFFFFF",
                },
            )
            assert r.status_code == 200, (label, r.text)
            check_image(fmt, r.content, "https://x.example/l", 2, 150)


@pytest.mark.parametrize(
    "param,value", [("page", "9" * 4301), ("page_size", "9" * 50), ("page", "1" + "0" * 4400)]
)
def test_paging_values_past_the_int_string_limit_are_400(server, param: str, value: str) -> None:
    _, key = server.account("pro")
    r = httpx.get(f"{server.url}/api/v1/dynamic/?{param}={value}", headers={"X-Api-Key": key})
    assert r.status_code == 400 and list(r.json()) == [param], r.text


def test_a_replayed_dynamic_create_says_it_is_a_replay(server) -> None:
    _, key = server.account("pro")
    body = {"name": "card", "destination_url": "https://example.com/d"}
    headers = {"X-Api-Key": key, "Idempotency-Key": "create-once"}
    first = httpx.post(server.url + "/api/v1/dynamic/", json=body, headers=headers)
    again = httpx.post(server.url + "/api/v1/dynamic/", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


@pytest.mark.parametrize("method", ["post", "patch"])
def test_invalid_utf8_in_a_dynamic_body_is_400(server, method: str) -> None:
    """msgspec skips unknown fields without checking their bytes: the body must be UTF-8."""
    _, key = server.account("pro")
    made = post(
        server, "/api/v1/dynamic/", key, {"name": "c", "destination_url": "https://example.com/u"}
    )
    assert made.status_code == 201
    bad = b'{"name": "c", "destination_url": "https://example.com/u", "x\xff": "\xfe"}'
    url = (
        server.url
        + "/api/v1/dynamic/"
        + ("" if method == "post" else made.json()["short_id"] + "/")
    )
    r = httpx.request(
        method.upper(),
        url,
        content=bad,
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and "detail" in r.json(), r.text


def test_request_headers_over_the_limit_are_431(server) -> None:
    _, key = server.account("pro")
    item = {"data": "https://x.example/h", "size_inches": 1, "dpi": 150}
    r = post(server, GEN, key, item, headers={"X-Big": "a" * 1_000_000})
    assert r.status_code == 431 and "32768 bytes" in r.json()["detail"]
    r = post(server, GEN, key, item, headers={"X-Big": "a" * 20_000})
    assert r.status_code == 200
    check_image("png", r.content, "https://x.example/h", 1, 150)


def test_bulk_quiet_zone_zero_streams_a_whole_archive(server) -> None:
    """The same inputs in bulk gave a 200 whose stream was then cut."""
    _, key = server.account("pro")
    items = [
        {
            "data": f"https://x.example/b{i}",
            "size_inches": 1,
            "dpi": 300,
            "quiet_zone": 0,
            "background": "#FFFFFF",
            **style,
        }
        for i, style in enumerate(QUIET_ZERO)
    ]
    r = post(server, "/api/v1/generate/bulk/", key, {"items": items})
    assert r.status_code == 200, r.text
    archive, _ = open_zip(r.content)
    for i, _ in enumerate(items):
        check_image("png", archive.read(f"qr-{i + 1:04d}.png"), f"https://x.example/b{i}", 1, 300)
