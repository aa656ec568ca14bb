"""A contact sheet of every pattern, eye shape, eye border and centre, colour scheme and frame,
rendered by the service's own pipeline (the same validation and writers as the API).

    .venv/bin/python -m bench.gallery [--out docs/gallery.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import msgspec
import pyvips

from service.items.validation import check_item
from service.limits.plans import PLANS
from service.render.eyes import BORDERS, CENTRES
from service.render.patterns import PATTERN_NAMES
from service.render.pipeline import render
from service.schema import GenerateRequest

ROOT = Path(__file__).resolve().parent.parent
TILE = 240
DATA = "https://qrstudio.example/gallery"


def _tile(label: str, fields: dict[str, object]) -> pyvips.Image:
    item = msgspec.convert(
        {"data": DATA, "size_inches": 1.6, "dpi": 150, "background": "white", **fields},
        GenerateRequest,
    )
    job = check_item(item, PLANS["agency"]).job
    image = pyvips.Image.new_from_buffer(render(job).data, "")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    image = image.colourspace("srgb").thumbnail_image(TILE)
    text = pyvips.Image.text(label, font="DejaVu Sans 11", width=TILE, align="centre")
    caption = (255 - text.gravity("centre", TILE, 26, extend="black")).bandjoin(
        [255 - text.gravity("centre", TILE, 26, extend="black")] * 2
    )
    return image.join(caption.copy(interpretation="srgb"), "vertical")


def _row(title: str, tiles: list[pyvips.Image]) -> pyvips.Image:
    head = pyvips.Image.text(f"<b>{title}</b>", font="DejaVu Sans 15", dpi=72)
    head = 255 - head.gravity("west", TILE * 6 + 50, 34, extend="black")
    head = head.bandjoin([head, head]).copy(interpretation="srgb")
    grid = pyvips.Image.arrayjoin(tiles, across=6, shim=10, background=[255, 255, 255])
    return head.join(grid, "vertical", expand=True, background=[255, 255, 255])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gallery.png"))
    args = ap.parse_args()
    rows = [
        _row("pattern", [_tile(p, {"pattern": p}) for p in PATTERN_NAMES]),
        _row(
            "eye_shape",
            [
                _tile(e, {"eye_shape": e, "pattern": "dot"})
                for e in ("square", "rounded", "circle", "frame")
            ]
            + [
                _tile(
                    "eye_outer_frame",
                    {
                        "eye_shape": "rounded",
                        "eye_outer_frame": True,
                        "eye_color": "#C62828",
                        "pattern": "dot",
                    },
                )
            ],
        ),
        _row(
            "eye_border_shape",
            [
                _tile(
                    b,
                    {
                        "eye_border_shape": b,
                        "eye_center_shape": "circle",
                        "eye_border_color": "#1A237E",
                        "pattern": "rounded",
                    },
                )
                for b in BORDERS
            ],
        ),
        _row(
            "eye_center_shape",
            [
                _tile(
                    c,
                    {
                        "eye_border_shape": "rounded",
                        "eye_center_shape": c,
                        "eye_center_color": "#C62828",
                        "pattern": "rounded",
                    },
                )
                for c in CENTRES
            ],
        ),
        _row(
            "colour",
            [
                _tile("color + background", {"color": "#1A237E", "background": "#FFF8E7"}),
                _tile(
                    "gradient",
                    {"gradient_from": "#B00020", "gradient_to": "#1A237E", "pattern": "liquid"},
                ),
                _tile("alpha", {"color": "#1A237ECC", "background": "#FFF8E7"}),
                _tile("inverted", {"color": "#FFFFFF", "background": "#0D47A1"}),
            ],
        ),
        _row(
            "frame_style + frame_label",
            [
                _tile(
                    f,
                    {
                        "frame_style": f,
                        "frame_label": "Scan me",
                        "frame_color": "#0D47A1",
                        "pattern": "rounded",
                    },
                )
                for f in ("box", "banner-bottom", "banner-top", "rounded")
            ],
        ),
    ]
    sheet = rows[0]
    for row in rows[1:]:
        sheet = sheet.join(row, "vertical", expand=True, shim=16, background=[255, 255, 255])
    sheet = sheet.embed(20, 20, sheet.width + 40, sheet.height + 40, extend="white")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.pngsave(args.out, compression=9, palette=True)
    print(f"wrote {args.out}: {sheet.width} x {sheet.height}")


if __name__ == "__main__":
    main()
