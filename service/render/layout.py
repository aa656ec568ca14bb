"""Stage 3: where the symbol goes in the image.

Modules get a whole number of pixels (sharp edges, and every module the same size, which
scanners like); the image is exactly size_inches x dpi pixels square and the margin around the
symbol, at least the requested quiet zone, absorbs the remainder.
"""

from __future__ import annotations

import msgspec

__all__ = ["Layout", "MIN_PIXELS_PER_MODULE", "LayoutError", "plan_layout"]

MIN_PIXELS_PER_MODULE = 2


class LayoutError(ValueError):
    pass


class Layout(msgspec.Struct, frozen=True, array_like=True):
    pixels: int  # image width and height
    modules: int  # symbol width in modules
    ppm: int  # pixels per module
    offset: int  # pixels before the symbol's first module, on each axis

    @property
    def symbol_pixels(self) -> int:
        return self.modules * self.ppm


def pixels_for(size_inches: float, dpi: int) -> int:
    return max(1, round(size_inches * dpi))


def plan_layout(size_inches: float, dpi: int, modules: int, quiet_zone: int) -> Layout:
    pixels = pixels_for(size_inches, dpi)
    span = modules + 2 * quiet_zone
    ppm = pixels // span
    if ppm < MIN_PIXELS_PER_MODULE:
        raise LayoutError(
            f"A {modules}x{modules} symbol with a quiet zone of {quiet_zone} needs at least "
            f"{MIN_PIXELS_PER_MODULE * span} px, but {size_inches:g} in at {dpi} dpi is {pixels} "
            f"px ({pixels / span:.2f} px per module); raise size_inches or dpi, shorten the "
            "data, or lower error_correction.")
    return Layout(pixels=pixels, modules=modules, ppm=ppm,
                  offset=(pixels - modules * ppm) // 2)
