"""The final message (error correction, interleaving, remainder bits) equals segno's."""

from __future__ import annotations

import random

import numpy as np
import pytest
from segno import consts, encoder

from service.render.codewords import final_message


@pytest.mark.parametrize("version", range(1, 41))
def test_every_version_and_level_matches_segnos_final_message(version: int) -> None:
    rng = random.Random(version)
    for error in range(4):
        capacity = consts.SYMBOL_CAPACITY[version][error]
        for extra in (0, 8):  # segno may hand over a codeword past the capacity: it is dropped
            buff = encoder.Buffer()
            buff.extend([rng.randrange(2) for _ in range(capacity + extra)])
            reference = np.frombuffer(
                bytes(encoder.make_final_message(version, error, buff).getbits()), np.uint8
            )
            assert np.array_equal(final_message(buff.getbits(), version, error), reference)
