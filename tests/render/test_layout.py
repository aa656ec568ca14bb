from __future__ import annotations

import pytest

from service.render.layout import LayoutError, plan_layout


@pytest.mark.parametrize(
    "size,dpi,modules,qz",
    [(3, 300, 25, 4), (0.5, 300, 21, 0), (15, 600, 177, 16), (1.37, 211, 33, 2)],
)
def test_whole_pixels_per_module_and_the_margin_absorbs_the_rest(size, dpi, modules, qz) -> None:
    layout = plan_layout(size, dpi, modules, qz)
    assert layout.pixels == round(size * dpi)
    assert layout.ppm == layout.pixels // (modules + 2 * qz) >= 2
    margin_before = layout.offset
    margin_after = layout.pixels - layout.offset - layout.symbol_pixels
    assert min(margin_before, margin_after) >= qz * layout.ppm
    assert abs(margin_before - margin_after) <= 1


def test_fewer_than_one_pixel_per_module_is_refused() -> None:
    """One pixel per module is drawn (the read-back decides whether it scans); less cannot
    be drawn at all."""
    with pytest.raises(LayoutError, match="0.88 px per module"):
        plan_layout(0.5, 72, 33, 4)
    assert plan_layout(0.5, 72, 25, 4).ppm == 1  # 36 px: 25 modules and a 4-module margin
    assert plan_layout(0.5, 72, 14, 2).ppm == 2
