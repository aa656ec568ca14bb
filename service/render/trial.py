"""The trial decode: a logo or background image is accepted only if a code drawn with it
still scans (CONTRACT section 6: decode, do not trust a formula).

One small render per distinct (assets, ratio, clear zone, level, version, pattern, colours,
quiet zone), at up to 6 px per module, read back by zxing-cpp (a runtime dependency for this
reason) and compared with the exact content. Runs on a render worker.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import numpy as np
import pyvips
import zxingcpp

from .job import RenderJob
from .layout import Layout

__all__ = ["TRIAL_PPM", "trial_decodes", "trial_job"]

TRIAL_PPM = 6


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
    return msgspec.structs.replace(job, layout=small, format="png", dpi=72,
                                   size_inches=pixels / 72, style=style)


def _grey(data: bytes, inverted: bool) -> np.ndarray:
    image = pyvips.Image.pngload_buffer(data)
    if image.hasalpha():
        image = image.flatten(background=[0, 0, 0] if inverted else [255, 255, 255])
    image = image.colourspace("b-w")[0].cast("uchar")
    pixels = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                        shape=[image.height, image.width])
    return 255 - pixels if inverted else pixels


def _grey_pixels(rgba: np.ndarray, inverted: bool) -> np.ndarray:
    """RGBA over white paper (black for an inverted code), as grey (Rec. 601 luma)."""
    colour = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    paper = 0.0 if inverted else 255.0
    flat = colour * alpha + paper * (1 - alpha)
    grey = flat @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    pixels = np.clip(grey + 0.5, 0, 255).astype(np.uint8)
    return 255 - pixels if inverted else pixels


def trial_decodes(job: RenderJob, inverted: bool, assets: Mapping[str, bytes]) -> bool:
    from .pipeline import logo_pixels, render  # the pipeline imports this stage's callers

    small = trial_job(job)
    rgba = logo_pixels(small, assets)  # the common case, without writing and reading a PNG
    grey = (_grey_pixels(rgba, inverted) if rgba is not None
            else _grey(render(small, 0, assets).data, inverted))
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
    if len(found) != 1:
        return False
    if isinstance(job.content, bytes):
        return found[0].bytes == job.content
    return found[0].text == job.content
