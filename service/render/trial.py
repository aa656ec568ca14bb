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

from .encode import hidden_correctable
from .job import RenderJob
from .layout import Layout
from .overlay import logo_box, zone
from .readback import READ_PPM, decodes, png_grey

__all__ = ["TRIAL_PPM", "content_free", "trial_decodes", "trial_job"]

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
    from .pipeline import overlay_grey, render  # the pipeline imports this stage's callers

    small = trial_job(job)
    grey = overlay_grey(small, assets, inverted)  # the common case, without writing a PNG
    if grey is None:  # at most READ_PPM pixels per module: read at its real scale
        grey = png_grey(render(small, 0, assets, verify=False).data, inverted)
    return decodes(grey, job.content, inverted)


def content_free(job: RenderJob) -> bool:
    """Whether one trial stands for every content of ``job``'s drawing: a logo alone (no
    background image), whose modules (cleared with their margin, or covered) could all be
    wrong in any content and still be repaired by the error correction
    (``encode.hidden_correctable``), at the item's scale and at the trial's. Then whether the
    drawing reads no longer depends on the content; the read-back still reads every item."""
    overlay = job.overlay
    if overlay is None or overlay.background is not None or overlay.logo is None:
        return False
    if overlay.logo_size is None:
        return False
    margin = 1 if overlay.clear_zone else 0
    for layout in (job.layout, trial_job(job).layout):
        box = logo_box(layout, overlay.logo_ratio, *overlay.logo_size)
        rows, cols = zone(layout, box, margin)
        if not hidden_correctable(job.version, job.level, rows, cols):
            return False
    return True
