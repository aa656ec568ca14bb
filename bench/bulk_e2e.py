"""End-to-end bulk benchmark: starts the real service, sends batches over HTTP, and times the
two baselines on the same items in the same run. Prints a table; ``--write`` puts it in
bench/RESULTS.md with the machine's description.

    .venv/bin/python -m bench.bulk_e2e [--sizes 50,1000,5000] [--runs 3] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.baselines import native_floor_zip, obvious_zip

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    def __init__(self, **settings: str) -> None:
        """The service with default settings, plus ``settings`` (QRSTUDIO_<NAME> values)."""
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
        env.update({f"QRSTUDIO_{k.upper()}": v for k, v in settings.items()})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=None if os.environ.get("BENCH_SERVER_LOG") else subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.keys: dict[str, str] = {}
        assert self.proc.stdout is not None
        while len(self.keys) < 5:
            m = re.fullmatch(r"\s+(\w+)\s+(smk_\S{36})\s*", self.proc.stdout.readline())
            if m:
                self.keys[m.group(1)] = m.group(2)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                httpx.get(self.url + "/api/health/")
                break
            except httpx.TransportError:
                time.sleep(0.05)

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _zip_entries(tail: bytes) -> int | None:
    """The entry count in the archive's end record (None: no end record, a cut stream)."""
    at = tail.rfind(b"PK\x05\x06")
    if at < 0:
        return None
    (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
    z64 = tail.rfind(b"PK\x06\x06")
    if count == 0xFFFF and z64 >= 0:
        (count,) = struct.unpack("<Q", tail[z64 + 32 : z64 + 40])
    return int(count)


def run_batch(svc: Service, items: list[dict[str, object]]) -> dict[str, float]:
    peak = [svc.rss_kib()]
    base = peak[0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], svc.rss_kib())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    size = 0
    ttfb = 0.0
    tail = b""
    with httpx.stream(
        "POST",
        svc.url + "/api/v1/generate/bulk/",
        json={"items": items},
        headers={"X-Api-Key": svc.keys["agency"]},
        timeout=600,
    ) as r:
        assert r.status_code == 200, r.read()
        for chunk in r.iter_raw():
            if not ttfb:
                ttfb = time.perf_counter() - start
            size += len(chunk)
            tail = (tail + chunk)[-4096:]
    total = time.perf_counter() - start
    stop.set()
    sampler.join()
    entries = _zip_entries(tail)
    if entries != len(items) + 1:  # every image and the manifest: not a cut stream
        raise RuntimeError(f"the archive holds {entries} entries for {len(items)} items")
    return {
        "total_s": total,
        "ttfb_ms": ttfb * 1000,
        "items_per_s": len(items) / total,
        "rss_growth_mib": (peak[0] - base) / 1024,
        "zip_mib": size / 2**20,
    }


def items_for(n: int, pattern: str, background: str, letter: str = "c") -> list[dict[str, object]]:
    """28-character URLs; ``letter`` keeps runs apart so the render cache serves none of them."""
    return [
        {
            "data": f"https://yourbrand.com/{letter}/{i:04d}",
            "size_inches": 3,
            "pattern": pattern,
            "background": background,
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50,1000,5000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    svc = Service()
    rows = []
    try:
        for label, pattern, bg in (
            ("squares, black on white", "squares", "white"),
            ("rounded, transparent (default)", "rounded", "transparent"),
        ):
            for row, n in enumerate(sizes):
                items = items_for(n, pattern, bg)
                runs = [
                    run_batch(
                        svc, items_for(n, pattern, bg, "abdefghijklmnopqrstuvwxyz"[row * 5 + r % 5])
                    )
                    for r in range(args.runs)
                ]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                contents = [str(i["data"]) for i in items]
                t = time.perf_counter()
                obvious_zip(contents)
                obvious = time.perf_counter() - t
                t = time.perf_counter()
                native_floor_zip(contents)
                floor = time.perf_counter() - t
                rows.append((label, n, med, obvious, floor))
                print(
                    f"{label:32} n={n:5} total {med['total_s']:.2f}s  ttfb "
                    f"{med['ttfb_ms']:.0f}ms  {med['items_per_s']:.0f} items/s  rss +"
                    f"{med['rss_growth_mib']:.0f} MiB  | segno->zipfile {obvious:.2f}s "
                    f"({obvious / med['total_s']:.1f}x)  native floor {floor:.2f}s",
                    flush=True,
                )
        cache_rows = []
        for label, pattern, bg in (
            ("squares, black on white", "squares", "white"),
            ("rounded, transparent (default)", "rounded", "transparent"),
        ):
            fresh = [
                {**item, "data": f"{item['data']}?cache={time.time_ns()}"}
                for item in items_for(1000, pattern, bg)
            ]
            cold = run_batch(svc, fresh)
            warm = statistics.median(run_batch(svc, fresh)["total_s"] for _ in range(3))
            cache_rows.append((label, cold["total_s"], warm))
            print(
                f"cache {label}: uncached {cold['total_s']:.2f}s, cached {warm:.2f}s "
                f"({cold['total_s'] / warm:.1f}x)",
                flush=True,
            )
    finally:
        svc.stop()
    table = [
        "| items | batch | total (s) | TTFB (ms) | items/s | server RSS growth (MiB) | "
        "ZIP (MiB) | segno->zipfile (s) | speed-up | native floor (s) | vs floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, n, med, obvious, floor in rows:
        table.append(
            f"| {label} | {n} | {med['total_s']:.2f} | {med['ttfb_ms']:.0f} | "
            f"{med['items_per_s']:.0f} | {med['rss_growth_mib']:.0f} | "
            f"{med['zip_mib']:.1f} | {obvious:.2f} | {obvious / med['total_s']:.1f}x | "
            f"{floor:.2f} | {med['total_s'] / floor:.1f}x |"
        )
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    table += [
        "",
        "| 1 000 items, same batch again | uncached (s) | fully cached (s) | speed-up |",
        "|---|---|---|---|",
    ]
    for label, cold_s, warm_s in cache_rows:
        table.append(f"| {label} | {cold_s:.2f} | {warm_s:.2f} | {cold_s / warm_s:.1f}x |")
    text = "\n".join(table)
    print(text)
    if args.write:
        out = ROOT / "bench" / "RESULTS.md"
        out.write_text(
            f"# Bulk end to end\n\n`python -m bench.bulk_e2e --runs {args.runs}` on "
            f"{machine}, {time.strftime('%Y-%m-%d')}. Medians of {args.runs} runs "
            "per row; the baselines ran once each, in the same process, on the same "
            "items (3 in at 300 dpi = 900 px, a 28-character URL). The service runs "
            "embedded, one process, default settings; the client shares the "
            "machine's 2 cores.\n\n" + text + "\n"
        )


if __name__ == "__main__":
    main()
