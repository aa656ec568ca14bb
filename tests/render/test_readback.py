"""The read-back stage: our PNG decoder agrees with libvips, every render is decoded before it
is returned, and what does not read is repaired or never returned."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest
import pyvips

from service.items.validation import validate_item
from service.limits.plans import PLANS
from service.render.pipeline import apply_repair, draw, render, repairs
from service.render.readback import palette_png, png_grey
from tests.readers import check_image


def job_of(**item: object):  # type: ignore[no-untyped-def]
    body = {"data": "https://example.com/readback", "size_inches": 1, "dpi": 300, **item}
    return validate_item(msgspec.json.encode(body), PLANS["agency"]).job


WRITERS = [
    {"pattern": "squares"},
    {"pattern": "rounded"},
    {"pattern": "dot"},
    {"pattern": "star", "eye_shape": "circle"},
    {"color": "#1A237E80"},
    {"gradient_from": "#000000", "gradient_to": "#0D47A1"},
    {"color": "#FFFFFF", "background": "#0D47A1"},
    {"frame_style": "box"},
]


@pytest.mark.parametrize("style", WRITERS)
def test_our_png_decoder_agrees_with_libvips(style: dict[str, object]) -> None:
    data = draw(job_of(**style))
    found = palette_png(data)
    assert found is not None
    indices, colours = found
    image = pyvips.Image.new_from_buffer(data, "")
    if not image.hasalpha():
        image = image.bandjoin(255)
    theirs = np.ndarray(
        buffer=image.cast("uchar").write_to_memory(),
        dtype=np.uint8,
        shape=[image.height, image.width, 4],
    )
    ours = colours[indices]
    visible = theirs[..., 3] > 0  # fully transparent pixels carry no colour
    assert np.array_equal(ours[visible], theirs[visible])
    assert np.array_equal(ours[..., 3], theirs[..., 3])
    assert png_grey(data, False).shape == theirs.shape[:2]


def test_only_our_ownpalette_pngs_take_the_fast_path() -> None:
    assert palette_png(draw(job_of(pattern="squares"))) is not None
    rgba = pyvips.Image.black(40, 40, bands=4).pngsave_buffer()
    assert palette_png(rgba) is None


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_every_render_is_read_back(fmt: str) -> None:
    for style in WRITERS:
        job = job_of(format=fmt, **style)
        result = render(job)
        assert result.verified and result.repaired is None, style
        check_image(
            fmt,
            result.data,
            "https://example.com/readback",
            1,
            300,
            inverted=style.get("color") == "#FFFFFF",
        )


def test_the_audits_unreadable_styles_read() -> None:
    """Shipped with 200 but unreadable by zxing-cpp before: the frame pattern at 10 px per
    module and halftone at 2 px per module. Now each reads as drawn: their geometry was fixed
    (issue 14 point 4: frame modules bridged, whole squares below 4 px per module)."""
    frame = job_of(
        data="https://example.com/a1",
        pattern="frame",
        size_inches=1.25,
        background="#FFFFFF",
        error_correction="M",
    )
    halftone = job_of(
        data="https://example.com/a1",
        pattern="halftone",
        size_inches=0.5,
        dpi=150,
        background="#FFFFFF",
    )
    for job, size, dpi in ((frame, 1.25, 300), (halftone, 0.5, 150)):
        for fmt in ("png", "svg"):
            result = render(msgspec.structs.replace(job, format=fmt))
            assert result.verified and result.repaired is None
            check_image(fmt, result.data, "https://example.com/a1", size, dpi)


def test_repairs_try_every_other_mask_then_solid_modules_then_square_eyes() -> None:
    job = job_of(pattern="dot", eye_shape="circle")
    labels = [label for label, _ in repairs(job)]
    assert labels[0] is None and len(labels) == 10
    masks = [int(label.split()[1]) for label in labels[1:8]]
    assert len(set(masks)) == 7  # every mask but the one chosen first
    assert labels[8:] == ["solid modules", "solid modules, square eyes"]
    solid = apply_repair(job, "solid modules, square eyes")
    assert solid.pattern == "squares" and solid.style is not None
    assert (solid.style.eye_border, solid.style.eye_center) == ("square", "square")
    assert solid.mask is None


def test_eyes_with_inks_of_their_own_are_last_drawn_in_the_modules_colour() -> None:
    """A translucent eye border on black (found by Hypothesis: shipped, and resvg's raster of
    the SVG did not read): no mask reads; the eyes in the modules' colour do."""
    job = job_of(
        data="https://example.com/",
        size_inches=0.5,
        dpi=150,
        format="svg",
        quiet_zone=0,
        color="white",
        background="black",
        eye_color="white",
        eye_border_color="#C8C8C880",
    )
    labels = [label for label, _ in repairs(job)]
    assert labels[-2:] == [
        "eyes in the modules' colour",
        "solid modules, square eyes in the modules' colour",
    ]
    result = render(job)
    assert result.verified and result.repaired == "eyes in the modules' colour"
    check_image("svg", result.data, "https://example.com/", 0.5, 150, inverted=True)
    plain = apply_repair(job, "eyes in the modules' colour")
    assert plain.style is not None and plain.style.eye_border_color is None
    assert plain.style.eye_center_color is None and plain.pattern == job.pattern


def test_a_code_that_reads_in_no_form_is_never_returned() -> None:
    job = job_of(color="#FEFEFE", background="#FFFFFF")
    result = render(job)
    assert not result.verified and result.data == b""


def test_one_pixel_per_module_draws_solid_modules() -> None:
    job = job_of(data="https://x.com", size_inches=0.5, dpi=72, pattern="liquid")
    assert job.layout.ppm == 1
    for fmt in ("png", "svg"):
        result = render(msgspec.structs.replace(job, format=fmt))
        assert result.verified and result.repaired == "solid modules"
        check_image(fmt, result.data, "https://x.com", 0.5, 72)
