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
    alphabets = [string.digits, string.ascii_uppercase + " $%*+-./:", string.printable, "äöüß€漢字"]
    agree = total = 0
    for _ in range(160):
        content = "".join(
            rng.choice(rng.choice(alphabets)) for _ in range(rng.choice([1, 7, 28, 90, 300, 700]))
        )
        level = rng.choice("LMQH")
        try:
            version = plan_version(content, level)
        except CapacityError:
            continue
        ours = encode(content, level, version)
        matches = [
            m
            for m in range(8)
            if np.array_equal(
                np.array(
                    segno.make_qr(
                        content, error=level, version=version, mask=m, boost_error=False
                    ).matrix,
                    dtype=bool,
                ),
                ours,
            )
        ]
        assert len(matches) == 1, (content, level)
        reference = segno.make_qr(content, error=level, boost_error=False)
        assert reference.version == version  # the remembered (mode, count, level) answers
        total += 1
        agree += reference.mask == matches[0]
    assert total > 120 and agree >= 0.95 * total


def _reference_penalties(symbols):  # type: ignore[no-untyped-def]
    """ISO/IEC 18004 7.8.3, plainly, one symbol at a time (as segno scores, with N3 counting
    each 1011101 once whether the light modules are before it, after it or both)."""
    out = []
    for s in symbols:
        n = len(s)
        lines = [list(r) for r in s] + [list(c) for c in zip(*s)]
        n1 = n3 = 0
        for line in lines:
            run = 1
            for a, b in zip(line, [*line[1:], None]):
                if a == b:
                    run += 1
                    continue
                if run >= 5:
                    n1 += 3 + run - 5
                run = 1
            padded = [0] * 4 + line + [0] * 4
            for i in range(n - 6):
                if padded[i + 4 : i + 11] == [1, 0, 1, 1, 1, 0, 1] and (
                    padded[i : i + 4] == [0] * 4 or padded[i + 11 : i + 15] == [0] * 4
                ):
                    n3 += 40
        n2 = sum(
            3
            for r in range(n - 1)
            for c in range(n - 1)
            if s[r][c] == s[r + 1][c] == s[r][c + 1] == s[r + 1][c + 1]
        )
        dark = sum(map(sum, s))
        out.append(n1 + n2 + n3 + 10 * int(abs(dark * 100 / (n * n) - 50) // 5))
    return out


@pytest.mark.parametrize("version", [1, 2, 7, 14, 27])
def test_mask_penalties_match_a_plain_reference(version: int) -> None:
    """The flat-array scorer gives each of the eight masks the score the rules give."""
    import numpy as np

    from service.render.encode import _template, penalties

    rng = np.random.default_rng(version)
    tpl = _template(version)
    for density in (0.1, 0.5, 0.9):
        unmasked = np.where(tpl.region, rng.random(tpl.region.shape) < density, tpl.base).astype(
            np.uint8
        )
        symbols, scores = penalties(unmasked, tpl.masks)
        assert list(scores) == _reference_penalties(symbols.tolist())


def _reads(matrix, content: str) -> bool:  # type: ignore[no-untyped-def]
    import numpy as np
    import zxingcpp

    pixels = np.pad(np.where(matrix, 0, 255).astype(np.uint8), 4, constant_values=255)
    pixels = np.repeat(np.repeat(pixels, 4, axis=0), 4, axis=1)
    found = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
    return len(found) == 1 and found[0].text == content


@pytest.mark.parametrize(("version", "level"), [(3, "H"), (4, "M"), (7, "Q"), (10, "L")])
def test_a_zone_called_correctable_reads_for_every_content_tried(version: int, level: str) -> None:
    """The largest central square the bound accepts is cleared (made light, as under a logo)
    in symbols of many contents, at every mask: zxing-cpp reads each. One module wider, the
    bound refuses, and some content no longer reads: the bound is tight enough to matter."""
    from service.render.encode import hidden_correctable

    n = symbol_size(version)
    c = n // 2
    half = 0
    while hidden_correctable(
        version, level, (c - half - 1, c + half + 2), (c - half - 1, c + half + 2)
    ):
        half += 1
    rows = cols = (c - half, c + half + 1)
    assert hidden_correctable(version, level, rows, cols) and half >= 1
    contents = [f"https://example.com/{k:x}" * max(1, version // 2) for k in range(12)]
    wider = (c - half - 1, c + half + 2)
    failed_wider = 0
    for content in contents:
        if plan_version(content, level) > version:
            content = content[: len(content) // 2]
        for mask in (0, 3, 5, 7):
            matrix = encode(content, level, version, mask)
            cleared = matrix.copy()
            cleared[rows[0] : rows[1], cols[0] : cols[1]] = False
            assert _reads(cleared, content), (content, mask)
            # the worst a logo can do is make every hidden module the wrong colour
            inverted = matrix.copy()
            inverted[rows[0] : rows[1], cols[0] : cols[1]] ^= True
            assert _reads(inverted, content), (content, mask)
            wide = matrix.copy()
            wide[wider[0] : wider[1], wider[0] : wider[1]] ^= True
            failed_wider += not _reads(wide, content)
    assert failed_wider > 0


def test_no_zone_with_finder_timing_or_format_modules_is_correctable() -> None:
    from service.render.encode import hidden_correctable

    n = symbol_size(5)
    assert hidden_correctable(5, "H", (15, 15), (15, 18))  # nothing hidden
    assert not hidden_correctable(5, "H", (0, 2), (15, 17))  # the top finder band
    assert not hidden_correctable(5, "H", (15, 17), (6, 10))  # the left timing column
    assert not hidden_correctable(5, "H", (n - 8, n - 6), (15, 17))  # the bottom-left band


def test_byte_mode_codewords_are_segnos_for_every_version_and_level() -> None:
    """The fast byte-mode writer against segno's bit buffer: lengths either side of every
    count-indicator width, aligned and unaligned ends, full symbols, and the texts it leaves
    to segno (digits, alphanumerics, non-ASCII, bytes)."""
    import random

    import numpy as np
    from segno import consts

    from service.render.encode import data_bits, data_codewords

    rng = random.Random(14)
    texts = ["https://yourbrand.com/c/0001", "a", "ab", "0123", "HELLO WORLD", "héllo", b"\x00\xff"]
    texts += ["".join(rng.choice("abcXYZ09:/?&=%_ ") for _ in range(n)) for n in range(1, 80)]
    texts += ["x" * n for n in (255, 256, 257, 1000, 2331, 2953)]
    compared = 0
    for text in texts:
        for error in range(4):
            for version in range(1, 41):
                count = consts.SYMBOL_CAPACITY[version][error] // 8
                bits = np.frombuffer(data_bits(text, error, version), dtype=np.uint8)
                if len(bits) > 8 * count + 8:  # does not fit: never asked of either
                    continue
                expected = np.packbits(bits)[:count]
                assert np.array_equal(data_codewords(text, error, version), expected), (
                    text,
                    error,
                    version,
                )
                compared += 1
    assert compared > 10_000
