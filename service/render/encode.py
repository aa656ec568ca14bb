"""Stage 2: the symbol. segno is the encoder of record (version, mode, error correction,
codewords, module placement); the hot part, choosing the data mask, is done here in numpy.

``plan_version`` is the cheap part (no matrix): it runs while validating, so content that cannot
fit is refused before the first byte. ``encode`` builds the matrix on a render worker:

1. the data codewords as segno writes them (ASCII text in byte mode, every URL, written here
   in a few integer operations; anything else by segno's own segments and padding);
   ``codewords`` adds the error correction codewords and interleaves the blocks exactly as
   segno does, in numpy;
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

from .codewords import block_of, message_of

__all__ = [
    "BYTE_CAPACITY_V40",
    "CapacityError",
    "choose_mask",
    "data_bits",
    "data_codewords",
    "encode",
    "function_modules",
    "hidden_correctable",
    "mask_order",
    "penalties",
    "place_message",
    "plan_version",
    "prepare",
    "symbol_size",
]

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
        version = int(
            encoder.find_version(
                segments, encoder.normalize_errorlevel(level), eci=False, micro=False
            )
        )
    except encoder.DataOverflowError:
        size = len(content.encode("utf-8") if isinstance(content, str) else content)
        raise CapacityError(
            f"Content of {size} bytes does not fit in a QR code at error correction "
            f"{level} (at most {BYTE_CAPACITY_V40[level]} bytes of binary data); shorten it "
            "or choose a lower error_correction."
        ) from None
    if len(_versions) < 100_000:
        _versions[key] = version
    return version


def symbol_size(version: int) -> int:
    return 17 + 4 * version


def data_bits(content: str | bytes, error: int, version: int) -> bytearray:
    """The data codewords as bits (segments, terminator, padding), as segno writes them."""
    buff = encoder.Buffer()
    ver_range = encoder.version_range(version)
    for segment in encoder.prepare_data(content, None, None):
        encoder.write_segment(buff, segment, None, ver_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][error]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    return buff.getbits()


_BYTE_COUNT_BITS = consts.CHAR_COUNT_INDICATOR_LENGTH[consts.MODE_BYTE]
_PADS = b"\xec\x11" * 1500  # more than version 40's 2 956 data codewords


def _byte_mode(content: str | bytes) -> bytes | None:
    """The bytes of ``content`` when segno would write it as one byte-mode segment in its
    default encoding and we can tell cheaply (ASCII text that is neither all digits nor all
    alphanumeric; ASCII bytes are never Kanji pairs); None otherwise."""
    if not isinstance(content, str) or not content.isascii():
        return None
    raw = content.encode("ascii")
    if not raw or raw.isdigit() or encoder.is_alphanumeric(raw):
        return None
    return raw


def data_codewords(content: str | bytes, error: int, version: int) -> np.ndarray:
    """The data codewords (uint8) exactly as segno writes them: mode, count, data,
    terminator, padding bits and pad codewords. The common case, ASCII text in byte mode
    (every URL), is written here in a few big-integer operations (segno spends ~0.1 ms on
    its bit buffer); anything else by segno (``data_bits``). Equal to segno's for every
    version and level (tests/render/test_encode.py)."""
    count = consts.SYMBOL_CAPACITY[version][error] // 8
    raw = _byte_mode(content)
    if raw is not None:
        count_bits = _BYTE_COUNT_BITS[encoder.version_range(version)]
        used = 4 + count_bits + 8 * len(raw)
        if used <= 8 * count and not len(raw) >> count_bits:  # else segno's error or bits
            value = (consts.MODE_BYTE << count_bits | len(raw)) << 8 * len(raw)
            value |= int.from_bytes(raw)
            tail = min(8 * count - used, consts.TERMINATOR_LENGTH[None])  # terminator zeros
            # zeros to the byte: segno writes a whole zero byte when the stream is already
            # aligned (valid: a reader stops at the terminator), and so do we, to equal it
            tail += 8 - (used + tail) % 8
            body = (value << tail).to_bytes((used + tail) // 8, "big")[:count]
            return np.frombuffer(body + _PADS[: count - len(body)], dtype=np.uint8)
    bits = np.frombuffer(data_bits(content, error, version), dtype=np.uint8)
    return np.packbits(bits)[:count]


def _message_bits(content: str | bytes, error: int, version: int) -> np.ndarray:
    """Data and error correction codewords, interleaved, as bits: the data codewords as
    segno writes them, ``codewords.message_of`` adds the error correction as segno would."""
    return message_of(data_codewords(content, error, version), version, error)


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


def function_modules(version: int) -> np.ndarray:
    """True where a module of ``version`` is a function pattern's (finders, separators,
    timing, alignment, format and version areas): the modules no mask touches."""
    return ~_template(version).region


def prepare(version: int) -> None:
    """Build and cache ``version``'s tables (placement, masks) before the first render."""
    _template(version)


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


_PAD = 4  # light modules (the quiet zone) on each side of a line, for N3


@lru_cache(maxsize=64)
def _frame(n: int, masks: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines of all masks, rows then columns, each between 4 pad modules a side: the pads
    alternate 2 and 3, so they equal neither colour nor each other (no run crosses them)."""
    width = n + 2 * _PAD
    frame = np.empty((2 * masks, n, width), dtype=np.uint8)
    frame[..., :_PAD] = frame[..., n + _PAD :] = (2, 3, 2, 3)
    starts = np.zeros((masks, n, width), dtype=bool)
    starts[:, : n - 1] = True  # a 2x2 block may start on any row but the last
    return frame, starts.ravel()


def penalties(unmasked: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eight masked symbols and their penalty scores (ISO/IEC 18004 7.8.3: N1 runs, N2
    blocks, N3 finder-like patterns, N4 balance), in a few passes over one flat array.

    Every line of every mask (rows, then columns) is laid end to end between pads, so each
    rule is a handful of shifted comparisons of the whole array rather than a loop per mask
    and direction: numpy's cost here is per call, not per module.
    """
    cand = unmasked[None] ^ masks.view(np.uint8)
    m, n = cand.shape[0], cand.shape[1]
    width = n + 2 * _PAD
    frame, block_rows = _frame(n, m)
    frame = frame.copy()
    frame[:m, :, _PAD : _PAD + n] = cand
    frame[m:, :, _PAD : _PAD + n] = cand.transpose(0, 2, 1)
    f = frame.ravel()
    size = f.size
    # N1: 3 + (k - 5) per run of k >= 5: one per 5-window of one colour, plus 2 per run
    same = f[1:] == f[:-1]
    five = np.zeros(size, dtype=bool)
    np.logical_and(same[:-3], same[1:-2], out=five[:-4])
    five[:-4] &= same[2:-1]
    five[:-4] &= same[3:]
    first = five.copy()
    first[1:] &= ~five[:-1]
    # N2: 3 per 2x2 block of one colour (rows only: the first half)
    half = m * n * width
    block = np.zeros(half, dtype=bool)
    np.logical_and(same[: half - width], same[width:half], out=block[: half - width])
    block[: half - width] &= f[: half - width] == f[width:half]
    block &= block_rows
    # N3: 40 per 1011101 with 4 light modules (or the border) before or after it
    dark = f == 1
    light = ~dark
    core = np.zeros(size, dtype=bool)
    w = size - 6
    np.logical_and(dark[:w], light[1 : w + 1], out=core[:w])
    for k, is_dark in ((2, True), (3, True), (4, True), (5, False), (6, True)):
        core[:w] &= (dark if is_dark else light)[k : k + w]
    light4 = light[:-3] & light[1:-2] & light[2:-1] & light[3:]
    finder = np.zeros(size, dtype=bool)
    s = slice(_PAD, size - 10)  # every start a 1011101 and 4 modules after it fit
    np.logical_or(light4[: size - 10 - _PAD], light4[_PAD + 7 :], out=finder[s])
    finder[s] &= core[s]
    lines = np.stack([five, first, finder]).reshape(3, 2 * m, -1)
    counts = np.add.reduce(lines, axis=2, dtype=np.int64)
    per_mask = counts[:, :m] + counts[:, m:]
    n2 = np.add.reduce(block.reshape(m, -1), axis=1, dtype=np.int64)
    dark_count = np.add.reduce(cand.reshape(m, -1), axis=1, dtype=np.int64)
    n4 = 10 * (np.abs(dark_count * 100 / (n * n) - 50) // 5).astype(np.int64)
    total = per_mask[0] + 2 * per_mask[1] + 3 * n2 + 40 * per_mask[2] + n4
    return cand, total


def place_message(content: str | bytes, error: int, version: int) -> np.ndarray:
    """The function patterns and the message's bits in their modules, before any mask."""
    tpl = _template(version)
    flat = tpl.base.ravel().copy()
    flat[tpl.order] = _message_bits(content, error, version)
    return flat.reshape(tpl.n, tpl.n)


def choose_mask(unmasked: np.ndarray, masks: np.ndarray) -> tuple[int, np.ndarray]:
    """Apply the eight masks at once; the lowest penalty wins (the first, on a tie)."""
    cand, total = penalties(unmasked, masks)
    best = int(np.argmin(total))
    return best, cand[best]


def mask_order(content: str | bytes, level: str, version: int) -> list[int]:
    """The eight masks from the lowest penalty to the highest: every one gives a valid
    symbol; the order is only a preference (the read-back's repairs try the others)."""
    error = encoder.normalize_errorlevel(level)
    _, total = penalties(place_message(content, error, version), _template(version).masks)
    return [int(m) for m in np.argsort(total, kind="stable")]


def encode(content: str | bytes, level: str, version: int, mask: int | None = None) -> np.ndarray:
    """The module matrix, True for dark, without quiet zone; ``mask`` None: the one with the
    lowest penalty."""
    error = encoder.normalize_errorlevel(level)
    unmasked = place_message(content, error, version)
    masks = _template(version).masks
    if mask is None:
        mask, matrix = choose_mask(unmasked, masks)
    else:
        matrix = unmasked ^ masks[mask].view(np.uint8)
    where, values = _format_and_version(version, error, mask)
    out = matrix.ravel()
    out[where] = values
    return out.reshape(matrix.shape).astype(bool)


# misdecode protection codewords (ISO/IEC 18004 Table 9, note p): not available to correct
_MISDECODE = {(1, "L"): 3, (1, "M"): 2, (1, "Q"): 1, (1, "H"): 1, (2, "L"): 2, (3, "L"): 1}


@lru_cache(maxsize=4096)
def hidden_correctable(
    version: int, level: str, rows: tuple[int, int], cols: tuple[int, int]
) -> bool:
    """Whether every content survives all the modules in ``rows`` x ``cols`` (half-open
    module ranges) being wrong: no finder, separator, timing or format module is among them,
    and no block has more codewords there than its error correction corrects, (ecc - p) / 2
    errors. Then how a logo hides them cannot depend on the content."""
    n = symbol_size(version)
    (r0, r1), (c0, c1) = rows, cols
    if r0 >= r1 or c0 >= c1:
        return True
    if r0 < 9 or c0 < 9 or r1 > n - 8 or c1 > n - 8:
        return False  # finders, separators, format information and the timing patterns
    zone = np.zeros((n, n), dtype=bool)
    zone[r0:r1, c0:c1] = True
    tpl = _template(version)
    bits = np.flatnonzero(zone.ravel()[tpl.order])
    error = encoder.normalize_errorlevel(level)
    blocks, ecc = block_of(version, error)
    words = np.unique(bits // 8)
    words = words[words < len(blocks)]  # the remainder bits carry nothing
    worst = int(np.bincount(blocks[words]).max()) if len(words) else 0
    return 2 * worst <= ecc - _MISDECODE.get((version, level), 0)
