"""What a validated item hands to a render thread: everything decided, nothing left to check."""

from __future__ import annotations

import msgspec

from .color import RGBA
from .layout import Layout
from .overlay import Overlay

__all__ = ["RenderJob", "RenderResult"]


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


class RenderResult(msgspec.Struct, frozen=True):
    data: bytes
    crc32: int
    sha256: str
    seconds: float

    @property
    def duration_ms(self) -> int:
        return round(self.seconds * 1000)
