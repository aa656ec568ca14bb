"""Stage 2: the symbol. segno is the encoder of record (version, mode, error correction).

``plan_version`` is the cheap part (no matrix, no mask): it runs while validating, so content
that cannot fit is refused before the first byte. ``encode`` builds the matrix on a render
thread. Always a full QR code (never Micro QR) and never a silently raised error level.
"""

from __future__ import annotations

import numpy as np
import segno
from segno import encoder

__all__ = ["BYTE_CAPACITY_V40", "CapacityError", "encode", "plan_version", "symbol_size"]

BYTE_CAPACITY_V40 = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}


class CapacityError(ValueError):
    pass


def plan_version(content: str | bytes, level: str) -> int:
    """The smallest QR version holding ``content`` at ``level``; CapacityError if none does."""
    segments = encoder.prepare_data(content, None, None)
    try:
        return int(encoder.find_version(segments, encoder.normalize_errorlevel(level),
                                        eci=False, micro=False))
    except encoder.DataOverflowError:
        size = len(content.encode("utf-8") if isinstance(content, str) else content)
        raise CapacityError(
            f"Content of {size} bytes does not fit in a QR code at error correction "
            f"{level} (at most {BYTE_CAPACITY_V40[level]} bytes of binary data); shorten it "
            "or choose a lower error_correction.") from None


def symbol_size(version: int) -> int:
    return 17 + 4 * version


def encode(content: str | bytes, level: str, version: int) -> np.ndarray:
    """The module matrix, True for dark, without quiet zone."""
    qr = segno.make_qr(content, error=level, version=version, boost_error=False)
    n = symbol_size(version)
    flat = np.frombuffer(b"".join(qr.matrix), dtype=np.uint8)
    return flat.reshape(n, n).astype(bool)
