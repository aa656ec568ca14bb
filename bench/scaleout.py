"""Scale out: two replicas on a Redis Cluster against one replica on one Redis, same load.

    .venv/bin/python -m bench.scaleout [--users 8] [--seconds 20] [--rounds 2] [--write]

Both setups are the README's topology on loopback: nginx (deploy/nginx.conf, one upstream
``server`` line per replica) -> ``qrstudio serve`` replica(s), default settings (one render
process per core each) -> Redis: one append-only redis-server, or a Redis Cluster of 3 masters
and 3 replicas (tests/cluster/rediscluster.py starts both the same way the suite does). The load
is bench/locustfile.py (bulk of 50, single renders, redirects, the health probe), run headless
by locust in a subprocess (this module never imports locust), --users users for --seconds.
Rounds alternate the setups (A B A B ...) so a noisy neighbour hits both; each setup gets a
short warm-up first. Reported: requests/s and the p99 of all requests (locust's aggregate),
and failures. Everything shares this machine's cores: the client, nginx, the replicas, their
render processes and every Redis.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from service.limits.redis_store import RedisAdmin
from tests.cluster.processes import Gateway
from tests.cluster.rediscluster import Cluster, start_cluster
from tests.conftest import RedisServer, start_redis
from tests.procserver import ServeProcess

ROOT = Path(__file__).resolve().parent.parent
LOCUST = str(Path(sys.executable).parent / "locust")
ENV = {"max_batches_per_account": "16"}  # every locust user shares one key


class Setup:
    def __init__(self, name: str, redis_url: str, cluster: bool, replicas: int) -> None:
        self.name = name
        env = dict(ENV, redis_url=redis_url, **({"redis_cluster": "true"} if cluster else {}))
        self.replicas = [ServeProcess(**env) for _ in range(replicas)]
        self.rundir = Path(tempfile.mkdtemp(prefix="qrstudio-bench-nginx-"))
        self.gateway = Gateway([r.port for r in self.replicas], self.rundir)
        admin = RedisAdmin(redis_url, cluster=cluster)
        account = f"bench-{time.monotonic_ns()}"
        admin.set_account(account, plan="enterprise")
        self.key = admin.create_key(account, name="bench")
        admin.close()

    def load(self, users: int, seconds: int) -> dict[str, float]:
        prefix = self.rundir / f"locust-{time.monotonic_ns()}"
        subprocess.run(
            [
                LOCUST,
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-H",
                self.gateway.url,
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{seconds}s",
                "--only-summary",
                "--csv",
                str(prefix),
            ],
            env=dict(os.environ, QRSTUDIO_API_KEY=self.key),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        with open(f"{prefix}_stats.csv", newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        return {
            "rps": float(row["Requests/s"]),
            "p99": float(row["99%"]),
            "requests": float(row["Request Count"]),
            "failures": float(row["Failure Count"]),
        }

    def stop(self) -> None:
        self.gateway.stop()
        for r in self.replicas:
            r.stop()
        shutil.rmtree(self.rundir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="append the table to RESULTS.md")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="qrstudio-bench-redis-")
    single: RedisServer | None = None
    cluster: Cluster | None = None
    setups: list[Setup] = []
    try:
        single = start_redis(tmp)
        # the same fsync policy as the single redis-server (start_redis: always)
        cluster = start_cluster(tempfile.mkdtemp(prefix="qrstudio-bench-cluster-"), "always")
        setups = [
            Setup("1 replica, 1 Redis", single.url, False, 1),
            Setup("2 replicas, Redis Cluster (3+3)", cluster.url, True, 2),
        ]
        for s in setups:
            s.load(args.users, 5)  # warm-up: render processes, connections, caches
        results: dict[str, list[dict[str, float]]] = {s.name: [] for s in setups}
        for _ in range(args.rounds):
            for s in setups:
                results[s.name].append(s.load(args.users, args.seconds))
                print(s.name, results[s.name][-1], flush=True)
    finally:
        for s in setups:
            s.stop()
        if cluster is not None:
            cluster.stop()
        if single is not None and single.process is not None:
            single.process.terminate()
            single.process.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    base = results[setups[0].name]
    base_rps = sum(r["rps"] for r in base) / len(base)
    lines = [
        "| setup | round | requests/s | p99 ms | requests | failures | vs 1 replica (mean req/s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        mean = sum(r["rps"] for r in runs) / len(runs)
        for i, r in enumerate(runs, 1):
            lines.append(
                f"| {name} | {i} | {r['rps']:.1f} | {r['p99']:.0f} | "
                f"{r['requests']:.0f} | {r['failures']:.0f} | "
                f"{mean / base_rps:.2f}x |"
            )
    table = "\n".join(lines)
    print(table)
    if args.write:
        with open(ROOT / "bench" / "RESULTS.md", "a") as f:
            f.write(
                f"\n# Scale out: two replicas on a Redis Cluster vs one on one Redis\n\n"
                f"`python -m bench.scaleout --users {args.users} --seconds {args.seconds} "
                f"--rounds {args.rounds}`, {date.today().isoformat()}, {os.cpu_count()} "
                "cores shared by the locust client, nginx, the replicas and their render "
                "processes, and every Redis (and other work on this machine). Load: "
                "bench/locustfile.py through nginx.\n\n" + table + "\n"
            )


if __name__ == "__main__":
    main()
