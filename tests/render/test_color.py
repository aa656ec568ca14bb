from __future__ import annotations

import pytest

from service.render.color import (
    contrast_ratio,
    invalid_color,
    is_inverted,
    parse_background,
    parse_color,
)


@pytest.mark.parametrize(
    "value,rgba",
    [
        ("black", (0, 0, 0, 255)),
        ("WHITE", (255, 255, 255, 255)),
        ("#1a237e", (26, 35, 126, 255)),
        ("#1A237E80", (26, 35, 126, 128)),
    ],
)
def test_parse(value: str, rgba: tuple[int, int, int, int]) -> None:
    assert parse_color(value) == rgba


@pytest.mark.parametrize(
    "value", ["rouge", "#12345", "#1234567", "1a237e", "#GGGGGG", "", "transparent"]
)
def test_invalid_colour_message_is_the_products(value: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_color(value)
    assert str(err.value) == invalid_color(value)
    assert str(err.value).endswith("Use 'black', 'white', or hex like #RRGGBB.")


def test_background_may_be_transparent() -> None:
    assert parse_background("transparent") == (0, 0, 0, 0)


def test_contrast_and_inversion() -> None:
    black, white = parse_color("black"), parse_color("white")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(parse_color("#777777"), parse_color("#888888")) < 1.3
    assert not is_inverted(black, white)
    assert is_inverted(white, parse_color("#101010"))
    assert is_inverted(white, (0, 0, 0, 0)) and not is_inverted(black, (0, 0, 0, 0))
