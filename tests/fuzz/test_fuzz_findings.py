"""Shrunk examples the fuzzers in this package found, each now an ordinary regression test
named after what it guards."""

from __future__ import annotations

import pytest
import requests

from tests.readers import check_image


def post(server, path: str, key: str, body: object) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.post(
        f"{server.url}/api/v1/{path}", json=body, headers={"X-Api-Key": key}, timeout=60
    )


@pytest.mark.parametrize("frame", ["box", "rounded", "banner-top", "banner-bottom"])
def test_a_frame_with_quiet_zone_zero_is_refused_not_rendered_unreadable(
    server, frame: str
) -> None:  # type: ignore[no-untyped-def]
    """Hypothesis: a box frame with quiet_zone 0 rendered (200) a code whose frame line touched
    the finder patterns; zxing-cpp found no code. The dry run, the single render and bulk now
    refuse it on quiet_zone; quiet_zone 1 renders and reads back."""
    _, key = server.account("pro")
    item = {
        "data": "https://example.com/",
        "size_inches": 2,
        "dpi": 300,
        "quiet_zone": 0,
        "frame_style": frame,
        "background": "white",
    }
    for path in ("validate/", "generate/"):
        r = post(server, path, key, item)
        assert r.status_code == 400 and list(r.json()) == ["quiet_zone"], r.text
    r = post(server, "generate/bulk/", key, {"items": [{**item, "quiet_zone": 1}, item]})
    assert r.status_code == 422 and list(r.json()["errors"]) == ["1"], r.text
    r = post(server, "generate/", key, {**item, "quiet_zone": 1})
    assert r.status_code == 200, r.text
    check_image("png", r.content, "https://example.com/", 2, 300)


def test_a_star_pattern_at_two_pixels_per_module_reads_back(server) -> None:  # type: ignore[no-untyped-def]
    """Hypothesis: text '0' (21 modules) at 0.5 in x 96 dpi, quiet_zone 0: 2 px per module. The
    star pattern rendered (200) an image zxing-cpp found no code in, even printed on white
    paper; main's read-back of every PNG (issue 14) now repairs it before it ships."""
    from tests.fuzz.test_render_properties import on_paper
    from tests.readers import decode_image

    _, key = server.account("pro")
    item = {
        "data_type": "text",
        "data": "0",
        "size_inches": 0.5,
        "dpi": 96,
        "quiet_zone": 0,
        "background": "white",
        "pattern": "star",
    }
    r = post(server, "generate/", key, item)
    assert r.status_code == 200, r.text
    assert decode_image(on_paper(r.content, False)).text == "0"


def test_a_translucent_eye_border_on_a_dark_ground_is_repaired_and_reads_in_svg(server) -> None:  # type: ignore[no-untyped-def]
    """Hypothesis (shrunk): an inverted code whose eye border is #C8C8C880 on black, 75 px
    for 25 modules, quiet_zone 0, shipped with 200 although zxing-cpp found no code in the
    rasterised SVG. Its eyes do not read in their own ink at any mask: the eyes are drawn in
    the modules' colour, the answer says so, and the SVG as resvg draws it reads."""
    from tests.fuzz.test_render_properties import on_paper
    from tests.readers import decode_image, rasterise_svg

    _, key = server.account("pro")
    item = {
        "data": "https://example.com/",
        "size_inches": 0.5,
        "dpi": 150,
        "format": "svg",
        "quiet_zone": 0,
        "color": "white",
        "background": "black",
        "eye_color": "white",
        "eye_border_color": "#C8C8C880",
    }
    r = post(server, "generate/", key, item)
    assert r.status_code == 200, r.text
    assert r.headers["X-QR-Verified"] == "true"
    assert r.headers["X-QR-Repaired"] == "eyes in the modules' colour"
    raster = rasterise_svg(r.content, 150)
    assert decode_image(on_paper(raster, True), inverted=True).text == "https://example.com/"
