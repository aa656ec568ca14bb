"""Stage 3: where the symbol goes in the image.

Modules get a whole number of pixels (sharp edges, and every module the same size, which
scanners like); the image is exactly size_inches x dpi pixels square and the margin around the
symbol, at least the requested quiet zone, absorbs the remainder.
"""

from __future__ import annotations

import msgspec

__all__ = ["MIN_PIXELS_PER_MODULE", "FrameBox", "Layout", "LayoutError", "frame_box", "plan_layout"]

MIN_PIXELS_PER_MODULE = 1  # smaller than this cannot be drawn; the read-back decides the rest


class LayoutError(ValueError):
    pass


class Layout(msgspec.Struct, frozen=True, array_like=True):
    pixels: int  # image width and height
    modules: int  # symbol width in modules
    ppm: int  # pixels per module
    offset: int  # pixels before the symbol's first module, on each axis
    dy: int = 0  # with a frame: how much lower the symbol sits than ``offset``

    @property
    def symbol_pixels(self) -> int:
        return self.modules * self.ppm


class FrameBox(msgspec.Struct, frozen=True, array_like=True):
    """Where a frame draws, in pixels: its line width, and the caption band (y0, y1) or
    (0, 0) without one."""

    line: int
    band_y0: int
    band_y1: int

    @property
    def band(self) -> int:
        return self.band_y1 - self.band_y0


def pixels_for(size_inches: float, dpi: int) -> int:
    return max(1, round(size_inches * dpi))


def frame_box(pixels: int, frame_style: str, has_label: bool) -> FrameBox | None:
    """The frame's line and caption band; the symbol gets what is left (the image keeps its
    physical size). Banners always have their band; box and rounded only with a caption."""
    if frame_style == "none":
        return None
    line = max(2, round(pixels * 0.02))
    band = round(pixels * 0.14) if has_label or frame_style.startswith("banner") else 0
    if frame_style == "banner-top":
        return FrameBox(line, line, line + band)
    return FrameBox(line, pixels - line - band, pixels - line)


def plan_layout(
    size_inches: float, dpi: int, modules: int, quiet_zone: int, frame: FrameBox | None = None
) -> Layout:
    pixels = pixels_for(size_inches, dpi)
    span = modules + 2 * quiet_zone
    if frame is not None:
        return _framed(size_inches, dpi, pixels, modules, quiet_zone, frame)
    ppm = pixels // span
    if ppm < MIN_PIXELS_PER_MODULE:
        raise LayoutError(
            f"A {modules}x{modules} symbol with a quiet zone of {quiet_zone} needs at least "
            f"{MIN_PIXELS_PER_MODULE * span} px, but {size_inches:g} in at {dpi} dpi is {pixels} "
            f"px ({pixels / span:.2f} px per module); raise size_inches or dpi, shorten the "
            "data, or lower error_correction."
        )
    return Layout(pixels=pixels, modules=modules, ppm=ppm, offset=(pixels - modules * ppm) // 2)


def _framed(
    size_inches: float, dpi: int, pixels: int, modules: int, quiet_zone: int, frame: FrameBox
) -> Layout:
    """The symbol and its quiet zone centred in what the frame leaves."""
    span = modules + 2 * quiet_zone
    width = pixels - 2 * frame.line
    height = width - frame.band
    ppm = min(width, height) // span
    if ppm < MIN_PIXELS_PER_MODULE:
        raise LayoutError(
            f"With its frame, a {modules}x{modules} symbol with a quiet zone of {quiet_zone} "
            f"needs at least {MIN_PIXELS_PER_MODULE * span} px of the {pixels} px of "
            f"{size_inches:g} in at {dpi} dpi; raise size_inches or dpi, or drop the frame."
        )
    sym = modules * ppm
    x = frame.line + (width - sym) // 2
    top = frame.band_y1 if frame.band_y0 == frame.line and frame.band else frame.line
    y = top + (height - sym) // 2
    return Layout(pixels=pixels, modules=modules, ppm=ppm, offset=x, dy=y - x)
