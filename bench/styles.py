"""Per-item render time of every pattern and of the other styles, beside the squares item.

    .venv/bin/python -m bench.styles [--items 100] [--write]

One process, one thread; the full render (encode, shapes, writer, checksums) of distinct
28-character URLs at 3 in x 300 dpi = 900 px, black on transparent; the median per item, PNG
and SVG, and its ratio to the squares item in the same run. ``--write`` appends the table to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import msgspec

from service.items.validation import check_item
from service.limits.plans import PLANS
from service.render.patterns import PATTERN_NAMES
from service.render.pipeline import render
from service.schema import GenerateRequest

STYLES: dict[str, dict[str, object]] = {
    **{f"pattern {p}": {"pattern": p} for p in PATTERN_NAMES},
    "rounded + eye_shape circle": {"eye_shape": "circle"},
    "rounded + gradient": {"gradient_from": "#B00020", "gradient_to": "#1A237E"},
    "rounded + outer frame + eye colours": {"eye_outer_frame": True, "eye_color": "#C62828"},
    "rounded + banner-bottom 'Scan me'": {"frame_style": "banner-bottom", "frame_label": "Scan me"},
}


def per_item_ms(fields: dict[str, object], fmt: str, n: int, tag: str) -> float:
    jobs = [
        check_item(
            msgspec.convert(
                {
                    "data": f"https://yourbrand.com/{tag}{i:04d}"[:28],
                    "size_inches": 3,
                    "format": fmt,
                    **fields,
                },
                GenerateRequest,
            ),
            PLANS["agency"],
        ).job
        for i in range(n)
    ]
    render(jobs[0])  # tiles and caches, as a warm worker has them
    times = []
    for job in jobs:
        start = time.perf_counter()
        render(job)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = [
        "| style (3 in x 300 dpi) | PNG ms/item | vs squares | SVG ms/item | vs squares |",
        "|---|---|---|---|---|",
    ]
    base: dict[str, float] = {}
    for k, (label, fields) in enumerate(STYLES.items()):
        cells = []
        for fmt in ("png", "svg"):
            ms = per_item_ms(fields, fmt, args.items, f"{k:02d}{fmt[0]}")
            base.setdefault(fmt, ms) if label == "pattern squares" else None
            cells.append(f"{ms:.2f} | {ms / base[fmt]:.1f}x")
        rows.append(f"| {label} | {' | '.join(cells)} |")
        print(rows[-1], flush=True)
    text = "\n".join(rows)
    if args.write:
        out = Path(__file__).resolve().parent / "RESULTS.md"
        out.write_text(
            out.read_text() + f"\n# Styles\n\n`python -m bench.styles --items "
            f"{args.items}`, {time.strftime('%Y-%m-%d')}: median full render per "
            "item in one thread, distinct 28-character URLs, black on transparent."
            "\n\n" + text + "\n"
        )


if __name__ == "__main__":
    main()
