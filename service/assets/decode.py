"""Safe decoding of fetched or uploaded images (CONTRACT section 6).

The type is judged by the bytes, never by a name or a Content-Type: PNG, JPEG, WebP or GIF
(first frame). BMP, TIFF, SVG, PDF and the rest are refused with a message that says why. Only
those four libvips buffer loaders may run in this process (``harden``), each called by name
with ``fail_on="error"``; width and height are read from the header before a pixel is decoded
(at most 50 megapixels). The result is normalised once: sRGB with alpha, at most 1 024 px for a
logo (2 048 px for a background), re-encoded as PNG, so render workers only ever load our own
PNGs.
"""

from __future__ import annotations

import hashlib
import threading

import msgspec
import pyvips

__all__ = ["KINDS", "Asset", "AssetError", "Kind", "harden", "load_asset"]

MAX_PIXELS = 50_000_000
MAX_SIDE = 16_384
MAX_ASPECT = 10  # longer side / shorter side


class Kind(msgspec.Struct, frozen=True):
    field: str
    what: str
    max_bytes: int
    max_side: int
    square: bool  # normalised to its centre square


KINDS = {
    "logo": Kind("logo_url", "logo", 2_000_000, 1024, False),
    "background": Kind("bg_image_url", "background image", 5_000_000, 2048, True),
}


class AssetError(ValueError):
    """The bytes are not an image we render; ``str(exc)`` is the message for the client."""


class Asset(msgspec.Struct, frozen=True):
    sha256: str  # of the bytes as fetched or uploaded (and the kind): in the render cache key
    data: bytes  # normalised: an sRGB + alpha PNG (JPEG for an opaque background), at most
    # max_side px on its longer side
    width: int
    height: int


_LOADERS = {
    "png": ("pngload_buffer", "VipsForeignLoadPngBuffer"),
    "jpeg": ("jpegload_buffer", "VipsForeignLoadJpegBuffer"),
    "webp": ("webpload_buffer", "VipsForeignLoadWebpBuffer"),
    "gif": ("gifload_buffer", "VipsForeignLoadNsgifBuffer"),
}
_REFUSED = (
    ((b"BM",), "BMP"),
    ((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF"),
    ((b"%PDF",), "PDF"),
    ((b"\x00\x00\x01\x00",), "ICO"),
    ((b"8BPS",), "PSD"),
)
_WHY = {
    "BMP": "libvips' BMP loader is not hardened for untrusted input",
    "TIFF": "libvips' TIFF loader is not hardened for untrusted input",
}
_hardened = False


_harden_lock = threading.Lock()


def harden() -> None:
    """Let only the four buffer loaders above run in this process (and nothing libvips marks
    untrusted). Idempotent."""
    global _hardened
    if _hardened:
        return
    with _harden_lock:  # a second caller must not block all loaders again while the first
        if _hardened:  # has already unblocked ours and is decoding
            return
        pyvips.block_untrusted_set(True)
        pyvips.operation_block_set("VipsForeignLoad", True)
        for _, class_name in _LOADERS.values():
            pyvips.operation_block_set(class_name, False)
        _hardened = True


def sniff(data: bytes) -> str:
    """png, jpeg, webp or gif, judged by the first bytes; AssetError for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    for magics, name in _REFUSED:
        if data.startswith(magics):
            why = _WHY.get(name, "it is not one of the accepted formats")
            raise AssetError(
                f"is {name}, which this service does not accept ({why}); use PNG, JPEG, WebP or GIF"
            )
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) or b"<svg" in head:
        raise AssetError(
            "is SVG, which this service does not accept (vector images can "
            "reference other resources); use PNG, JPEG, WebP or GIF"
        )
    if data[4:8] == b"ftyp":
        raise AssetError(
            "is HEIF/AVIF, which this service does not accept; use PNG, JPEG, WebP or GIF"
        )
    if not data:
        raise AssetError("is empty")
    raise AssetError("is not a PNG, JPEG, WebP or GIF image")


def load_asset(data: bytes, kind: Kind) -> Asset:
    """Check and normalise ``data``; AssetError says what is wrong (prefix it with the field
    and URL). CPU work in libvips: call from a thread."""
    harden()
    if len(data) > kind.max_bytes:
        raise AssetError(
            f"is larger than the {kind.max_bytes / 1_000_000:g} MB limit for a {kind.what}"
        )
    fmt = sniff(data)
    loader = getattr(pyvips.Image, _LOADERS[fmt][0])
    try:
        image = loader(data, access="sequential", fail_on="error")
        width, height = image.width, image.height  # from the header: nothing decoded yet
        if width * height > MAX_PIXELS:
            raise AssetError(
                f"is {width} x {height} px, over the limit of {MAX_PIXELS // 1_000_000} megapixels"
            )
        if width < 1 or height < 1:
            raise AssetError("has no pixels")
        if max(width, height) > MAX_SIDE:
            raise AssetError(f"is {width} x {height} px, over the limit of {MAX_SIDE} px a side")
        if max(width, height) > MAX_ASPECT * min(width, height):
            raise AssetError(
                f"is {width} x {height} px, more than {MAX_ASPECT} times longer than it is wide"
            )
        if kind.square:  # a background is covered to the (square) symbol: keep its centre
            side = min(width, height)
            image = image.crop((width - side) // 2, (height - side) // 2, side, side)
        if max(image.width, image.height) > kind.max_side:
            image = image.thumbnail_image(kind.max_side, height=kind.max_side, size="down")
        if image.interpretation not in ("srgb",) or image.format != "uchar":
            image = image.colourspace("srgb")
        if not image.hasalpha():
            image = image.bandjoin(255)
        image = image.cast("uchar").copy_memory()
        if kind.square and image[3].min() == 255:  # an opaque photo: a JPEG is far smaller
            out = image[:3].jpegsave_buffer(Q=92, keep="none")
        else:
            out = image.pngsave_buffer(compression=1, keep="none")
    except pyvips.Error as exc:
        detail = str(exc).strip().splitlines()
        reason = next(
            (line for line in detail[1:] if line.strip()), detail[0] if detail else "unknown error"
        )
        raise AssetError(
            f"could not be decoded as {fmt.upper()} ({reason.strip()[:160]})"
        ) from None
    # the hash names the bytes and what they are used as (a logo and a background made from
    # the same file are different images)
    digest = hashlib.sha256(kind.field.encode() + b"\0" + data).hexdigest()
    return Asset(digest, out, image.width, image.height)
