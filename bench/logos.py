"""What a shared logo (or background image) costs a bulk batch: the same 1 000 items with and
without it, in one run against the real service, which fetches the logo from a local server.

    .venv/bin/python -m bench.logos [--items 1000] [--runs 3] [--write]

Medians of ``--runs`` batches per row, each with fresh content so the render cache serves
none of them; ``--write`` appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyvips

from bench.bulk_e2e import ROOT, Service, run_batch


def _logo() -> bytes:
    """A 512 px two-colour mark with a transparent surround, like a typical brand logo."""
    xy = pyvips.Image.xyz(512, 512) - 256
    alpha = ((xy[0] ** 2 + xy[1] ** 2) ** 0.5 < 240).ifthenelse(255, 0)
    image = (xy[0] > 0).ifthenelse(220, 30).bandjoin([(xy[1] > 0).ifthenelse(40, 90), 160, alpha])
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    httpd = serve({"logo.png": _logo(), "photo.jpg": _photo()})
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    # a background photo makes ~0.5 MB PNGs: 1 000 of them exceed the 100 MB default ceiling
    svc = Service(asset_allowed_networks="127.0.0.0/8", zip_ceiling_bytes="2000000000")
    variants = {
        "no logo (default item)": {},
        "one shared logo": {"logo_url": f"{base}/logo.png"},
        "no logo, error_correction H": {"error_correction": "H"},
        "one shared background photo": {"bg_image_url": f"{base}/photo.jpg"},
    }
    rows = []
    try:
        for fmt in ("png", "svg"):
            for label, extra in variants.items():
                runs = []
                for _ in range(args.runs):
                    tag = time.time_ns()
                    items = [
                        {
                            "data": f"https://yourbrand.com/{tag % 10**6}/{i:04d}",
                            "size_inches": 3,
                            "format": fmt,
                            **extra,
                        }
                        for i in range(args.items)
                    ]
                    runs.append(run_batch(svc, items))
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((fmt, label, med))
                print(
                    f"{fmt} {label:30} {med['total_s']:.2f}s  {med['items_per_s']:.0f} items/s"
                    f"  ttfb {med['ttfb_ms']:.0f} ms  zip {med['zip_mib']:.1f} MiB",
                    flush=True,
                )
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
    text = "\n".join(table)
    print(text)
    if args.write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(
                f"\n# Logos and backgrounds\n\n`python -m bench.logos --runs {args.runs}`, "
                f"{time.strftime('%Y-%m-%d')}: the default item (rounded, transparent) "
                "with and without a shared 512 px PNG logo or a 1600x1200 JPEG "
                "background, fetched by the service from a local server. Medians of "
                f"{args.runs} runs, fresh content each run.\n\n{text}\n"
            )


if __name__ == "__main__":
    main()
