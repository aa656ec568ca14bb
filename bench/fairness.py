"""Fair turns on the render workers: how long another account's single render waits while a
big batch streams (issue 13, point 3). Starts the real service, streams one batch from one
account, and meanwhile sends 1-inch single renders from another, one after the other; the
same singles on the idle service first are the baseline, in the same run.

    .venv/bin/python -m bench.fairness [--items 5000] [--size 8] [--singles 200]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import httpx

from bench.bulk_e2e import Service


def _singles(url: str, key: str, n: int, stop: threading.Event | None = None) -> list[float]:
    times: list[float] = []
    with httpx.Client(timeout=120) as client:
        for i in range(n):
            if stop is not None and stop.is_set():
                break
            start = time.perf_counter()
            r = client.post(
                url + "/api/v1/generate/",
                headers={"X-Api-Key": key},
                json={
                    "data": f"https://example.com/single/{time.time_ns()}/{i}",
                    "size_inches": 1,
                    "dpi": 300,
                },
            )
            assert r.status_code == 200, r.text
            times.append((time.perf_counter() - start) * 1000)
    return times


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) >= 2
        else values[0]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--size", type=float, default=8.0)
    ap.add_argument("--singles", type=int, default=200)
    args = ap.parse_args()
    service = Service()
    try:
        idle = _singles(service.url, service.keys["pro"], 50)
        items = [
            {
                "data": f"https://example.com/batch/{time.time_ns()}/{i}",
                "size_inches": args.size,
                "pattern": "squares",
            }
            for i in range(args.items)
        ]
        done = threading.Event()
        batch: dict[str, float] = {}

        def stream() -> None:
            start = time.perf_counter()
            with httpx.stream(
                "POST",
                service.url + "/api/v1/generate/bulk/",
                json={"items": items},
                headers={"X-Api-Key": service.keys["agency"]},
                timeout=3600,
            ) as r:
                assert r.status_code == 200, r.read()
                for _ in r.iter_raw():
                    pass
            batch["seconds"] = time.perf_counter() - start
            done.set()

        thread = threading.Thread(target=stream)
        thread.start()
        time.sleep(1.0)  # the batch is streaming
        busy = _singles(service.url, service.keys["pro"], args.singles, done)
        thread.join()
    finally:
        service.stop()
    per_item = batch["seconds"] * 1000 / args.items
    print(
        f"batch: {args.items} items of {args.size:g} in (squares) in {batch['seconds']:.1f} s, "
        f"{per_item:.1f} ms per item over 2 workers\n"
    )
    print("| single render (1 in) | n | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for label, values in (("idle service", idle), ("while the batch streams", busy)):
        print(
            f"| {label} | {len(values)} | {statistics.median(values):.1f} | "
            f"{_p(values, 99):.1f} | {max(values):.1f} |"
        )


if __name__ == "__main__":
    main()
