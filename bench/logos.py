"""What a shared logo (or background image) costs a bulk batch: the same items with and
without it, in one run against the real service, which fetches the images from a local server.

    .venv/bin/python -m bench.logos [--items 1000] [--runs 3] [--write]

Each asset is fetched once before its rows are timed (a warm-up batch of one item), so TTFB is
"once the asset is fetched". Medians of ``--runs`` batches per row, taken round robin (one batch of each row
per run, after a warm-up batch), each with fresh content so the render cache serves none of
them. Then, PNG only: 5 000 items with and without a shared
logo (the server process's RSS growth), and 1 000 items over 100 distinct logos, 10 items each
(the service started with QRSTUDIO_ASSET_URLS_PER_BATCH=100). ``--write`` appends the tables
to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyvips

from bench.bulk_e2e import ROOT, Service, run_batch


def _logo(hue: int = 0) -> bytes:
    """A 512 px two-colour mark with a transparent surround, like a typical brand logo
    (``hue`` shifts its colours: distinct logos for the many-logos row)."""
    xy = pyvips.Image.xyz(512, 512) - 256
    alpha = ((xy[0] ** 2 + xy[1] ** 2) ** 0.5 < 240).ifthenelse(255, 0)
    red, green = (220 + hue) % 256, (40 + 2 * hue) % 256
    image = (
        (xy[0] > 0).ifthenelse(red, 30).bandjoin([(xy[1] > 0).ifthenelse(green, 90), 160, alpha])
    )
    return bytes(image.cast("uchar").copy(interpretation="srgb").pngsave_buffer())


def _photo() -> bytes:
    xy = pyvips.Image.xyz(1600, 1200)
    noise = pyvips.Image.gaussnoise(1600, 1200, sigma=18)
    image = (xy[0] * 0.16 + noise).bandjoin([xy[1] * 0.2 + noise, xy[0] * 0.05 + 64 + noise])
    return bytes(image.cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=85))


def serve(files: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = files[self.path.lstrip("/")]
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _items(n: int, fmt: str, extra: dict[str, object]) -> list[dict[str, object]]:
    tag = time.time_ns()
    return [
        {"data": f"https://yourbrand.com/{tag % 10**9}/{i:05d}", "size_inches": 3, "format": fmt}
        | extra
        for i in range(n)
    ]


def _median(
    svc: Service, runs: int, make: Callable[[], list[dict[str, object]]]
) -> dict[str, float]:
    done = [run_batch(svc, make()) for _ in range(runs)]
    return {k: statistics.median(r[k] for r in done) for k in done[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    files = {"logo.png": _logo(), "photo.jpg": _photo()}
    files.update({f"logo-{k}.png": _logo(k) for k in range(100)})
    httpd = serve(files)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    svc = Service(
        asset_allowed_networks="127.0.0.0/8",
        zip_ceiling_bytes="2000000000",  # measure the size rather than be cut by it
        asset_urls_per_batch="100",
    )
    variants: dict[str, dict[str, object]] = {
        "no logo (default item)": {},
        "one shared logo": {"logo_url": f"{base}/logo.png"},
        "no logo, error_correction H": {"error_correction": "H"},
        "one shared background photo": {"bg_image_url": f"{base}/photo.jpg"},
        "shared photo and logo": {
            "bg_image_url": f"{base}/photo.jpg",
            "logo_url": f"{base}/logo.png",
        },
    }
    rows: list[tuple[str, str, dict[str, float]]] = []
    extra_rows: list[str] = []
    try:
        for fmt in ("png", "svg"):
            for extra in variants.values():
                run_batch(svc, _items(1, fmt, extra))  # the assets fetched once
            run_batch(svc, _items(args.items, fmt, {}))  # the workers warmed up
            # round robin: each run times every row in turn, so drift on a shared machine
            # falls on all rows alike
            done: dict[str, list[dict[str, float]]] = {label: [] for label in variants}
            for _ in range(args.runs):
                for label, extra in variants.items():
                    done[label].append(run_batch(svc, _items(args.items, fmt, extra)))
            for label, runs in done.items():
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((fmt, label, med))
                print(
                    f"{fmt} {label:30} {med['total_s']:.2f}s  {med['items_per_s']:.0f} items/s"
                    f"  ttfb {med['ttfb_ms']:.0f} ms  zip {med['zip_mib']:.1f} MiB",
                    flush=True,
                )
        for label, extra in (
            ("5 000 default items", {}),
            ("5 000 items, one shared logo", {"logo_url": f"{base}/logo.png"}),
        ):
            med = _median(svc, 1, lambda extra=extra: _items(5000, "png", extra))
            extra_rows.append(
                f"| {label} | png | {med['total_s']:.2f} | {med['items_per_s']:.0f} | "
                f"{med['ttfb_ms']:.0f} | {med['zip_mib']:.1f} | {med['rss_growth_mib']:.0f} |"
            )
            print(extra_rows[-1], flush=True)

        def many() -> list[dict[str, object]]:
            items = _items(args.items, "png", {})
            for i, item in enumerate(items):
                item["logo_url"] = f"{base}/logo-{i % 100}.png"
            return items

        run_batch(svc, many())  # the 100 logos fetched once
        med = _median(svc, args.runs, many)
        extra_rows.append(
            f"| {args.items} items, 100 distinct logos (10 items each) | png | "
            f"{med['total_s']:.2f} | {med['items_per_s']:.0f} | {med['ttfb_ms']:.0f} | "
            f"{med['zip_mib']:.1f} | {med['rss_growth_mib']:.0f} |"
        )
        print(extra_rows[-1], flush=True)
    finally:
        svc.stop()
        httpd.shutdown()
    table = [
        f"| {args.items} items, 3 in at 300 dpi | format | total (s) | items/s | "
        "TTFB (ms) | ZIP (MiB) | vs no logo |",
        "|---|---|---|---|---|---|---|",
    ]
    for fmt, label, med in rows:
        plain = next(m for f, lab, m in rows if f == fmt and lab.startswith("no logo (d"))
        table.append(
            f"| {label} | {fmt} | {med['total_s']:.2f} | {med['items_per_s']:.0f} | "
            f"{med['ttfb_ms']:.0f} | {med['zip_mib']:.1f} | "
            f"{med['total_s'] / plain['total_s']:.2f}x |"
        )
    more = [
        "| batch | format | total (s) | items/s | TTFB (ms) | ZIP (MiB) | server RSS growth (MiB) |",
        "|---|---|---|---|---|---|---|",
        *extra_rows,
    ]
    text = "\n".join(table) + "\n\n" + "\n".join(more)
    print(text)
    if args.write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(
                f"\n# Logos and backgrounds\n\n`python -m bench.logos --runs {args.runs}`, "
                f"{time.strftime('%Y-%m-%d')}: the default item (rounded, transparent) "
                "with and without a shared 512 px PNG logo or a 1600x1200 JPEG "
                "background, fetched by the service from a local server once before each "
                f"row is timed. Medians of {args.runs} runs, fresh content each run.\n\n{text}\n"
            )


if __name__ == "__main__":
    main()
