"""Styled rendering through the real endpoint (CONTRACT section 2): every pattern, eye, colour
scheme and frame, in PNG and SVG, each image decoded by zxing-cpp to its exact content."""

from __future__ import annotations

import itertools
import re

import httpx
import numpy as np
import pytest
import pyvips

from service.render.eyes import BORDERS, CENTRES
from service.render.layout import frame_box, pixels_for, plan_layout
from service.render.patterns import PATTERN_NAMES
from tests.readers import check_image, open_zip, rasterise_svg

BULK = "/api/v1/generate/bulk/"
GEN = "/api/v1/generate/"
EYE_SHAPES = ("square", "rounded", "circle", "frame")
SCHEMES = {
    "black on transparent": {},
    "colours with alpha": {"color": "#1A237ECC", "background": "#FFF8E780"},
    "gradient": {"gradient_from": "#B00020", "gradient_to": "#1A237E"},
}
SIZES = ((1, 150), (4, 300))
FRAMES = ("box", "banner-bottom", "banner-top", "rounded")


def _bulk(server, key: str, items: list[dict[str, object]]) -> tuple[object, dict]:
    r = httpx.post(
        server.url + BULK, json={"items": items}, headers={"X-Api-Key": key}, timeout=600
    )
    assert r.status_code == 200, r.text[:500]
    return open_zip(r.content)


def _decode_all(server, key: str, items: list[dict[str, object]]) -> None:
    archive, manifest = _bulk(server, key, items)
    assert manifest["count"] == len(items)
    for item, entry in zip(items, manifest["items"]):
        try:
            check_image(
                str(item.get("format", "png")),
                archive.read(entry["filename"]),
                str(item["data"]),
                float(item["size_inches"]),  # type: ignore
                int(item.get("dpi", 300)),
            )  # type: ignore[arg-type]
        except AssertionError as exc:
            raise AssertionError(f"{item}: {exc}") from None


def test_the_style_matrix_decodes(server) -> None:
    """every pattern x every eye shape x {png, svg} x three colour schemes x two sizes."""
    _, key = server.account("agency")
    items = []
    for i, (pattern, eye, fmt, scheme, (size, dpi)) in enumerate(
        itertools.product(PATTERN_NAMES, EYE_SHAPES, ("png", "svg"), SCHEMES, SIZES)
    ):
        items.append(
            {
                "data": f"https://qr.example/{i}/{pattern}/{eye}",
                "pattern": pattern,
                "eye_shape": eye,
                "format": fmt,
                "size_inches": size,
                "dpi": dpi,
                **SCHEMES[scheme],
            }
        )
    _decode_all(server, key, items)


def test_every_eye_border_and_centre_and_the_outer_frame_decode(server) -> None:
    _, key = server.account("agency")
    items = []
    for i, (border, centre, fmt) in enumerate(itertools.product(BORDERS, CENTRES, ("png", "svg"))):
        if (border, centre) == ("circle", "square"):
            continue  # refused: see test_a_square_centre_in_a_circle_is_refused
        items.append(
            {
                "data": f"https://qr.example/eye/{i}",
                "eye_border_shape": border,
                "eye_center_shape": centre,
                "format": fmt,
                "size_inches": 1.5,
                "dpi": 200,
                "eye_border_color": "#C62828",
                "eye_center_color": "#1A237E",
                "eye_outer_frame": i % 2 == 0,
                "eye_outer_frame_match": i % 4 == 0,
                "pattern": ("dot", "rounded", "liquid")[i % 3],
            }
        )
    _decode_all(server, key, items)


def test_every_frame_style_with_a_label_decodes_and_keeps_the_size(server) -> None:
    _, key = server.account("agency")
    items = []
    for i, (frame, fmt, (size, dpi)) in enumerate(itertools.product(FRAMES, ("png", "svg"), SIZES)):
        items.append(
            {
                "data": f"https://qr.example/frame/{i}",
                "frame_style": frame,
                "frame_label": "Scan me",
                "frame_color": "#0D47A1",
                "format": fmt,
                "size_inches": size,
                "dpi": dpi,
                "pattern": "rounded",
            }
        )
    items.append(
        {
            "data": "https://qr.example/frame/nolabel",
            "frame_style": "box",
            "size_inches": 2,
            "dpi": 150,
        }
    )
    _decode_all(server, key, items)  # check_image holds the image to size_inches x dpi


def _binary(data: bytes, fmt: str, dpi: int) -> np.ndarray:
    raster = data if fmt == "png" else rasterise_svg(data, dpi)
    image = pyvips.Image.new_from_buffer(raster, "").flatten(background=[255, 255, 255])
    grey = image.colourspace("b-w")[0]
    array = np.ndarray(
        buffer=grey.cast("uchar").write_to_memory(), dtype=np.uint8, shape=(grey.height, grey.width)
    )
    return array < 128


@pytest.mark.parametrize(
    "style",
    [
        *({"pattern": p} for p in PATTERN_NAMES),
        {"eye_shape": "circle", "eye_outer_frame": True},
        {"eye_border_shape": "leaf-tr", "eye_center_shape": "sunburst"},
        {"eye_center_shape": "star", "gradient_from": "#000000", "gradient_to": "#1A237E"},
        {"frame_style": "banner-bottom", "frame_label": "Scan me", "pattern": "dot"},
    ],
    ids=lambda s: "-".join(str(v) for v in s.values()),
)
def test_png_and_svg_of_an_item_agree(server, style: dict[str, object]) -> None:
    _, key = server.account("pro")
    base = {"data": "https://qr.example/agree", "size_inches": 2, "dpi": 150, **style}
    images = {}
    for fmt in ("png", "svg"):
        r = httpx.post(
            server.url + GEN, json={**base, "format": fmt}, headers={"X-Api-Key": key}, timeout=60
        )
        assert r.status_code == 200, r.text
        check_image(fmt, r.content, "https://qr.example/agree", 2, 150)
        images[fmt] = _binary(r.content, fmt, 150)
    assert images["png"].shape == images["svg"].shape
    agree = float((images["png"] == images["svg"]).mean())
    assert agree >= 0.98, agree


def _dark_modules(binary: np.ndarray, n: int, ppm: int, x0: int, y0: int) -> np.ndarray:
    centres = np.arange(n) * ppm + ppm // 2
    return binary[np.ix_(y0 + centres, x0 + centres)]


JOINED = {"rounded": "hv", "liquid": "hv", "connected-h": "h", "connected-v": "v"}


@pytest.mark.parametrize("pattern", list(JOINED))
@pytest.mark.parametrize("size,dpi", [(1, 72), (1.1, 150), (2.3, 200), (0.7, 600), (3, 300)])
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_joined_patterns_have_no_seams(
    server, pattern: str, size: float, dpi: int, fmt: str
) -> None:
    """Between two adjacent dark modules, the pixels on their shared edge (on the line through
    the modules' centres) are fully dark, whatever the pixels per module come to."""
    _, key = server.account("pro")
    data = f"https://qr.example/seams/{pattern}/{size}"
    r = httpx.post(
        server.url + GEN,
        json={"data": data, "size_inches": size, "dpi": dpi, "pattern": pattern, "format": fmt},
        headers={"X-Api-Key": key},
        timeout=60,
    )
    if r.status_code == 400:  # too small for this symbol at this size: nothing to check
        assert "raise size_inches or dpi" in r.text
        return
    assert r.status_code == 200
    check_image(fmt, r.content, data, size, dpi)
    raster = r.content if fmt == "png" else rasterise_svg(r.content, dpi)
    image = pyvips.Image.new_from_buffer(raster, "")
    alpha = np.ndarray(
        buffer=image[3].write_to_memory(), dtype=np.uint8, shape=(image.height, image.width)
    )
    version = int(
        httpx.post(
            server.url + "/api/v1/validate/",
            json={"data": data, "size_inches": size, "dpi": dpi},
            headers={"X-Api-Key": key},
            timeout=30,
        ).json()["version"]
    )
    n = 17 + 4 * version
    lay = plan_layout(size, dpi, n, 4)
    if lay.ppm < 2:  # one pixel per module: no room for a seam
        return
    assert lay.pixels == pixels_for(size, dpi) and lay.ppm * n <= lay.pixels
    dark = _dark_modules(alpha > 127, n, lay.ppm, lay.offset, lay.offset)
    mid = lay.ppm // 2
    checked = 0
    for r_, c in zip(*np.nonzero(dark[:, :-1] & dark[:, 1:])):
        if "h" not in JOINED[pattern]:
            break
        y = lay.offset + r_ * lay.ppm + mid
        x = lay.offset + (c + 1) * lay.ppm
        assert alpha[y, x - 1] == 255 and alpha[y, x] == 255, (r_, c, alpha[y, x - 2 : x + 2])
        checked += 1
    for r_, c in zip(*np.nonzero(dark[:-1, :] & dark[1:, :])):
        if "v" not in JOINED[pattern]:
            break
        x = lay.offset + c * lay.ppm + mid
        y = lay.offset + (r_ + 1) * lay.ppm
        assert alpha[y - 1, x] == 255 and alpha[y, x] == 255, (r_, c)
        checked += 1
    assert checked > 20


def test_low_contrast_is_a_warning_when_it_reads_and_refused_when_it_does_not(server) -> None:
    """The 3:1 rule guessed wrong both ways: the read-back decides. The product only warns."""
    account, key = server.account("pro")
    base = {"size_inches": 1.5, "dpi": 150}
    items = [
        {**base, "data": "pale", "color": "#ff9900", "background": "white"},
        {**base, "data": "accepted", "color": "#1A237E", "background": "#FFF8E7"},
        {**base, "data": "inverted", "color": "#FFFFFF", "background": "#0D47A1"},
        {
            **base,
            "data": "gradient end too pale",
            "background": "#FFFFFF",
            "gradient_from": "#000000",
            "gradient_to": "#DDDDDD",
        },
    ]
    archive, manifest = _bulk(server, key, items)
    entries = manifest["items"]
    assert [e["inverted"] for e in entries] == [False, False, True, False]
    assert all(e["verified"] for e in entries)
    assert entries[0]["warnings"] == [
        "Contrast between color #ff9900 and background white is 2.14:1, below the 3:1 that "
        "every scanner reads; test it with the phones that will scan it."
    ]
    assert "warnings" not in entries[1] and "warnings" not in entries[2]
    assert "gradient_to #DDDDDD" in entries[3]["warnings"][0]
    for item, entry in zip(items, entries):
        check_image(
            "png",
            archive.read(entry["filename"]),
            item["data"],
            1.5,
            150,
            inverted=entry["inverted"],
        )
    r = httpx.post(server.url + GEN, headers={"X-Api-Key": key}, timeout=60, json=items[0])
    assert r.status_code == 200 and r.headers["X-QR-Verified"] == "true"
    assert r.headers["X-QR-Warning"].startswith("Contrast between color #ff9900")
    check_image("png", r.content, "pale", 1.5, 150)
    invisible = {**base, "data": "invisible", "color": "#F8F8F8", "background": "#FFFFFF"}
    r = httpx.post(
        server.url + BULK,
        json={"items": [items[1], invisible]},
        timeout=60,
        headers={"X-Api-Key": key},
    )
    assert r.status_code == 422 and list(r.json()["errors"]) == ["1"]
    message = r.json()["errors"]["1"]
    assert message.startswith("This code does not read back as drawn") and "1.06:1" in message
    r = httpx.post(server.url + GEN, headers={"X-Api-Key": key}, timeout=60, json=invisible)
    assert r.status_code == 400 and "1.06:1" in r.json()["non_field_errors"][0]
    assert server.admin.usage(account) == len(items) + 1  # refusals cost nothing


def test_svg_is_one_path_per_layer_and_states_its_size(server) -> None:
    _, key = server.account("pro")
    r = httpx.post(
        server.url + GEN,
        headers={"X-Api-Key": key},
        timeout=60,
        json={
            "data": "https://qr.example/compact",
            "size_inches": 3,
            "format": "svg",
            "pattern": "dot",
            "eye_shape": "circle",
            "eye_outer_frame": True,
            "eye_center_color": "#C62828",
            "gradient_from": "#000000",
            "gradient_to": "#0D47A1",
            "frame_style": "banner-top",
            "frame_label": "Scan <me> & go",
        },
    )
    assert r.status_code == 200
    svg = r.text
    assert 'width="3in" height="3in"' in svg
    assert len(re.findall(r"<path ", svg)) <= 5  # modules, rings, borders, centres, frame
    assert "Scan &lt;me&gt; &amp; go" in svg and "linearGradient" in svg
    check_image("svg", r.content, "https://qr.example/compact", 3, 300)


def test_a_frame_shrinks_the_symbol_not_the_image() -> None:
    plain = plan_layout(3, 300, 29, 4)
    framed = plan_layout(3, 300, 29, 4, frame_box(900, "banner-bottom", True))
    assert plain.pixels == framed.pixels == 900
    assert framed.ppm < plain.ppm


def test_a_circle_border_alone_gets_a_centre_that_reads(server) -> None:
    """eye_border_shape circle with the default square centre was refused; alone it now gets
    a round centre, and a square centre asked for is drawn if it reads back."""
    _, key = server.account("pro")
    for extra in ({}, {"eye_center_shape": "square"}):
        r = httpx.post(
            server.url + GEN,
            headers={"X-Api-Key": key},
            timeout=60,
            json={
                "data": "https://x.example/eye",
                "size_inches": 2,
                "eye_border_shape": "circle",
                "background": "#FFFFFF",
                **extra,
            },
        )
        assert r.status_code == 200, r.text
        assert r.headers["X-QR-Verified"] == "true"
        check_image("png", r.content, "https://x.example/eye", 2, 300)
