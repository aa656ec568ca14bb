"""Stage 2a: the final message, ISO/IEC 18004 7.5-7.6, as segno's ``make_final_message``
builds it (a test holds every version and level to that), in a few numpy calls.

segno writes the data codewords (segments, terminator, padding); this splits them into blocks,
adds each block's Reed-Solomon error correction codewords, interleaves and appends the
remainder bits. Reed-Solomon encoding is linear over GF(256): a block's error correction is the
XOR, over its positions i, of the error correction of "codeword d_i at position i, zeros
elsewhere". One table per block shape holds those for every position and byte value, so a
batch of blocks costs one gather and one XOR-reduce instead of a Python loop per codeword.
"""

from __future__ import annotations

from functools import lru_cache

import msgspec
import numpy as np
from segno import consts

__all__ = ["block_of", "final_message"]

_EXP = np.array(consts.GALIOS_EXP, dtype=np.int64)  # 510 entries: no modulo needed
_LOG = np.array(consts.GALIOS_LOG, dtype=np.int64)


class _Shape(msgspec.Struct, frozen=True):
    """A version and level's blocks, and the codeword order of the final message."""

    groups: tuple[tuple[int, int], ...]  # (blocks, data codewords per block), in order
    ecc: int  # error correction codewords per block
    order: np.ndarray  # final position -> index into data codewords + error codewords
    remainder: int  # zero bits after the last codeword
    data: int  # data codewords in all


@lru_cache(maxsize=41 * 4)
def _shape(version: int, error: int) -> _Shape:
    infos = consts.ECC[version][error]
    ecc = infos[0].num_total - infos[0].num_data
    sizes = [info.num_data for info in infos for _ in range(info.num_blocks)]
    starts = np.cumsum([0, *sizes])
    data = [starts[b] + i for i in range(max(sizes)) for b, size in enumerate(sizes) if i < size]
    total = int(starts[-1])
    parity = [total + b * ecc + i for i in range(ecc) for b in range(len(sizes))]
    remainder = (
        7
        if 2 <= version <= 6
        else 3
        if 14 <= version <= 20 or 28 <= version <= 34
        else 4
        if 21 <= version <= 27
        else 0
    )
    return _Shape(
        tuple((info.num_blocks, info.num_data) for info in infos),
        ecc,
        np.array(data + parity, dtype=np.intp),
        remainder,
        total,
    )


@lru_cache(maxsize=41 * 4)
def block_of(version: int, error: int) -> tuple[np.ndarray, int]:
    """For each codeword of the final message, the block it belongs to; and the error
    correction codewords per block."""
    shape = _shape(version, error)
    sizes = [length for blocks, length in shape.groups for _ in range(blocks)]
    starts = np.cumsum([0, *sizes])
    source = shape.order
    block = np.where(
        source < shape.data,
        np.searchsorted(starts, source, side="right") - 1,
        (source - shape.data) // max(1, shape.ecc),
    )
    return block.astype(np.intp), shape.ecc


@lru_cache(maxsize=32)
def _table(length: int, ecc: int) -> np.ndarray:
    """(length, 256, ecc): the error correction of byte c alone at data position i."""
    gen = _EXP[np.array(consts.GEN_POLY[ecc])]  # x^ecc = sum gen[n] x^(ecc-1-n), mod g
    rem = gen.copy()
    powers = np.empty((length, ecc), dtype=np.int64)  # row j: x^(ecc+j) mod g
    for j in range(length):
        powers[j] = rem
        carry = rem[0]
        rem = np.append(rem[1:], 0)
        if carry:
            rem ^= _EXP[_LOG[carry] + _LOG[gen]]
    base = powers[::-1]  # position i carries x^(ecc + length-1-i)
    c = np.arange(256)
    logs = _LOG[c][None, :, None] + _LOG[base][:, None, :]
    table = np.where((c[None, :, None] > 0) & (base[:, None, :] > 0), _EXP[logs], 0)
    return table.astype(np.uint8)


def final_message(data_bits: bytearray, version: int, error: int) -> np.ndarray:
    """segno's data codeword bits in, the final message's bits out (uint8 0/1)."""
    # segno may write a few bits past the capacity (its terminator and byte padding); like
    # segno's blocks, take only the data codewords the symbol holds
    data = np.packbits(np.frombuffer(data_bits, dtype=np.uint8))
    return message_of(data[: _shape(version, error).data], version, error)


def message_of(data: np.ndarray, version: int, error: int) -> np.ndarray:
    """The data codewords (uint8, exactly the symbol's count) in, the final message's bits
    out (uint8 0/1): error correction added, blocks interleaved, remainder bits appended."""
    shape = _shape(version, error)
    parts = [data]
    at = 0
    for blocks, length in shape.groups:
        chunk = data[at : at + blocks * length].reshape(blocks, length)
        at += blocks * length
        gathered = _table(length, shape.ecc)[np.arange(length), chunk]
        parts.append(np.bitwise_xor.reduce(gathered, axis=1).ravel())
    codewords = np.concatenate(parts)[shape.order]
    bits = np.unpackbits(codewords)
    return (
        np.concatenate([bits, np.zeros(shape.remainder, dtype=np.uint8)])
        if shape.remainder
        else bits
    )
