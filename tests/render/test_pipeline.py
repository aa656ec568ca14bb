"""The pipeline: one ordered list of stages over one context; a repair re-runs only the stages
whose inputs it changed, and draws what a whole render of the repaired job draws."""

from __future__ import annotations

import msgspec
import pytest

from service.items.validation import validate_item
from service.limits.plans import PLANS
from service.render.job import RenderJob
from service.render.pipeline import STAGES, draw, render, repairs, run


def job_of(**item: object) -> RenderJob:
    body = {"data": "https://example.com/pipeline", "size_inches": 1, "dpi": 300, **item}
    return validate_item(msgspec.json.encode(body), PLANS["agency"]).job


def test_the_stages_in_order() -> None:
    assert [s.name for s in STAGES] == [
        "encode",
        "clear zone",
        "geometry",
        "layers",
        "write",
        "read-back",
    ]


def test_a_repair_keeps_the_symbol_when_it_changes_only_the_drawing() -> None:
    job = job_of(pattern="dot", eye_shape="circle")
    first = run(job, read=True)
    solid = dict(repairs(job))["solid modules"]
    again = run(solid, read=True, after=first)
    assert again.symbol is first.symbol and again.dark is first.dark
    assert again.drawing is not first.drawing
    assert again.data == run(solid, read=True).data and again.reads
    other_mask = next(v for label, v in repairs(job) if label and label.startswith("mask"))
    assert run(other_mask, after=first).symbol is not first.symbol


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("style", [{"pattern": "squares"}, {}, {"pattern": "star"}])
def test_a_render_ships_what_draw_draws(fmt: str, style: dict[str, object]) -> None:
    job = job_of(format=fmt, **style)
    result = render(job)
    assert result.verified and result.repaired is None
    assert result.data == draw(job)
    assert run(job, through="geometry").data == b""  # nothing written before the writer
