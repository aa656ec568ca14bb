"""Soft edges (``shapes.soft_edge``): where they are drawn, that they keep every outline where
it was, and that tiles still join. How much they buy after JPEG is measured by
``test_robustness`` (zbar's JPEG column of the separated patterns)."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from service.items.validation import check_item
from service.limits.plans import PLANS
from service.render.context import Context
from service.render.eyes import BORDERS
from service.render.patterns import PATTERNS, SEPARATED, tiles
from service.render.pipeline import run
from service.render.scene import Scene
from service.render.shapes import RoundRect, coverage, soft_edge
from service.schema import GenerateRequest
from tests.readers import check_image


def _run(fmt: str, data: str, **fields: object) -> Context:
    """One item through validation and the pipeline, 3 in x 300 dpi."""
    item = msgspec.convert(
        {"data": data, "size_inches": 3, "dpi": 300, **fields, "format": fmt}, GenerateRequest
    )
    return run(check_item(item, PLANS["agency"]).job)


def _scene(fmt: str, **fields: object) -> Scene:
    drawing = _run(fmt, "https://example.com/soft", **fields).drawing
    assert isinstance(drawing, Scene)
    return drawing


def test_soft_edges_are_3_5_px_from_7_px_per_module_and_2_5_from_11() -> None:
    """In pixels at every scale: JPEG's ringing is pixel-scale (8 px blocks)."""
    got = [soft_edge(p) for p in (4, 6, 7, 9, 10, 11, 20, 31, 300)]
    assert got == [0, 0, 3.5, 3.5, 3.5, 2.5, 2.5, 2.5, 2.5]
    inverted = [soft_edge(p, inverted=True) for p in (6, 7, 10, 11, 31)]
    assert inverted == [0, 0, 0, 2.5, 2.5]  # plain below 11 px per module


def test_a_soft_edge_keeps_the_outline_and_the_ink() -> None:
    """A vertical edge at x = 10.5 px: the plain edge ramps over about one pixel, the soft one
    over ``edge`` pixels, both centred on the outline; the ink is the same."""
    shape = RoundRect(-20, -20, 10.5, 28)
    plain = coverage(shape, 21, 8, 1).astype(int)[4]
    soft = coverage(shape, 21, 8, 1, edge=2.5).astype(int)[4]
    assert plain.sum() == soft.sum() == 10 * 255 + 128
    assert (plain[:10] == 255).all() and (plain[11:] == 0).all()
    partial = soft[(soft > 0) & (soft < 255)]
    assert len(partial) == 3 and soft[9] + soft[11] == 255 and soft[10] == 128


@pytest.mark.parametrize("pattern", sorted(name for name, p in PATTERNS.items() if p.soft))
def test_soft_tiles_join_their_neighbours_as_plain_ones(pattern: str) -> None:
    """Within half the ramp of a tile's side the soft tile is the plain one, so a whole
    square beside a joined bar leaves no seam; inside, the ramp is wider (more partly inked
    pixels) and the ink about the same."""
    ppm = 27
    plain, soft = tiles(pattern, ppm), tiles(pattern, ppm, soft_edge(ppm))
    side = np.zeros((ppm, ppm), dtype=bool)
    side[:1, :] = side[-1:, :] = side[:, :1] = side[:, -1:] = True
    assert (plain[:, side] == soft[:, side]).all()
    drawn = plain.reshape(len(plain), -1).sum(axis=1) > 0
    partly = ((soft > 0) & (soft < 255)).sum(axis=(1, 2))
    assert (partly[drawn] >= ((plain > 0) & (plain < 255)).sum(axis=(1, 2))[drawn]).all()
    assert partly.sum() > ((plain > 0) & (plain < 255)).sum()
    ink = plain.astype(int).sum(axis=(1, 2))
    assert np.allclose(soft.astype(int).sum(axis=(1, 2)), ink, rtol=0.03, atol=255)


def test_the_frame_pattern_keeps_its_plain_edge() -> None:
    """A ramp would fill the 1 px gap between its ring and centre."""
    assert not PATTERNS["frame"].soft and "frame" in SEPARATED
    assert (tiles("frame", 27) == tiles("frame", 27, soft_edge(27))).all()


@pytest.mark.parametrize("frame", ["none", "rounded"])
@pytest.mark.parametrize("border", sorted(BORDERS))
def test_a_png_scene_draws_every_border_soft_and_an_svg_none(border: str, frame: str) -> None:
    """The circle border too, now that its corners let it keep the bilinear copy's floor
    with a soft edge (eyes.BORDERS); the centres stay plain."""
    centre = "circle" if border == "circle" else "square"
    fields = {
        "pattern": "dot",
        "eye_border_shape": border,
        "eye_center_shape": centre,
        "frame_style": frame,
    }
    png, svg = _scene("png", **fields), _scene("svg", **fields)
    ppm = png.layout.ppm
    assert png.edge == soft_edge(ppm) > 0 and svg.edge == 0
    borders = [p for p in png.pieces if isinstance(p.key, tuple) and p.key[0] == "border"]
    assert len(borders) == 3
    assert all(p.edge == soft_edge(ppm) for p in borders)
    assert all(p.edge == 0 for p in png.pieces if p not in borders)  # centres, frame
    assert all(p.edge == 0 for p in svg.pieces)  # the twin the read-back decodes: plain


def _border_edges(sc: Scene) -> set[float]:
    return {p.edge for p in sc.pieces if isinstance(p.key, tuple) and p.key[0] == "border"}


@pytest.mark.parametrize(
    "inks,soft",
    [
        ({"eye_color": "#C62828"}, False),  # paler than the black modules: plain
        ({"eye_border_color": "#575757"}, False),
        ({"eye_center_color": "#575757"}, True),  # the border is the modules' black
        ({"color": "#575757", "eye_color": "#000000"}, True),  # darker than the modules
        ({"color": "#C62828", "eye_color": "#C62828"}, True),  # the same ink
        ({"gradient_from": "#B00020", "gradient_to": "#1A237E", "eye_color": "#B00020"}, False),
        ({"gradient_from": "#B00020", "gradient_to": "#1A237E", "eye_color": "#000000"}, True),
        ({"color": "#FFFFFF", "background": "#0D47A1", "eye_color": "#90CAF9"}, False),
    ],
)
def test_an_eye_border_paler_than_the_modules_keeps_a_plain_edge(
    inks: dict[str, object], soft: bool
) -> None:
    """A soft border whose ink stands out less than the modules' fell under zbar's edge
    threshold after JPEG 30 (scene._soft_border: eyes in #C62828 over black modules read 11
    of 88 contents soft, 67 plain); one that stands out as much keeps its soft edge."""
    sc = _scene("png", pattern="squares", eye_border_shape="rounded", **inks)
    assert _border_edges(sc) == {soft_edge(sc.layout.ppm) if soft else 0.0}
    assert sc.edge == soft_edge(sc.layout.ppm)  # the patterns' soft edge is not concerned


@pytest.mark.parametrize("pattern", sorted(SEPARATED))
def test_soft_edged_codes_read_back_clean(pattern: str) -> None:
    """The delivered PNG, soft edges and all, decodes to its content (independent decoder)."""
    text = f"https://example.com/soft/{pattern}"
    data = _run("png", text, pattern=pattern, eye_border_shape="rounded").data
    check_image("png", data, text, 3, 300)
