"""Colours: parsing the contract's spellings, and the contrast rule that keeps codes scannable.

The rule (CONTRACT section 2, [ext]): when both ``color`` and ``background`` are opaque, their
WCAG 2 contrast ratio must be at least ``MIN_CONTRAST`` (3:1); a light colour on a darker
background is allowed (an inverted code) and reported as ``inverted``. With any transparency
the paper is unknown and nothing is assumed.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "MIN_CONTRAST",
    "RGBA",
    "contrast_ratio",
    "invalid_color",
    "is_inverted",
    "parse_background",
    "parse_color",
]

RGBA = tuple[int, int, int, int]
MIN_CONTRAST = 3.0
_HEX = re.compile(r"#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?")
_NAMED: dict[str, RGBA] = {"black": (0, 0, 0, 255), "white": (255, 255, 255, 255)}
TRANSPARENT: RGBA = (0, 0, 0, 0)


def invalid_color(value: str) -> str:
    return f"Invalid color '{value}'. Use 'black', 'white', or hex like #RRGGBB."


@lru_cache(maxsize=1024)
def parse_color(value: str) -> RGBA:
    named = _NAMED.get(value.lower())
    if named:
        return named
    m = _HEX.fullmatch(value)
    if not m:
        raise ValueError(invalid_color(value))
    rgb = bytes.fromhex(m.group(1))
    return (rgb[0], rgb[1], rgb[2], int(m.group(2), 16) if m.group(2) else 255)


def parse_background(value: str) -> RGBA:
    return TRANSPARENT if value.lower() == "transparent" else parse_color(value)


def _luminance(c: RGBA) -> float:
    def lin(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])


@lru_cache(maxsize=1024)
def contrast_ratio(a: RGBA, b: RGBA) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@lru_cache(maxsize=1024)
def is_inverted(fg: RGBA, bg: RGBA) -> bool:
    """Light modules meant for a darker ground: darker than them if opaque, else dark paper
    (the modules contrast more with black than with white)."""
    if bg[3] == 255:
        return _luminance(fg) > _luminance(bg)
    return contrast_ratio(fg, (0, 0, 0, 255)) > contrast_ratio(fg, (255, 255, 255, 255))
