"""An audit of the robustness floors beyond the suite's sample: random combinations of
pattern, eye border, eye centre and one of the matrix's extras (colours, eye inks, frames,
gradients), read by zxing-cpp and zbar after every degradation of ``tests/degrade.py`` with
22 contents, against the squares code with the same frame. Prints each combination with the
columns below the floor that no rule in ``tests/render/test_robustness.KNOWN_GAPS`` allows.

    .venv/bin/python -m bench.audit [--seed 1] [--count 18] [--contents 22]

The suite's matrix reads 4 contents per combination (one code is 25 points there), so it
cannot see a loss of 2-3 codes of 22; this is where such losses are found (about 4 s per
combination). Needs the dev extra (pyzbar) and libzbar0.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

from service.render.patterns import PATTERN_NAMES
from tests.degrade import contents, rates
from tests.render.test_robustness import _BORDERS, _CENTRES, _EXTRAS, floor_misses, squares_like


def combination(rng: random.Random) -> dict[str, object]:
    fields: dict[str, object] = {
        "pattern": rng.choice(PATTERN_NAMES),
        "eye_border_shape": rng.choice(_BORDERS),
        "eye_center_shape": rng.choice(_CENTRES),
        **rng.choice(_EXTRAS),
    }
    if (fields["eye_border_shape"], fields["eye_center_shape"]) == ("circle", "square"):
        fields["eye_center_shape"] = "circle"  # refused by validation
    return fields


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=18)
    ap.add_argument("--contents", type=int, default=22)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    texts = contents(args.contents)
    bases: dict[str, dict[tuple[str, str], int]] = {}
    below_any = 0
    for _ in range(args.count):
        fields = combination(rng)
        plain = squares_like(fields)
        key = json.dumps(plain, sort_keys=True)
        if key not in bases:
            bases[key] = rates(plain, texts, "png")
        misses = floor_misses(fields, rates(fields, texts, "png"), bases[key], len(texts))
        below_any += bool(misses)
        shown = "; ".join(f"{col} {read}" for col, read in misses.items())
        print(json.dumps(fields), shown or "holds", flush=True)
    print(f"{below_any} of {args.count} combinations below a floor no rule allows")


if __name__ == "__main__":
    main()
