"""The render pipeline: the stages in order, for one validated item.

content (validation) -> encode -> geometry -> PNG or SVG writer. Runs on a render thread; the
checksums the ZIP and the manifest need are computed here too, off the event loop.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable

from .encode import encode
from .geometry import Geometry, shape
from .job import RenderJob, RenderResult
from .png import write_png
from .svg import write_svg

__all__ = ["WRITERS", "render"]

Writer = Callable[[Geometry, RenderJob, int], bytes]

WRITERS: dict[str, Writer] = {
    "png": lambda g, j, z: write_png(g, j.layout, j.fg, j.bg, j.dpi, z),
    "svg": lambda g, j, z: write_svg(g, j.layout, j.fg, j.bg, j.size_inches),
}


def render(job: RenderJob, compression: int = 0) -> RenderResult:
    start = time.perf_counter()
    dark = encode(job.content, job.level, job.version)
    data = WRITERS[job.format](shape(dark, job.pattern), job, compression)
    crc = zlib.crc32(data)
    digest = hashlib.sha256(data).hexdigest()
    return RenderResult(data, crc, digest, time.perf_counter() - start)
