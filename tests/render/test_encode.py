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
