"""What a validated item hands to a render thread: everything decided, nothing left to check."""

from __future__ import annotations

import msgspec

from .color import RGBA
from .layout import Layout
from .overlay import Overlay

__all__ = ["RenderJob", "RenderResult", "Style"]


class Style(msgspec.Struct, frozen=True, array_like=True):
    """Everything beyond a plain pattern: eyes, gradient, frame (colours resolved)."""

    eye_border: str = "square"
    eye_center: str = "square"
    eye_border_color: RGBA | None = None  # None: the modules' colour
    eye_center_color: RGBA | None = None
    outer_frame: bool = False
    outer_frame_color: RGBA | None = None
    gradient: tuple[RGBA, RGBA] | None = None  # top and bottom colour of the dark modules
    frame_style: str = "none"
    frame_color: RGBA | None = None
    frame_label: str | None = None


class RenderJob(msgspec.Struct, frozen=True, kw_only=True):
    content: str | bytes
    level: str  # L, M, Q or H, as encoded
    version: int
    layout: Layout
    pattern: str
    fg: RGBA
    bg: RGBA
    format: str  # png or svg
    size_inches: float
    dpi: int
    overlay: Overlay | None = None  # a logo or background image, by content hash
    style: Style | None = None  # None: the plain pattern, square eyes, no frame
    mask: int | None = None  # None: the data mask with the lowest penalty


class RenderResult(msgspec.Struct, frozen=True):
    """``verified``: the image was read back to its exact content (never shipped otherwise);
    ``repaired``: what was changed so that it reads ("mask 5", "solid modules"), if
    anything."""

    data: bytes
    crc32: int
    sha256: str
    seconds: float
    verified: bool = False
    repaired: str | None = None

    @property
    def duration_ms(self) -> int:
        return round(self.seconds * 1000)
