"""The palette writer of plain codes over a logo or a background image (``render.layers``):
an 8-bit palette PNG that looks like the RGBA composite it replaces, reads with two decoders,
is a fraction of the bytes, and keeps the palette within 256 entries."""

from __future__ import annotations

import base64
import hashlib
import re

import msgspec
import numpy as np
import pytest
import pyvips

from service.render.encode import plan_version, symbol_size
from service.render.job import RenderJob
from service.render.layers import eligible, layered
from service.render.layout import plan_layout
from service.render.overlay import Box, Overlay, logo_box, photo_side
from service.render.patterns import shape
from service.render.pipeline import draw, render, run
from service.render.png import index_image
from service.render.writers import WRITERS
from tests.assetserver import IMAGES
from tests.readers import (
    assert_carries,
    assert_zbar_carries,
    check_image,
    decode_image,
    png_chunks,
)

LOGO = IMAGES["logo.png"]
PHOTO = IMAGES["photo.jpg"]
ASSETS = {hashlib.sha256(b).hexdigest(): b for b in (LOGO, PHOTO)}
LOGO_SHA, PHOTO_SHA = (hashlib.sha256(b).hexdigest() for b in (LOGO, PHOTO))


def job(
    content: str,
    overlay: Overlay,
    *,
    pattern: str = "rounded",
    fmt: str = "png",
    size: float = 2,
    dpi: int = 300,
    bg: tuple[int, int, int, int] = (0, 0, 0, 0),
    fg: tuple[int, int, int, int] = (0, 0, 0, 255),
) -> RenderJob:
    version = plan_version(content, "H")
    return RenderJob(
        content=content,
        level="H",
        version=version,
        layout=plan_layout(size, dpi, symbol_size(version), 4),
        pattern=pattern,
        fg=fg,
        bg=bg,
        format=fmt,
        size_inches=size,
        dpi=dpi,
        overlay=overlay,
    )


def _rgba(data: bytes) -> np.ndarray:
    """Premultiplied RGBA: what a fully transparent pixel's colour says does not show."""
    image = pyvips.Image.new_from_buffer(data, "")
    if not image.hasalpha():
        image = image.bandjoin(255)
    rgba = image.cast("uchar").numpy().astype(np.int32)
    rgba[..., :3] = (rgba[..., :3] * rgba[..., 3:] + 127) // 255
    return rgba


def _reference(j: RenderJob) -> bytes:
    """The same code as the RGBA composite (libvips stacks every layer per item), with the
    background image drawn at the palette writer's resolution."""
    assert j.overlay is not None
    return run(j, 0, ASSETS, writer=WRITERS["RGBA PNG"]).data


def _drawn(j: RenderJob, assets: dict[str, bytes]) -> tuple[np.ndarray, Box | None]:
    """The modules with the logo's zone cleared, and where the logo goes."""
    ctx = run(j, 0, assets, through="clear zone")
    assert ctx.dark is not None
    return ctx.dark, ctx.box


CASES = {
    "logo, transparent": (Overlay(logo=LOGO_SHA), {}),
    "logo, white, squares": (
        Overlay(logo=LOGO_SHA),
        {"bg": (255, 255, 255, 255), "pattern": "squares"},
    ),
    "photo": (Overlay(background=PHOTO_SHA), {}),
    "photo and logo, navy ink": (
        Overlay(logo=LOGO_SHA, background=PHOTO_SHA),
        {"fg": (20, 30, 90, 255), "bg": (255, 255, 255, 255)},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_palette_png_that_reads_with_both_decoders(case: str) -> None:
    overlay, extra = CASES[case]
    content = f"https://example.com/layers/{case}"
    j = job(content, overlay, **extra)  # type: ignore[arg-type]
    assert eligible(j)
    result = render(j, 0, ASSETS)
    assert result.verified and result.repaired is None
    ihdr = png_chunks(result.data)[b"IHDR"]
    assert ihdr[8:10] == bytes([8, 3])  # 8-bit palette
    assert len(png_chunks(result.data)[b"PLTE"]) // 3 <= 256
    assert_carries(decode_image(result.data), content)
    assert_zbar_carries(result.data, content)


@pytest.mark.parametrize("case", list(CASES))
def test_it_looks_like_the_rgba_composite(case: str) -> None:
    """Pixel for pixel against libvips' composite of the same layers: dark modules exact;
    what shows where modules are light (quiet zone, logo, photo under its veil) within what
    the quantised palette can hold; anti-aliased edges over a photo blend with the veil's
    colour instead of the photo under it."""
    overlay, extra = CASES[case]
    j = job(f"https://example.com/look/{case}", overlay, **extra)  # type: ignore[arg-type]
    assert j.overlay is not None
    drawn = draw(j, 0, ASSETS)
    assert_carries(decode_image(drawn), f"https://example.com/look/{case}")
    ours, ref = _rgba(drawn), _rgba(_reference(j))
    assert ours.shape == ref.shape
    dark, box = _drawn(j, ASSETS)
    levels_of, levels = index_image(shape(dark, j.pattern), j.layout)
    diff = np.abs(ours - ref).max(axis=2)
    assert diff[levels_of == levels - 1].max() == 0  # dark modules
    light = diff[levels_of == 0]
    assert light.mean() < 2.0, light.mean()
    assert np.percentile(light, 99.9) <= 16, np.percentile(light, 99.9)
    edges = diff[(levels_of > 0) & (levels_of < levels - 1)]
    if not edges.size:  # square modules
        pass
    elif j.overlay.background is None:
        assert edges.max() <= 1
    else:
        assert edges.max() <= 96 and edges.mean() < 16, (edges.max(), edges.mean())


def test_a_logo_with_few_colours_keeps_them_exactly() -> None:
    flat = (pyvips.Image.black(64, 64, bands=3) + [200, 30, 30]).cast("uchar")
    data = bytes(flat.copy(interpretation="srgb").bandjoin(255).pngsave_buffer())
    sha = hashlib.sha256(data).hexdigest()
    j = job("https://example.com/flat", Overlay(logo=sha), bg=(255, 255, 255, 255))
    assets = {sha: data}
    dark, box = _drawn(j, assets)
    assert box is not None
    indices, colours = layered(shape(dark, j.pattern), j, box, assets)
    patch = colours[indices[box.y : box.y + box.height, box.x : box.x + box.width]]
    assert (patch == [200, 30, 30, 255]).all()


def test_a_busy_light_layer_is_quantised_within_the_palette() -> None:
    """A photo has thousands of colours: the module levels and the quantised photo share
    the 256 entries, and every index points into the palette."""
    j = job("https://example.com/busy", Overlay(background=PHOTO_SHA))
    dark, box = _drawn(j, ASSETS)
    indices, colours = layered(shape(dark, j.pattern), j, box, ASSETS)
    assert 16 < len(colours) <= 256
    assert int(indices.max()) < len(colours)


def test_a_background_photo_costs_a_fraction_of_the_rgba_bytes() -> None:
    j = job("https://example.com/bytes", Overlay(background=PHOTO_SHA), size=3)
    palette_png, rgba_png = draw(j, 0, ASSETS), _reference(j)
    assert len(palette_png) * 2 < len(rgba_png), (len(palette_png), len(rgba_png))
    check_image("png", palette_png, "https://example.com/bytes", 3, 300)


def test_the_svg_embeds_the_photo_at_the_size_it_is_drawn() -> None:
    j = job("https://example.com/svg", Overlay(background=PHOTO_SHA), fmt="svg", size=3)
    data = draw(j, 0, ASSETS)
    check_image("svg", data, "https://example.com/svg", 3, 300)
    svg = data.decode()
    (uri,) = re.findall(r'href="data:image/[a-z]+;base64,([^"]+)"', svg)
    embedded = pyvips.Image.new_from_buffer(base64.b64decode(uri), "")
    side = photo_side(j.layout, j.dpi)
    assert (embedded.width, embedded.height) == (side, side)
    assert side * 2 == j.layout.symbol_pixels or side * 2 == j.layout.symbol_pixels + 1


def test_codes_drawn_over_the_logo_keep_the_rgba_composite() -> None:
    """Without a cleared zone the pixels under the logo differ from item to item."""
    j = job("https://example.com/over", Overlay(logo=LOGO_SHA, clear_zone=False, logo_ratio=0.15))
    assert not eligible(j)
    assert not eligible(msgspec.structs.replace(j, pattern="dots"))
    result = render(j, 0, ASSETS)
    assert result.verified
    check_image("png", result.data, "https://example.com/over", 2, 300)
    assert png_chunks(result.data)[b"IHDR"][8:10] == bytes([8, 6])  # RGBA
    box = logo_box(j.layout, 0.15, 240, 240)
    assert box.width > 0


_RENDER_IN_A_PROCESS = """
import hashlib, sys
from service.render.job import Overlay
from service.render.pipeline import render
from tests.render.test_layers import job
photo, logo = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assets = {hashlib.sha256(b).hexdigest(): b for b in (photo, logo)}
ps, ls = hashlib.sha256(photo).hexdigest(), hashlib.sha256(logo).hexdigest()
for fmt in ("png", "svg"):
    for overlay in (Overlay(background=ps), Overlay(logo=ls, background=ps)):
        print(render(job("https://example.com/same", overlay, fmt=fmt), 0, assets).sha256)
"""


def test_an_item_over_a_photo_is_the_same_bytes_in_another_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The quantised light layer (libimagequant through libvips) is deterministic: an
    idempotent replay or a cache fill rendered by another worker or replica gives the same
    archive. (The suite's photo is new noise in every process: the bytes are handed over.)"""
    import subprocess
    import sys
    from pathlib import Path

    photo, logo = tmp_path / "photo.jpg", tmp_path / "logo.png"
    photo.write_bytes(PHOTO)
    logo.write_bytes(LOGO)
    root = str(Path(__file__).resolve().parents[2])
    runs = [
        subprocess.run(
            [sys.executable, "-c", _RENDER_IN_A_PROCESS, str(photo), str(logo)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            timeout=120,
        ).stdout.split()
        for _ in range(2)
    ]
    assert len(runs[0]) == 4 and runs[0] == runs[1]
    here = []
    for fmt in ("png", "svg"):
        for overlay in (
            Overlay(background=PHOTO_SHA),
            Overlay(logo=LOGO_SHA, background=PHOTO_SHA),
        ):
            result = render(job("https://example.com/same", overlay, fmt=fmt), 0, ASSETS)
            check_image(fmt, result.data, "https://example.com/same", 2, 300)
            here.append(result.sha256)
    assert here == runs[0]
