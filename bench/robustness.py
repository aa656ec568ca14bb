"""Reading rates of every style after print and phone degradations, beside the squares code of
the same contents, with zxing-cpp and zbar (``tests/degrade.py``).

    .venv/bin/python -m bench.robustness [--contents 22] [--styles NAME,...] [--format png]

Renders in-process through validation and the pipeline (3 in x 300 dpi = 900 px unless a
style says otherwise), degrades each image every way, and prints one row per style:
``reads/contents`` per degradation and decoder. Needs the dev extra (pyzbar) and libzbar0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

from tests.degrade import DEGRADATIONS, STYLES, contents, rates


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contents", type=int, default=22)
    ap.add_argument("--styles", default="")
    ap.add_argument("--format", default="png")
    args = ap.parse_args()
    texts = contents(args.contents)
    table = STYLES
    chosen = ["pattern squares"] + [
        s
        for s in (args.styles.split(",") if args.styles else table)
        if s and s != "pattern squares"
    ]
    print("| style | " + " | ".join(DEGRADATIONS) + " |")
    print("|---|" + "---|" * len(DEGRADATIONS))
    for name in chosen:
        got = rates(table[name], texts, args.format)
        cells = [f"{got[(d, 'zxing')]}/{got[(d, 'zbar')]}" for d in DEGRADATIONS]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
