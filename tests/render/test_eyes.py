"""The eye centres' geometry against zbar's finder test (``eyes.CENTRES``): a scan line
through a finder passes only where light : ink : light inside the ring's hole is within half
a module of 1 : 3 : 1, so a centre must keep the square's extent along a band of rows and of
columns. The band measured here (0.3 module of margin) predicted zbar's reads after the
phone-like capture: square 3.0 modules (20 of 22), circle 2.2 (20), true circle 1.5 (13),
old sunburst 1.3 (11), star 0.8 (9)."""

from __future__ import annotations

import numpy as np
import pytest

from service.render.eyes import CENTRES
from service.render.shapes import RoundRect, Shape, coverage, seal_points

_S = 100  # samples per module


def _band(shape: Shape, margin: float = 0.3) -> float:
    """Modules of rows (and of columns: the smaller) whose run of centre ink inside the
    ring's 5-module hole passes zbar's pair test with ``margin`` to spare."""
    ink = coverage(shape, 7 * _S, 7 * _S, _S) >= 128
    bands = []
    for grid in (ink, ink.T):
        good = 0
        for row in grid[_S : 6 * _S]:
            hole = np.flatnonzero(row[_S : 6 * _S])
            if len(hole) == 0 or hole[-1] - hole[0] + 1 != len(hole):
                continue  # no ink, or more than one run
            left, width = hole[0] / _S, len(hole) / _S
            right = 5 - left - width
            good += all(
                lo + margin <= v < hi - margin
                for v, lo, hi in (
                    (left, 0.5, 1.5),
                    (right, 0.5, 1.5),
                    (left + width, 3.5, 4.5),
                    (width + right, 3.5, 4.5),
                )
            )
        bands.append(good / _S)
    return min(bands)


def test_the_square_centre_keeps_its_whole_band() -> None:
    assert _band(CENTRES["square"]()) == pytest.approx(3.0, abs=0.02)


def test_a_true_circle_keeps_too_little_band() -> None:
    """The reference for what reads badly: a true circle of radius 1.5 (zbar 13 of 22)."""
    assert _band(RoundRect(2, 2, 5, 5, (1.5,) * 4)) < 1.6


@pytest.mark.parametrize("name", sorted(set(CENTRES) - {"star"}))
def test_every_centre_but_the_star_keeps_a_band_zbar_reads(name: str) -> None:
    assert _band(CENTRES[name]()) >= 2.2


def test_the_star_is_the_centre_without_one() -> None:
    """The five-pointed star: the known gap (tests/render/test_robustness._star_centre)."""
    assert _band(CENTRES["star"]()) < 1.0


def test_a_seal_is_spikes_around_a_rounded_square() -> None:
    points = seal_points(0, 0, 1.5, 0.1, 20)
    assert len(points) == 40
    radii = np.hypot(*np.array(points).T)
    assert points[0] == pytest.approx((0, -1.65))  # the first tip points up, 10 % out
    assert radii[1::2].max() < radii[0::2].min()  # every notch inside every tip
    # a rounded square, not a circle: tips near the diagonals reach further than those on
    # the axes, up to the superellipse's corner
    assert 1.5 * 1.1 * 1.1 < radii.max() <= 1.5 * 1.1 * 2 ** (1 / 4)
