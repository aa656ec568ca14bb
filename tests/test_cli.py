"""The ``qrstudio`` command as an operator runs it: a subprocess, against Redis or embedded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.readers import check_image, open_zip

QRSTUDIO = str(Path(sys.executable).parent / "qrstudio")
ITEM = {"data": "https://example.com/cli", "size_inches": 1}


def qrstudio(*args: str, redis_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
    if redis_url:
        env["QRSTUDIO_REDIS_URL"] = redis_url
    return subprocess.run([QRSTUDIO, *args], capture_output=True, text=True, env=env,
                          timeout=60)


def bulk(url: str, key: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/generate/bulk/", json={"items": [ITEM]},
                      headers={"X-Api-Key": key}, timeout=60)


def test_operator_manages_accounts_and_keys(make_server, redis_server) -> None:
    srv = make_server("redis")
    url = redis_server.url
    account = f"cli-{uuid.uuid4().hex[:8]}"
    done = qrstudio("keys", "create", "--account", account, redis_url=url)
    assert done.returncode == 2 and "give it a --plan" in done.stderr
    done = qrstudio("keys", "create", "--account", account, "--plan", "starter", "--name", "ci",
                    redis_url=url)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"smk_[A-Za-z0-9_-]{36}", key)
    r = bulk(srv.url, key)
    assert r.status_code == 200 and r.headers["X-QR-Plan"] == "starter"
    check_image("png", open_zip(r.content)[0].read("qr-0001.png"), ITEM["data"], 1, 300)

    done = qrstudio("keys", "create", "--account", account, "--plan", "pro", redis_url=url)
    assert done.returncode == 2 and "is on plan 'starter'" in done.stderr
    done = qrstudio("accounts", "set", account, "--plan", "enterprise", "--monthly-quota", "1",
                    "--overage", "off", redis_url=url)
    assert done.returncode == 0, done.stderr
    r = bulk(srv.url, key)
    assert r.status_code == 429  # 1 used already, quota 1, no overage
    assert r.json()["detail"] == "Bulk of 1 would exceed your monthly quota (1/1 used)."

    listing = qrstudio("keys", "list", redis_url=url)
    assert key[:12] in listing.stdout and key not in listing.stdout
    rotated = qrstudio("keys", "rotate", key[:12], redis_url=url)
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.strip().splitlines()[-1]
    assert bulk(srv.url, key).status_code == 401
    qrstudio("accounts", "set", account, "--monthly-quota", "100", redis_url=url)
    assert bulk(srv.url, new_key).status_code == 200
    assert qrstudio("keys", "revoke", new_key, redis_url=url).returncode == 0
    assert bulk(srv.url, new_key).status_code == 401


def test_admin_commands_need_redis() -> None:
    done = qrstudio("keys", "list")
    assert done.returncode == 2 and "QRSTUDIO_REDIS_URL" in done.stderr


def test_serve_embedded_prints_demo_keys_and_refuses_workers() -> None:
    done = qrstudio("serve", "--workers", "2")
    assert done.returncode == 2 and "--workers must be 1" in done.stderr
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
    proc = subprocess.Popen([QRSTUDIO, "serve", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        keys: dict[str, str] = {}
        assert proc.stdout is not None
        while len(keys) < 5:
            line = proc.stdout.readline()
            assert line, "serve exited before printing its demo keys"
            m = re.fullmatch(r"\s+(\w+)\s+(smk_\S{36})\s*", line)
            if m:
                keys[m.group(1)] = m.group(2)
        assert sorted(keys) == ["agency", "enterprise", "free", "pro", "starter"]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/api/health/").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        r = bulk(url, keys["starter"])
        assert r.status_code == 200
        check_image("png", open_zip(r.content)[0].read("qr-0001.png"), ITEM["data"], 1, 300)
        assert bulk(url, keys["free"]).status_code == 403
        status = httpx.get(f"{url}/api/status/").json()
        assert status["store"] == {"kind": "embedded", "ok": True}
    finally:
        proc.terminate()
        proc.wait(20)


def test_serve_refuses_a_redis_that_could_lose_keys(tmp_path) -> None:
    from tests.conftest import start_redis

    volatile = start_redis(str(tmp_path), appendonly=False)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
        env["QRSTUDIO_REDIS_URL"] = volatile.url
        done = subprocess.run([QRSTUDIO, "serve", "--port", str(free_port())],
                              capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode != 0
        assert "refusing to start on this Redis: appendonly is not 'yes'" in done.stderr
    finally:
        assert volatile.process is not None
        volatile.process.terminate()
        volatile.process.wait(10)


def _own_db(redis_server, db: int) -> str:  # type: ignore[no-untyped-def]
    """A database of the suite's Redis that only this test writes (emptied first)."""
    url = redis_server.url.rsplit("/", 1)[0] + f"/{db}"
    import redis as redis_py

    redis_py.Redis.from_url(url).flushdb()
    return url


def test_accounts_check_reports_every_unusable_record(redis_server) -> None:
    import redis as redis_py

    url = _own_db(redis_server, 7)
    assert qrstudio("keys", "create", "--account", "good", "--plan", "pro",
                    redis_url=url).returncode == 0
    done = qrstudio("accounts", "check", redis_url=url)
    assert done.returncode == 0 and "every account and key record is usable" in done.stdout
    client = redis_py.Redis.from_url(url)
    # what a gateway's application might write
    client.hset("qs:{gold}:account", mapping={"plan": "platinum", "monthly_quota": "abc"})
    client.sadd("qs:accounts", "gold")
    client.hset("qs:{stray}:account", mapping={"plan": "pro", "overage": "yes"})
    client.set("qs:apikey:" + "f" * 64, b"{not json")
    done = qrstudio("accounts", "check", redis_url=url)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert "account 'gold': plan is 'platinum'" in done.stdout
    assert "account 'gold': monthly_quota is 'abc'" in done.stdout
    assert "account 'stray': overage is 'yes'" in done.stdout
    assert "account 'stray': not in the set qs:accounts" in done.stdout
    assert "key 'sha256 ffffffffffff': JSON" in done.stdout
    assert lines[-1] == "5 problem(s)"
    # the listing shows the broken account instead of failing
    listing = qrstudio("accounts", "list", redis_url=url)
    assert listing.returncode == 0, listing.stderr
    client.flushdb()
