"""Micro-benchmark of the render pipeline, per stage and per style, and of the render pool.

    .venv/bin/python -m bench.micro [--items 400] [--pool-items 3000]

Stages are timed item by item (median, in ms) for the squares item (black on white) and the
default item (rounded, transparent), 3 in at 300 dpi = 900 px, 28-character URLs; segno's own
encode and PNG writer and the native floor (zxing-cpp + a minimal PNG writer) run in the same
process on the same items. The pool part renders the same batch with 1 and 2 workers, as
threads and as processes, and reports items per second and the ratio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import segno
from segno import encoder

from bench.baselines import native_png
from service.items.content import build_content
from service.items.validation import check_item, validate_item
from service.limits.plans import PLANS
from service.render.codewords import final_message
from service.render.encode import (
    _template,
    choose_mask,
    data_bits,
    data_codewords,
    encode,
    place_message,
)
from service.render.job import RenderJob
from service.render.patterns import shape
from service.render.pipeline import draw, reads_back, render
from service.render.png import write_png
from service.render.pool import RenderPool, render_chunk
from service.render.readback import png_grey, sampling
from service.render.svg import write_svg
from service.schema import item_decoder

ITEMS = {
    "squares": {"size_inches": 3, "pattern": "squares", "background": "white"},
    "default": {"size_inches": 3},
}


def _error(job: RenderJob) -> int:
    return int(encoder.normalize_errorlevel(job.level))


def median_ms(fn: Callable[[int], object], n: int) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def stage_table(n: int) -> list[str]:
    rows = ["| item | stage | median ms per item |", "|---|---|---|"]
    for label, extra in ITEMS.items():
        bodies = [
            (
                f'{{"data": "https://yourbrand.com/c/{i:04d}", '
                f'"size_inches": {extra["size_inches"]}, '
                f'"pattern": "{extra.get("pattern", "rounded")}", '
                f'"background": "{extra.get("background", "transparent")}"}}'
            ).encode()
            for i in range(n)
        ]
        items = [item_decoder.decode(b) for b in bodies]
        plan = PLANS["agency"]
        valid = [check_item(it, plan) for it in items]
        jobs = [v.job for v in valid]
        mats = [encode(j.content, j.level, j.version) for j in jobs]
        bits = [data_bits(j.content, _error(j), j.version) for j in jobs]
        placed = [place_message(j.content, _error(j), j.version) for j in jobs]
        geoms = [shape(m, j.pattern) for m, j in zip(mats, jobs)]
        drawn = [draw(j) for j in jobs]
        stages: dict[str, Callable[[int], object]] = {
            "validate (decode, checks, version)": lambda i: validate_item(bodies[i], plan),
            "content": lambda i: build_content(items[i]),
            "encode: data codewords (segno's bit buffer)": lambda i: data_bits(
                jobs[i].content, _error(jobs[i]), jobs[i].version
            ),
            "encode: data codewords (ours, byte mode)": lambda i: data_codewords(
                jobs[i].content, _error(jobs[i]), jobs[i].version
            ),
            "encode: error correction + interleave (numpy tables)": lambda i: final_message(
                bits[i], jobs[i].version, _error(jobs[i])
            ),
            "encode: mask choice (8 masks scored at once)": lambda i: choose_mask(
                placed[i], _template(jobs[i].version).masks
            ),
            "encode, whole (ours)": lambda i: encode(
                jobs[i].content, jobs[i].level, jobs[i].version
            ),
            "encode (segno.make_qr, for reference)": lambda i: segno.make_qr(
                jobs[i].content, error="M", boost_error=False
            ),
            "geometry": lambda i: shape(mats[i], jobs[i].pattern),
            "png writer": lambda i: write_png(
                geoms[i], jobs[i].layout, jobs[i].fg, jobs[i].bg, 300, 0
            ),
            "svg writer": lambda i: write_svg(geoms[i], jobs[i].layout, jobs[i].fg, jobs[i].bg, 3),
            "read-back: decode our PNG (grey, sampled)": lambda i: png_grey(
                drawn[i], False, sampling(jobs[i].layout.ppm)
            ),
            "read-back: whole (decode, zxing-cpp, compare)": lambda i: reads_back(
                jobs[i], drawn[i]
            ),
            "whole render, png, without read-back": lambda i: render(jobs[i], 0, verify=False),
            "whole render, png (read back)": lambda i: render_chunk([jobs[i]], 0),
            "segno encode + segno PNG (the obvious script)": lambda i: segno.make(
                jobs[i].content, error="m"
            ).save(io.BytesIO(), kind="png", scale=27, border=4, dpi=300),
            "native floor (zxing-cpp + minimal PNG)": lambda i: native_png(str(jobs[i].content)),
        }
        for stage, fn in stages.items():
            rows.append(f"| {label} | {stage} | {median_ms(fn, n):.3f} |")
    return rows


def pool_table(n: int) -> list[str]:
    jobs = [
        check_item(
            item_decoder.decode(
                f'{{"data": "https://yourbrand.com/c/{i:04d}", "size_inches": 3, '
                f'"pattern": "squares", "background": "white"}}'.encode()
            ),
            PLANS["agency"],
        ).job
        for i in range(n)
    ]
    rows = ["| mode | workers | items/s | vs 1 worker |", "|---|---|---|---|"]
    for mode in ("thread", "process"):
        base = 0.0
        for workers in (1, 2):
            pool = RenderPool(workers, mode)
            pool.start()
            start = time.perf_counter()
            futures = [pool.submit(jobs[i : i + 16], 0) for i in range(0, n, 16)]
            for f in futures:
                f.result()
            rate = n / (time.perf_counter() - start)
            pool.shutdown()
            base = base or rate
            rows.append(f"| {mode} | {workers} | {rate:.0f} | {rate / base:.2f}x |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=400)
    ap.add_argument("--pool-items", type=int, default=3000)
    ap.add_argument("--write", action="store_true", help="append the tables to bench/RESULTS.md")
    args = ap.parse_args()
    stages, pool = stage_table(args.items), pool_table(args.pool_items)
    text = "\n".join(stages) + "\n\n" + "\n".join(pool)
    print(text)
    if args.write:
        from pathlib import Path

        out = Path(__file__).resolve().parent / "RESULTS.md"
        previous = out.read_text() if out.exists() else ""
        out.write_text(
            previous + f"\n# Render pipeline\n\n`python -m bench.micro --items "
            f"{args.items} --pool-items {args.pool_items}`, "
            f"{time.strftime('%Y-%m-%d')}: median per item over {args.items} items; "
            "the pool renders the squares item in chunks of 16.\n\n" + text + "\n"
        )


if __name__ == "__main__":
    main()
