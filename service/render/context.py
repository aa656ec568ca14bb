"""What one render carries from stage to stage (``pipeline.STAGES``): the job, and what each
stage has made of it so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .color import is_inverted
from .geometry import Geometry
from .job import RenderJob
from .overlay import Box
from .scene import Scene

if TYPE_CHECKING:
    from .writers import Writer

__all__ = ["NO_ASSETS", "Context", "Drawing", "Indexed"]


@dataclass(frozen=True, slots=True)
class Indexed:
    """A plain pattern's cells over a logo or background image, as the palette writer's layers
    stage merges them over the prepared light layer (``layers.layered``): 8-bit indices into
    an RGBA palette (one row per entry)."""

    indices: np.ndarray
    colours: np.ndarray


# what the geometry stage makes (a plain pattern's cells, or a styled code's scene), and what a
# writer's layers stage may make of it
Drawing = Geometry | Scene | Indexed
NO_ASSETS: Mapping[str, bytes] = {}


@dataclass(slots=True)
class Context:
    job: RenderJob
    writer: Writer  # looked up once, by what the job needs (``writers.needs``)
    compression: int
    assets: Mapping[str, bytes]
    read: bool  # whether the read-back reads it: writers hand over what they drew
    inverted: bool  # light modules on dark: read as its negative
    repaired: str | None = None  # what was changed so that it reads (``repairs``), if anything
    # encode: the symbol's modules (True for dark), with the job's data mask (None: the best)
    symbol: np.ndarray | None = None
    # clear zone: where the logo goes, and the modules to draw (its zone made light, if asked)
    box: Box | None = None
    dark: np.ndarray | None = None
    # geometry
    drawing: Drawing | None = None
    # layers: what the writer puts under and over the modules (the palette writer: the
    # drawing ``Indexed`` over the prepared light layer; an SVG: its elements)
    below: str = ""
    above: str = ""
    # write
    data: bytes = b""
    grey: np.ndarray | None = None  # the pixels the read-back reads, where handed over
    # read-back
    reads: bool | None = None

    @classmethod
    def of(
        cls,
        job: RenderJob,
        writer: Writer,
        compression: int = 0,
        assets: Mapping[str, bytes] = NO_ASSETS,
        read: bool = False,
        inverted: bool | None = None,
    ) -> Context:
        if inverted is None:
            inverted = is_inverted(job.fg, job.bg)
        return cls(job, writer, compression, assets, read, inverted)
