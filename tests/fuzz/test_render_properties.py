"""Properties of the render parameter space (issue 21), against the live app:

- ``POST /api/v1/validate/``'s verdict is what the render does: a valid item renders (200) to an
  image that zxing-cpp reads back to the exact content, in PNG and SVG; an invalid one gets the
  same status and body from the render as from the dry run;
- in bulk, the dry run's verdict is the batch's, the failing indexes are exactly the items the
  single dry run refuses, and a batch that is not refused before the first byte streams to a
  complete archive (an item that cannot render is a per-item 422, never a cut stream).

Seeded (``derandomize``) and bounded; no deadline (the machine is shared).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import pyvips
import requests
import zxingcpp
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from service.items.content import build_content
from service.schema import item_decoder
from tests.conftest import LiveServer
from tests.fuzz.strategies import items
from tests.readers import decode_image, open_zip, png_size_and_dpi, rasterise_svg, svg_inches

SINGLE_EXAMPLES = 40  # per format
BULK_EXAMPLES = 12
PROPERTY = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)


def bounded(examples: int) -> settings:
    return settings(PROPERTY, max_examples=examples)


@pytest.fixture(scope="module")
def pro(make_server) -> tuple[LiveServer, str]:  # type: ignore[no-untyped-def]
    server: LiveServer = make_server("redis")
    return server, server.account("pro")[1]


def post(pro: tuple[LiveServer, str], path: str, body: object) -> requests.Response:
    server, key = pro
    return requests.post(
        f"{server.url}/api/v1/{path}", json=body, headers={"X-Api-Key": key}, timeout=300
    )


def pixels_per_module(item: dict[str, Any], verdict: dict[str, Any]) -> float:
    """About how many pixels a module gets (a frame takes its line and caption band)."""
    span = 17 + 4 * verdict["version"] + 2 * item.get("quiet_zone", 4)
    framed = item.get("frame_style", "none") != "none"
    return verdict["pixels"] * (0.82 if framed else 1) / span


def readable_size(item: dict[str, Any], verdict: dict[str, Any]) -> bool:
    """Every PNG (the service reads each back before it ships it); an SVG with at least 4
    pixels per module: the service renders from 2, and below 4 a rasterised SVG with styled or
    translucent shapes can stop scanning (open: test_fuzz_findings.py's xfail). Every image
    rendered here must read back."""
    return item["format"] == "png" or pixels_per_module(item, verdict) >= 4


def expected_content(item: dict[str, Any], public_url: str | None) -> str | bytes:
    """What the code must carry: ``data`` itself for url and text; the short link for a
    dynamic code; for the other types the standard string (its builders are checked against
    fixed strings in tests/test_bulk.py and tests/render/test_content.py)."""
    if item.get("data_type", "url") in ("url", "text"):
        return str(item["data"])
    if item["data_type"] == "dynamic":
        assert public_url
        return public_url
    return build_content(item_decoder.decode(msgspec.json.encode(item)))


def carries(barcode: zxingcpp.Barcode, content: str | bytes) -> bool:
    if isinstance(content, bytes):
        return bool(barcode.bytes == content)
    if barcode.text == content:
        return True
    # Text without an ECI is ISO-8859-1 by ISO/IEC 18004's default, which is what the service
    # writes for Latin-1 content; zxing-cpp guesses the charset instead, and for short text
    # guesses wrong ("\u00a1" alone reads as Shift_JIS "\uff61"): then the bytes decide.
    try:
        return bool(barcode.bytes == content.encode("iso-8859-1"))
    except UnicodeEncodeError:
        return False


def on_paper(image: bytes, dark: bool) -> bytes:
    """The image printed on paper (white, or black for an inverted code) with a margin around
    it: quiet_zone 0 is allowed, and leaves the quiet zone to what the code is printed on."""
    raster = pyvips.Image.new_from_buffer(image, "")
    paper = [0, 0, 0] if dark else [255, 255, 255]
    if raster.hasalpha():
        raster = raster.flatten(background=paper)
    if raster.bands == 1:
        raster = raster.bandjoin([raster, raster])
    margin = max(8, raster.width // 8)
    framed = raster.embed(
        margin,
        margin,
        raster.width + 2 * margin,
        raster.height + 2 * margin,
        extend="background",
        background=paper,
    )
    return bytes(framed.cast("uchar").pngsave_buffer())


def reads_back(
    item: dict[str, Any], image: bytes, content: str | bytes, inverted: bool | None = None
) -> None:
    """The image's size (and a PNG's dpi), and zxing-cpp reads exactly ``content``: onto
    white paper, or black for an inverted code (a single render does not say which; bulk
    does)."""
    fmt, size, dpi = item["format"], item["size_inches"], item["dpi"]
    pixels = round(size * dpi)
    if fmt == "png":
        width, height, found_dpi = png_size_and_dpi(image)
        assert (width, height, round(found_dpi)) == (pixels, pixels, dpi)
    else:
        assert svg_inches(image) == (size, size)
        image = rasterise_svg(image, dpi)
    for dark in [inverted] if inverted is not None else [False, True]:
        try:
            barcode = decode_image(on_paper(image, dark), inverted=dark)
        except AssertionError:
            continue
        assert carries(barcode, content), (barcode.text, barcode.bytes, content)
        return
    raise AssertionError("zxing-cpp found no QR code in the image")


@pytest.mark.parametrize("fmt", ["png", "svg"])
@bounded(SINGLE_EXAMPLES)
@given(data=st.data())
def test_the_dry_run_verdict_is_what_a_single_render_does(
    pro, fmt: str, data: st.DataObject
) -> None:  # type: ignore[no-untyped-def]
    item = data.draw(items(formats=(fmt,)), label="item")
    verdict = post(pro, "validate/", item)
    event(f"dry run {verdict.status_code}")
    assume(verdict.status_code != 200 or readable_size(item, verdict.json()))
    render = post(pro, "generate/", item)
    if verdict.status_code != 200:
        assert verdict.status_code in (400, 403), verdict.text
        assert (render.status_code, render.json()) == (verdict.status_code, verdict.json())
        return
    assert render.status_code == 200, render.text
    assert render.headers["content-type"].startswith(
        {"png": "image/png", "svg": "image/svg+xml"}[item["format"]]
    )
    reads_back(item, render.content, expected_content(item, render.headers.get("x-qr-public-url")))


@bounded(BULK_EXAMPLES)
@given(batch=st.lists(items(), min_size=1, max_size=3))
def test_bulk_refuses_every_item_that_cannot_render_before_the_first_byte(  # type: ignore[no-untyped-def]
    pro, batch: list[dict[str, Any]]
) -> None:
    note(f"batch: {batch!r}")
    verdicts = [post(pro, "validate/", item) for item in batch]
    refused = {i for i, v in enumerate(verdicts) if v.status_code != 200}
    assume(
        all(
            readable_size(item, v.json())
            for item, v in zip(batch, verdicts, strict=True)
            if v.status_code == 200
        )
    )
    verdict = post(pro, "validate/", {"items": batch})
    r = post(pro, "generate/bulk/", {"items": batch})  # a cut stream raises here
    assert (r.status_code == 200) == (verdict.status_code == 200) == (not refused), r.text[:500]
    if r.status_code != 200:
        assert r.status_code == verdict.status_code == 422
        assert r.json() == verdict.json()
        assert set(map(int, r.json()["errors"])) == refused
        return
    archive, manifest = open_zip(r.content)
    assert manifest["count"] == len(batch)
    for item, entry in zip(batch, manifest["items"], strict=True):
        public_url = entry.get("dynamic", {}).get("public_url")
        reads_back(
            item,
            archive.read(entry["filename"]),
            expected_content(item, public_url),
            inverted=entry["inverted"],
        )
