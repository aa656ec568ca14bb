"""Stage 4: the shapes, one description for both writers.

A symbol's geometry is an n x n array of cells: ``LIGHT`` for a light module, else the set of
corners of that dark module that are rounded (bits TL, TR, BR, BL), plus the corner radius as a
fraction of a module. The PNG writer turns each cell into a pixel tile, the SVG writer turns
runs of cells into path segments, so both draw the same shapes. Which patterns have such
cells is said by their entry in the one pattern table, ``patterns.PATTERNS`` (``plain``).
"""

from __future__ import annotations

import msgspec
import numpy as np

__all__ = [
    "BL",
    "BR",
    "LIGHT",
    "TL",
    "TR",
    "Geometry",
    "corners",
    "rounded_cells",
    "square_cells",
]

TL, TR, BR, BL = 1, 2, 4, 8
LIGHT = 16


class Geometry(msgspec.Struct, frozen=True):
    cells: np.ndarray  # uint8, n x n
    radius: float  # corner radius, in modules (0: square corners)
    # the finders' soft edge in a PNG, in pixels (``shapes.soft_edge``; the PNG writer draws
    # it, the SVG writer has its rasteriser's edges): 0, plain
    finder_edge: float = 0.0


def _finder_mask(n: int) -> np.ndarray:
    """The three 7x7 finder patterns, drawn square whatever the module pattern."""
    mask = np.zeros((n, n), dtype=bool)
    mask[:7, :7] = mask[:7, n - 7 :] = mask[n - 7 :, :7] = True
    return mask


def corners(dark: np.ndarray) -> np.ndarray:
    """The rounded-corner bits of every module (the rule of the rounded and liquid patterns):
    a dark corner is rounded when both modules beside it (not the diagonal) are light, so
    neighbours join along full edges and a lone module is a disc."""
    n, m = dark.shape
    p = np.zeros((n + 2, m + 2), dtype=dark.dtype)  # np.pad(dark, 1), without its per-call cost
    p[1:-1, 1:-1] = dark
    up, down = ~p[:-2, 1:-1], ~p[2:, 1:-1]
    left, right = ~p[1:-1, :-2], ~p[1:-1, 2:]
    return ((up & left) * TL | (up & right) * TR | (down & right) * BR | (down & left) * BL).astype(
        np.uint8
    )


def square_cells(dark: np.ndarray) -> Geometry:
    return Geometry(np.where(dark, 0, LIGHT).astype(np.uint8), 0.0)


def rounded_cells(dark: np.ndarray) -> Geometry:
    """Rounded corners, the finder patterns kept square."""
    cells = corners(dark)
    cells[_finder_mask(dark.shape[0])] = 0
    return Geometry(np.where(dark, cells, LIGHT).astype(np.uint8), 0.5)
