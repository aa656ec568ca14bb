from __future__ import annotations

import pytest

from service.render.encode import CapacityError, encode, plan_version, symbol_size


def test_version_is_segnos_and_never_micro_or_boosted() -> None:
    import segno

    for content, level in [("1", "L"), ("https://example.com/1", "M"), ("x" * 300, "Q")]:
        version = plan_version(content, level)
        reference = segno.make_qr(content, error=level, boost_error=False)
        assert version == reference.version
        matrix = encode(content, level, version)
        assert matrix.shape == (symbol_size(version),) * 2
        assert reference.error == level


def test_capacity_is_checked_per_level() -> None:
    assert plan_version("x" * 2331, "M") == 40
    with pytest.raises(CapacityError, match="at most 2331 bytes"):
        plan_version("x" * 2332, "M")
    with pytest.raises(CapacityError, match="error correction H"):
        plan_version(b"\x00" * 1274, "H")


def test_fast_encoder_builds_segnos_symbol_module_for_module() -> None:
    """Our mask choice, then segno's own symbol for that mask: they must be identical, and the
    choice must agree with segno's in nearly every case (segno's N3 scan skips some overlaps)."""
    import random
    import string

    import numpy as np
    import segno

    rng = random.Random(7)
    alphabets = [string.digits, string.ascii_uppercase + " $%*+-./:", string.printable,
                 "äöüß€漢字"]
    agree = total = 0
    for _ in range(160):
        content = "".join(rng.choice(rng.choice(alphabets))
                          for _ in range(rng.choice([1, 7, 28, 90, 300, 700])))
        level = rng.choice("LMQH")
        try:
            version = plan_version(content, level)
        except CapacityError:
            continue
        ours = encode(content, level, version)
        matches = [m for m in range(8) if np.array_equal(
            np.array(segno.make_qr(content, error=level, version=version, mask=m,
                                   boost_error=False).matrix, dtype=bool), ours)]
        assert len(matches) == 1, (content, level)
        reference = segno.make_qr(content, error=level, boost_error=False)
        assert reference.version == version  # the remembered (mode, count, level) answers
        total += 1
        agree += reference.mask == matches[0]
    assert total > 120 and agree >= 0.95 * total
