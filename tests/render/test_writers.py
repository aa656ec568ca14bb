"""The PNG and SVG writers: same geometry, exact size, dpi, palette, and codes that scan; the
writer table (``render.writers``): one writer per item, by what it needs."""

from __future__ import annotations

import hashlib

import msgspec
import numpy as np
import pytest
import pyvips

from service.render.encode import encode, plan_version, symbol_size
from service.render.eyes import eye_origins
from service.render.geometry import LIGHT
from service.render.job import RenderJob, Style
from service.render.layout import Layout, plan_layout
from service.render.overlay import Overlay
from service.render.patterns import shape
from service.render.pipeline import render, run
from service.render.png import index_image, palette, write_png
from service.render.readback import PLAIN_READ_PPM, png_grey, sampling
from service.render.scene import Scene
from service.render.shapes import soft_edge
from service.render.writers import needs
from tests.assetserver import IMAGES
from tests.readers import (
    assert_carries,
    decode_image,
    png_chunks,
    png_size_and_dpi,
    rasterise_svg,
    svg_inches,
)


def job(
    content: str,
    *,
    pattern: str = "rounded",
    fmt: str = "png",
    size: float = 2,
    dpi: int = 300,
    qz: int = 4,
    fg=(0, 0, 0, 255),
    bg=(0, 0, 0, 0),
) -> RenderJob:
    version = plan_version(content, "M")
    return RenderJob(
        content=content,
        level="M",
        version=version,
        layout=plan_layout(size, dpi, symbol_size(version), qz),
        pattern=pattern,
        fg=fg,
        bg=bg,
        format=fmt,
        size_inches=size,
        dpi=dpi,
    )


def _grey(data: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(data, "")
    image = image.flatten(background=[255, 255, 255]) if image.hasalpha() else image
    image = image.colourspace("b-w")[0]
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=[image.height, image.width]
    )


@pytest.mark.parametrize("compression", [0, 1, 9])
@pytest.mark.parametrize("pattern", ["squares", "rounded"])
@pytest.mark.parametrize("size,dpi", [(0.5, 300), (1, 150), (3, 300), (4.3, 217), (15, 600)])
def test_png_scans_at_its_exact_size_and_dpi(
    pattern: str, size: float, dpi: int, compression: int
) -> None:
    content = f"https://example.com/{pattern}/{size}/{dpi}"
    result = render(job(content, pattern=pattern, size=size, dpi=dpi), compression)
    assert png_size_and_dpi(result.data) == (
        round(size * dpi),
        round(size * dpi),
        pytest.approx(dpi, abs=0.02),
    )
    assert_carries(decode_image(result.data), content)


def test_png_palette_depth_and_transparency() -> None:
    squares = png_chunks(render(job("a", pattern="squares", size=0.5, dpi=150)).data)
    assert squares[b"IHDR"][8:10] == bytes([1, 3])  # 1-bit palette below 7 px per module
    assert squares[b"tRNS"] == bytes([0, 255])
    soft = png_chunks(render(job("a", pattern="squares")).data)
    assert soft[b"IHDR"][8:10] == bytes([2, 3])  # 2 bits from 7: the finders' soft edges
    assert soft[b"tRNS"] == bytes([0, 85, 170, 255])
    rounded = png_chunks(render(job("a", bg=(255, 255, 255, 255))).data)
    assert rounded[b"IHDR"][8:10] == bytes([2, 3])  # 2-bit palette for anti-aliased edges
    assert b"tRNS" not in rounded
    assert len(rounded[b"PLTE"]) == 4 * 3


@pytest.mark.parametrize("pattern", ["squares", "rounded"])
@pytest.mark.parametrize(
    "ppm,offset,extra",
    [
        (2, 0, 0),
        (3, 5, 1),
        (4, 2, 0),
        (5, 7, 1),
        (8, 3, 0),
        (11, 1, 1),
        (24, 102, 0),
        (27, 13, 1),
        (31, 0, 0),
        (80, 9, 1),
    ],
)
def test_png_pixels_are_the_overlay_stages_index_image(
    pattern: str, ppm: int, offset: int, extra: int
) -> None:
    """The PNG writer packs pre-packed tiles for any pixel phase; the overlay stage builds
    indices in blocks of module rows. Both must give the same pixels, also at sizes that take
    several blocks (80 px per module on a version 4 symbol)."""
    content = "https://example.com/" + "p" * (50 if ppm == 80 else 5)
    version = plan_version(content, "M")
    n = symbol_size(version)
    layout = Layout(pixels=n * ppm + 2 * offset + extra, modules=n, ppm=ppm, offset=offset)
    geom = shape(encode(content, "M", version), pattern)
    fg, bg = (10, 20, 30, 255), (250, 240, 230, 255)
    image = pyvips.Image.new_from_buffer(write_png(geom, layout, fg, bg, 300), "")
    got = np.ndarray(
        buffer=image.write_to_memory(),
        dtype=np.uint8,
        shape=[image.height, image.width, image.bands],
    )
    indices, levels = index_image(geom, layout)
    colours = np.array(palette(fg, bg, levels), dtype=np.uint8)
    assert np.array_equal(got, colours[indices][..., :3])
    if ppm >= 4:
        assert_carries(decode_image(write_png(geom, layout, fg, bg, 300)), content)


@pytest.mark.parametrize("pattern", ["squares", "rounded"])
@pytest.mark.parametrize(
    "ppm,offset,extra", [(7, 0, 0), (8, 3, 1), (9, 1, 0), (11, 1, 1), (24, 102, 0), (40, 3, 1)]
)
def test_soft_finders_are_the_styled_square_eyes_at_4_levels(
    pattern: str, ppm: int, offset: int, extra: int
) -> None:
    """From 7 px per module a plain PNG's finders have the square eye border's soft edge
    (``shapes.soft_edge``), as a styled code draws it, its centre plain: pixel for pixel the
    scene's drawing of the same eyes at the palette's 4 levels, at any byte phase and with
    no quiet zone (offset 0: the outer ramp clipped at the image's edge); elsewhere the
    plain writer's pixels, and the code reads."""
    content = "https://example.com/soft-finders"
    version = plan_version(content, "M")
    n = symbol_size(version)
    layout = Layout(pixels=n * ppm + 2 * offset + extra, modules=n, ppm=ppm, offset=offset)
    geom = shape(encode(content, "M", version), pattern)
    soft = msgspec.structs.replace(geom, finder_edge=soft_edge(ppm))
    fg, bg = (0, 0, 0, 255), (255, 255, 255, 255)
    got = _grey(write_png(soft, layout, fg, bg, 300))
    plain = _grey(write_png(geom, layout, fg, bg, 300))
    base = job(content, pattern=pattern, bg=bg)
    base = msgspec.structs.replace(base, layout=layout, version=version)
    styled = msgspec.structs.replace(base, style=Style(eye_border_color=fg))
    assert isinstance(run(styled).drawing, Scene)
    eyes = _grey(run(styled).data)
    finders = np.zeros(got.shape, dtype=bool)
    reach = 2  # the ramp's 1.25 px beyond the outline
    for col, row in eye_origins(n):
        x, y = offset + col * ppm - reach, offset + row * ppm - reach
        finders[max(y, 0) : y + 7 * ppm + 2 * reach, max(x, 0) : x + 7 * ppm + 2 * reach] = True
    assert np.array_equal(got[~finders], plain[~finders])
    quantised = (np.round(eyes / 85.0) * 85).astype(np.uint8)
    assert np.array_equal(got[finders], quantised[finders])
    assert (np.unique(got[finders]) == [0, 85, 170, 255]).all()
    assert_carries(decode_image(write_png(soft, layout, fg, bg, 300)), content)


def test_plain_pngs_have_soft_finders_from_7_px_per_module_only() -> None:
    """Not below 7 px per module (``shapes.SOFT_FROM_PPM``), not in an SVG (its rasteriser's
    edges), not over a logo or background image (the overlay's own palette)."""
    assert run(job("a", pattern="squares", size=3)).drawing.finder_edge == soft_edge(30)
    assert run(job("a", pattern="squares", size=0.5, dpi=150)).drawing.finder_edge == 0
    # an inverted code keeps plain finders below 11 px per module (shapes.soft_edge)
    white, blue = (255, 255, 255, 255), (13, 71, 161, 255)
    small = job("a", pattern="squares", size=0.8, fg=white, bg=blue)
    assert 7 <= small.layout.ppm < 11
    assert run(small).drawing.finder_edge == 0
    assert run(job("a", pattern="squares", size=0.8)).drawing.finder_edge == 3.5
    assert run(job("a", pattern="squares", size=3, fg=white, bg=blue)).drawing.finder_edge == 2.5
    assert run(job("a", pattern="squares", size=3, fmt="svg")).drawing.finder_edge == 0


@pytest.mark.parametrize("pattern", ["squares", "rounded"])
def test_png_and_svg_draw_the_same_shapes(pattern: str) -> None:
    content = "https://example.com/same"
    png = _grey(render(job(content, pattern=pattern, size=3)).data) < 128
    svg_data = render(job(content, pattern=pattern, size=3, fmt="svg")).data
    assert svg_inches(svg_data) == (3, 3)
    svg = _grey(rasterise_svg(svg_data, 300)) < 128
    assert png.shape == svg.shape
    assert (png == svg).mean() > 0.995
    assert_carries(decode_image(rasterise_svg(svg_data, 300)), content)


def test_svg_is_one_path_with_a_sub_path_per_run() -> None:
    data = render(job("https://example.com/compact", pattern="squares", fmt="svg")).data
    text = data.decode()
    assert text.count("<path") == 1 and text.count("<rect") == 0
    dark = encode(
        "https://example.com/compact", "M", plan_version("https://example.com/compact", "M")
    )
    runs = sum(
        int(np.count_nonzero(np.diff(np.concatenate(([0], row, [0])).astype(int)) == 1))
        for row in dark
    )
    assert text.count("z") == runs


@pytest.mark.parametrize("ppm_size", [(2.0, 100), (3, 300), (1.7, 211)])
def test_rounded_modules_join_without_seams(ppm_size) -> None:
    """Between two adjacent dark modules every pixel is fully dark."""
    size, dpi = ppm_size
    j = job("https://example.com/seams", size=size, dpi=dpi, bg=(255, 255, 255, 255))
    pixels = _grey(render(j).data)
    dark = encode(j.content, "M", j.version)
    cells = shape(dark, "rounded").cells
    ppm, off = j.layout.ppm, j.layout.offset
    checked = 0
    for r, c in zip(*np.nonzero(dark[:, :-1] & dark[:, 1:])):
        assert cells[r, c] != LIGHT
        x = off + (c + 1) * ppm  # the boundary between module c and c+1
        y0, y1 = off + r * ppm + ppm // 2 - 1, off + r * ppm + ppm // 2 + 1
        assert (pixels[y0:y1, x - 1 : x + 1] == 0).all()
        checked += 1
    assert checked > 20


# -- the writer table ---------------------------------------------------------------------


def test_each_item_needs_one_writer_of_the_table() -> None:
    base = job("https://example.com/table")
    logo = Overlay(logo="0" * 64, logo_size=(100, 100))
    cases = {
        "palette PNG": [
            base,
            msgspec.structs.replace(base, pattern="dot"),
            msgspec.structs.replace(base, overlay=logo),
            msgspec.structs.replace(base, overlay=Overlay(background="0" * 64)),
        ],
        "RGBA PNG": [
            msgspec.structs.replace(base, overlay=Overlay(logo="0" * 64, clear_zone=False)),
            msgspec.structs.replace(base, pattern="dot", overlay=logo),
        ],
        "SVG": [msgspec.structs.replace(base, format="svg", overlay=logo)],
    }
    for name, jobs in cases.items():
        assert [needs(j) for j in jobs] == [name] * len(jobs)


@pytest.mark.parametrize("pattern", ["squares", "rounded"])
def test_the_fast_path_hands_over_the_rows_the_read_back_would_decode(pattern: str) -> None:
    j = job("https://example.com/rows", pattern=pattern, size=2)
    ctx = run(j, read=True, through="write")
    assert ctx.grey is not None
    step = sampling(j.layout.ppm, PLAIN_READ_PPM)
    assert np.array_equal(ctx.grey, png_grey(ctx.data, False, step))


def test_over_images_the_palette_writer_hands_over_the_indices_before_writing() -> None:
    """What the read-back reads of a plain code over a photo is ready at the layers stage
    (the trial decode reads it without writing a PNG), and is what its bytes decode to."""
    photo = IMAGES["photo.jpg"]
    sha = hashlib.sha256(photo).hexdigest()
    j = msgspec.structs.replace(job("https://example.com/indexed"), overlay=Overlay(background=sha))
    ctx = run(j, 0, {sha: photo}, read=True, through="layers")
    assert ctx.grey is not None and ctx.data == b""
    written = run(j, 0, {sha: photo}, read=True, through="write")
    step = sampling(j.layout.ppm, PLAIN_READ_PPM)
    assert np.array_equal(ctx.grey, png_grey(written.data, False, step))
