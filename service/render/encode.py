"""Stage 2: the symbol. segno is the encoder of record (version, mode, error correction,
codewords, module placement); the hot part, choosing the data mask, is done here in numpy.

``plan_version`` is the cheap part (no matrix): it runs while validating, so content that cannot
fit is refused before the first byte. ``encode`` builds the matrix on a render worker:

1. segno writes the segments, pads them and computes the error correction codewords;
2. the codeword bits go to the module positions segno's own placement gives for that version
   (computed once per version and cached, with the function patterns and mask patterns);
3. all eight masks are applied and scored at once (ISO/IEC 18004 7.8.3: N1 runs, N2 blocks,
   N3 finder-like patterns, N4 balance) and the lowest score wins, as in segno;
4. format and version information are placed where segno places them.

The result equals ``segno.make_qr(content, error=level, version=version, mask=chosen,
boost_error=False)`` module for module (a test holds it to that). Always a full QR code, never
Micro QR, and never a silently raised error level.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from segno import consts, encoder

__all__ = ["BYTE_CAPACITY_V40", "CapacityError", "choose_mask", "encode", "plan_version",
           "symbol_size"]

BYTE_CAPACITY_V40 = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}
_UNSET = 0x2  # segno's value for a module not yet written


class CapacityError(ValueError):
    pass


_versions: dict[tuple[int, int, str], int] = {}


def plan_version(content: str | bytes, level: str) -> int:
    """The smallest QR version holding ``content`` at ``level``; CapacityError if none does.

    For one segment without ECI the answer depends only on the mode segno picks and the
    character count, so it is computed by segno once per (mode, count, level) and remembered:
    validating 5 000 items must not build 5 000 bit streams.
    """
    data, length, _ = encoder.data_to_bytes(content, None)
    key = (encoder.find_mode(data), length, level)
    found = _versions.get(key)
    if found is not None:
        return found
    segments = encoder.prepare_data(content, None, None)
    try:
        version = int(encoder.find_version(segments, encoder.normalize_errorlevel(level),
                                           eci=False, micro=False))
    except encoder.DataOverflowError:
        size = len(content.encode("utf-8") if isinstance(content, str) else content)
        raise CapacityError(
            f"Content of {size} bytes does not fit in a QR code at error correction "
            f"{level} (at most {BYTE_CAPACITY_V40[level]} bytes of binary data); shorten it "
            "or choose a lower error_correction.") from None
    if len(_versions) < 100_000:
        _versions[key] = version
    return version


def symbol_size(version: int) -> int:
    return 17 + 4 * version


def _message_bits(content: str | bytes, error: int, version: int) -> np.ndarray:
    """Data and error correction codewords, interleaved, as bits (segno's encoder)."""
    segments = encoder.prepare_data(content, None, None)
    buff = encoder.Buffer()
    ver_range = encoder.version_range(version)
    for segment in segments:
        encoder.write_segment(buff, segment, None, ver_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][error]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    bits = encoder.make_final_message(version, error, buff).getbits()
    return np.frombuffer(bits, dtype=np.uint8)


class _Template:
    """Everything about a version that does not depend on the content."""

    def __init__(self, version: int) -> None:
        n = symbol_size(version)
        matrix = encoder.make_matrix(n, n)
        encoder.add_finder_patterns(matrix, n, n)
        encoder.add_alignment_patterns(matrix, n, n)
        grid = np.array([list(row) for row in matrix], dtype=np.uint8)
        self.region = grid == _UNSET  # data modules: the ones masks apply to
        self.base = np.where(self.region, 0, grid).astype(np.uint8)
        # segno's placement, recorded by letting it place unique values
        order = [list(row) for row in matrix]
        count = int(self.region.sum())
        encoder.add_codewords(order, list(range(3, 3 + count)), version)
        positions = np.array(order, dtype=np.int64)
        flat = np.full(count, -1, dtype=np.int64)
        where = np.flatnonzero(self.region)
        flat[positions.ravel()[where] - 3] = where
        self.order = flat
        funcs = encoder.get_data_mask_functions(False)
        i, j = np.indices((n, n))
        self.masks = np.stack([np.vectorize(f)(i, j).astype(bool) & self.region for f in funcs])
        self.n = n


@lru_cache(maxsize=41)
def _template(version: int) -> _Template:
    return _Template(version)


@lru_cache(maxsize=41 * 4 * 8)
def _format_and_version(version: int, error: int, mask: int) -> tuple[np.ndarray, np.ndarray]:
    """Where segno writes format (and version) information, and what."""
    n = symbol_size(version)
    probe = tuple(bytearray([_UNSET] * n) for _ in range(n))
    encoder.add_format_info(probe, version, error, mask)
    encoder.add_version_info(probe, version)
    grid = np.array([list(row) for row in probe], dtype=np.uint8)
    where = np.flatnonzero(grid != _UNSET)
    return where, grid.ravel()[where]


def _runs_score(m: np.ndarray) -> np.ndarray:
    """N1 along the last axis: 3 + (k - 5) for each run of k >= 5 same-colour modules."""
    same = m[..., 1:] == m[..., :-1]
    five = same[..., :-3] & same[..., 1:-2] & same[..., 2:-1] & same[..., 3:]
    first = five.copy()
    first[..., 1:] &= ~same[..., :-4]
    return five.sum(axis=(-2, -1)) + 2 * first.sum(axis=(-2, -1))


def _finder_like_score(m: np.ndarray) -> np.ndarray:
    """N3 along the last axis: 1011101 with 4 light modules (or the border) on a side."""
    n = m.shape[-1]
    p = np.pad(m, [(0, 0)] * (m.ndim - 1) + [(4, 4)])
    w = n - 6  # possible starts of the 7-module core
    core = np.ones(m.shape[:-1] + (w,), dtype=bool)
    for k, bit in enumerate((1, 0, 1, 1, 1, 0, 1)):
        core &= p[..., 4 + k:4 + k + w] == bit
    before = np.ones_like(core)
    after = np.ones_like(core)
    for k in range(4):
        before &= p[..., k:k + w] == 0
        after &= p[..., 11 + k:11 + k + w] == 0
    return 40 * (core & (before | after)).sum(axis=(-2, -1))


def choose_mask(unmasked: np.ndarray, masks: np.ndarray) -> tuple[int, np.ndarray]:
    """Apply the eight masks at once; the lowest penalty wins (the first, on a tie)."""
    candidates = unmasked[None] ^ masks.view(np.uint8)
    n = unmasked.shape[0]
    cols = candidates.transpose(0, 2, 1)
    n1 = _runs_score(candidates) + _runs_score(cols)
    a = candidates[:, :-1, :-1]
    n2 = 3 * ((a == candidates[:, 1:, :-1]) & (a == candidates[:, :-1, 1:])
              & (a == candidates[:, 1:, 1:])).sum(axis=(1, 2))
    n3 = _finder_like_score(candidates) + _finder_like_score(cols)
    dark = candidates.sum(axis=(1, 2), dtype=np.int64)
    n4 = 10 * (np.abs(dark * 100 / (n * n) - 50) // 5).astype(np.int64)
    scores = n1 + n2 + n3 + n4
    best = int(np.argmin(scores))
    return best, candidates[best]


def encode(content: str | bytes, level: str, version: int) -> np.ndarray:
    """The module matrix, True for dark, without quiet zone."""
    error = encoder.normalize_errorlevel(level)
    tpl = _template(version)
    flat = tpl.base.ravel().copy()
    flat[tpl.order] = _message_bits(content, error, version)
    mask, matrix = choose_mask(flat.reshape(tpl.n, tpl.n), tpl.masks)
    where, values = _format_and_version(version, error, mask)
    out = matrix.ravel()
    out[where] = values
    return out.reshape(tpl.n, tpl.n).astype(bool)
