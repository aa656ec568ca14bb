"""Redirect throughput: GET /q/{short_id}/ against the real service on a real Redis.

    .venv/bin/python -m bench.redirects [--seconds 10] [--connections 32] [--redis URL]

Starts ``qrstudio serve`` on Redis (a redis-server of its own, append-only, unless --redis is
given), creates a dynamic QR code, then keeps --connections requests in flight for --seconds
from one asyncio client and reports requests per second and latency percentiles. The client
shares the machine's cores with the server: on a 2-core machine it is a large part of the
load, so the figure is a floor for what the server does on its own cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx

from bench.bulk_e2e import _free_port


async def hammer(url: str, seconds: float, connections: int) -> list[float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                r = await client.get(url, follow_redirects=False)
                assert r.status_code == 302, r.status_code
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--redis")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="qrstudio-bench-")
    redis_proc = None
    url = args.redis
    if not url:
        port = _free_port()
        redis_proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(port),
                "--dir",
                tmp,
                "--appendonly",
                "yes",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
    env.update(
        QRSTUDIO_REDIS_URL=url, QRSTUDIO_LOG_LEVEL="warning", QRSTUDIO_REDIS_REQUIRE_DURABLE="false"
    )
    account = f"bench-{uuid.uuid4().hex[:6]}"
    key = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "service.cli",
                "keys",
                "create",
                "--account",
                account,
                "--plan",
                "pro",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/api/health/")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        code = httpx.post(
            base + "/api/v1/dynamic/",
            headers={"X-Api-Key": key},
            json={"name": "bench", "destination_url": "https://example.com/"},
        )
        target = f"{base}/q/{code.json()['short_id']}/"
        asyncio.run(hammer(target, 1, args.connections))  # warm up
        wrk = shutil.which("wrk")
        if wrk:  # a C load generator takes far less of the shared cores than Python does
            out = subprocess.run(
                [wrk, "-t1", f"-c{args.connections}", f"-d{args.seconds:g}s", "--latency", target],
                capture_output=True,
                text=True,
            ).stdout
            print(f"wrk, {args.connections} connections, {args.seconds:g} s:\n{out}")
        lat = asyncio.run(hammer(target, args.seconds, args.connections))
        q = statistics.quantiles(lat, n=100)
        print(
            f"httpx client: {len(lat) / args.seconds:.0f} req/s over {args.seconds:g} s, "
            f"{args.connections} connections; p50 {q[49] * 1000:.1f} ms, p99 "
            f"{q[98] * 1000:.1f} ms"
        )
    finally:
        server.terminate()
        server.wait(10)
        if redis_proc:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
