"""The trial decode: a logo or background image is accepted only if a code drawn with it
still scans (CONTRACT section 6: decode, do not trust a formula).

One render per distinct (content, assets, ratio, clear zone, level, version, pattern,
colours, quiet zone) at its real scale up to ``READ_PPM`` pixels per module (the scale the
read-back reads every image at: a logo that reads at 8 px per module can fail at 6), read
back by zxing-cpp (``readback``) and compared with the exact content. Runs on a render
worker.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from .job import RenderJob
from .layout import Layout
from .readback import READ_PPM, decodes, grey_pixels, png_grey

__all__ = ["TRIAL_PPM", "trial_decodes", "trial_job"]

TRIAL_PPM = READ_PPM


def trial_job(job: RenderJob) -> RenderJob:
    """The job small, without its frame (which only takes room around the symbol)."""
    layout = job.layout
    ppm = min(layout.ppm, TRIAL_PPM)
    quiet = min(layout.offset // layout.ppm, 4)
    pixels = (layout.modules + 2 * quiet) * ppm
    small = Layout(pixels=pixels, modules=layout.modules, ppm=ppm, offset=quiet * ppm)
    style = job.style
    if style is not None and style.frame_style != "none":
        style = msgspec.structs.replace(style, frame_style="none", frame_label=None)
    return msgspec.structs.replace(
        job, layout=small, format="png", dpi=72, size_inches=pixels / 72, style=style
    )


def trial_decodes(job: RenderJob, inverted: bool, assets: Mapping[str, bytes]) -> bool:
    from .pipeline import logo_pixels, render  # the pipeline imports this stage's callers

    small = trial_job(job)
    rgba = logo_pixels(small, assets)  # the common case, without writing and reading a PNG
    if rgba is not None:
        grey = grey_pixels(rgba, inverted)
    else:  # at most READ_PPM pixels per module: read at its real scale
        grey = png_grey(render(small, 0, assets, verify=False).data, inverted)
    return decodes(grey, job.content, inverted)
