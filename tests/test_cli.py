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
    return subprocess.run([QRSTUDIO, *args], capture_output=True, text=True, env=env, timeout=60)


def bulk(url: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/generate/bulk/",
        json={"items": [ITEM]},
        headers={"X-Api-Key": key},
        timeout=60,
    )


def test_operator_manages_accounts_and_keys(make_server, redis_server) -> None:
    srv = make_server("redis")
    url = redis_server.url
    account = f"cli-{uuid.uuid4().hex[:8]}"
    done = qrstudio("keys", "create", "--account", account, redis_url=url)
    assert done.returncode == 2 and "give it a --plan" in done.stderr
    done = qrstudio(
        "keys", "create", "--account", account, "--plan", "starter", "--name", "ci", redis_url=url
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"smk_[A-Za-z0-9_-]{36}", key)
    r = bulk(srv.url, key)
    assert r.status_code == 200 and r.headers["X-QR-Plan"] == "starter"
    check_image("png", open_zip(r.content)[0].read("qr-0001.png"), ITEM["data"], 1, 300)

    done = qrstudio("keys", "create", "--account", account, "--plan", "pro", redis_url=url)
    assert done.returncode == 2 and "is on plan 'starter'" in done.stderr
    done = qrstudio(
        "accounts",
        "set",
        account,
        "--plan",
        "enterprise",
        "--monthly-quota",
        "1",
        "--overage",
        "off",
        redis_url=url,
    )
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
    proc = subprocess.Popen(
        [QRSTUDIO, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
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
        done = subprocess.run(
            [QRSTUDIO, "serve", "--port", str(free_port())],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
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
    assert (
        qrstudio("keys", "create", "--account", "good", "--plan", "pro", redis_url=url).returncode
        == 0
    )
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
    assert "UNUSABLE: account 'gold': plan is 'platinum'" in listing.stdout
    _one_line_failure(
        qrstudio("keys", "create", "--account", "gold", redis_url=url),
        "plan is 'platinum'",
        "qrstudio accounts set",
    )
    done = qrstudio("accounts", "set", "gold", "--plan", "pro", redis_url=url)
    assert done.stdout.strip() == (
        "account gold: plan=pro monthly_quota=5000 (plan default) overage=on (plan default)"
    )
    client.flushdb()


def _one_line_failure(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qrstudio"), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_every_failure_is_one_line_with_what_to_do(tmp_path) -> None:
    """Issue 17.8: Redis down, a stock Redis without AOF, a busy port, a bad setting."""
    import socket

    from tests.conftest import start_redis

    down = f"redis://127.0.0.1:{free_port()}/0"
    _one_line_failure(
        qrstudio("keys", "list", redis_url=down),
        "cannot reach Redis",
        "redis-server --appendonly yes",
    )
    _one_line_failure(qrstudio("accounts", "check", redis_url=down), "cannot reach Redis")
    _one_line_failure(
        qrstudio("serve", "--port", str(free_port()), redis_url=down),
        "cannot reach Redis",
        "QRSTUDIO_REDIS_URL",
    )
    stock = start_redis(str(tmp_path), appendonly=False)
    try:
        _one_line_failure(
            qrstudio("serve", "--port", str(free_port()), redis_url=stock.url),
            "refusing to start on this Redis: appendonly is not 'yes'",
            "--appendonly yes",
            "QRSTUDIO_REDIS_REQUIRE_DURABLE=false",
        )
    finally:
        assert stock.process is not None
        stock.process.terminate()
        stock.process.wait(10)
    with socket.socket() as busy:  # embedded: no demo keys for a server that cannot start
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = qrstudio("serve", "--port", str(busy.getsockname()[1]))
    _one_line_failure(done, "cannot listen on 127.0.0.1", "another --port")
    assert "smk_" not in done.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
    env["QRSTUDIO_RENDER_THREADS"] = "many"
    done = subprocess.run(
        [QRSTUDIO, "keys", "list"], capture_output=True, text=True, env=env, timeout=60
    )
    _one_line_failure(done, "QRSTUDIO_RENDER_THREADS", "fix or unset it")
    _one_line_failure(qrstudio("serve", "--workers", "0"), "--workers must be 1 or more")
    _one_line_failure(qrstudio("serve", "--port", "70000"), "from 1 to 65535", "--help")
    _one_line_failure(qrstudio("serve", "--host", "nohost.invalid"), "check --host")
    _one_line_failure(qrstudio("keys"), "required: ACTION", "qrstudio keys --help")


def test_serve_in_redis_mode_prints_a_banner(redis_server) -> None:
    """Issue 17.11: which Redis, its durability, workers, render processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QRSTUDIO_")}
    env.update(QRSTUDIO_REDIS_URL=redis_server.url, QRSTUDIO_RENDER_THREADS="1")
    if os.environ.get("REDIS_URL"):
        env["QRSTUDIO_REDIS_REQUIRE_DURABLE"] = "false"
    port = free_port()
    proc = subprocess.Popen(
        [QRSTUDIO, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith(f"QR Studio on http://127.0.0.1:{port}: Redis ")
        assert (
            f"at {redis_server.url}" in banner and "1 worker, each with 1 render process" in banner
        )
        if not os.environ.get("REDIS_URL"):
            assert "durable: appendonly yes, appendfsync always, noeviction" in banner
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health/").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)


def _readme_block(after: str) -> list[str]:
    text = (Path(__file__).parent.parent / "README.md").read_text()
    block = text[text.index(after) :].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_redis_commands_run_in_order_as_written(redis_server) -> None:
    """Issue 17.9 and 17.10: the README's operator lines, in order, against a Redis of their
    own (the suite's, one database); only the key prefix placeholder is filled in."""
    import shlex

    url = _own_db(redis_server, 8)
    lines = _readme_block("With Redis (production)")
    assert lines[0].startswith("redis-server --appendonly yes --maxmemory-policy noeviction")
    assert lines[1].startswith("export QRSTUDIO_REDIS_URL=")
    outputs = []
    prefix = None
    for line in lines[2:]:
        args = shlex.split(line, comments=True)
        assert args[0] == ".venv/bin/qrstudio", line  # what the two-command install leaves
        if args[1] == "serve":
            continue
        if prefix:
            args = [prefix if a == "smk_AbCdEfGh" else a for a in args]
        done = qrstudio(*args[1:], redis_url=url)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append((args[1:3], done.stdout))
        if args[1:3] == ["keys", "list"]:
            header, row = done.stdout.splitlines()
            assert header.split() == ["PREFIX", "ACCOUNT", "NAME", "CREATED", "STATE"]
            prefix = row.split()[0]
            assert re.fullmatch(r"smk_[A-Za-z0-9_-]{8}", prefix)  # pasteable as printed
    said = {tuple(a): out for a, out in outputs}
    assert "already revoked" in said[("keys", "revoke")]
    assert "overage=off" in outputs[1][1] and "monthly_quota=200000" in outputs[1][1]
    assert outputs[-2][1].strip() == (
        "account acme: plan=enterprise monthly_quota=1000000 (plan "
        "default) overage=off (plan default)"
    )
    assert said[("accounts", "check")].strip() == "every account and key record is usable"


def test_listings_show_everything_and_say_when_empty(redis_server) -> None:
    """Issue 17.10: headers, empty messages, accounts without keys, --help texts."""
    url = _own_db(redis_server, 9)
    assert qrstudio("keys", "list", redis_url=url).stdout.startswith("no keys yet")
    assert qrstudio("accounts", "list", redis_url=url).stdout.startswith("no accounts yet")
    done = qrstudio(
        "accounts", "set", "keyless", "--plan", "starter", "--overage", "off", redis_url=url
    )
    assert done.stdout.strip() == (
        "account keyless: plan=starter monthly_quota=500 (plan default) overage=off"
    )
    listing = qrstudio("accounts", "list", redis_url=url).stdout.splitlines()
    assert listing[0].split() == ["ACCOUNT", "KEYS", "USED", "SETTINGS"]
    assert listing[1].split()[:3] == ["keyless", "0", "0"]
    done = qrstudio("accounts", "set", "keyless", "--monthly-quota", "lots", redis_url=url)
    _one_line_failure(done, "--monthly-quota must be a whole number")
    for args in (
        [],
        ["serve"],
        ["accounts"],
        ["accounts", "set"],
        ["accounts", "list"],
        ["accounts", "check"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["keys", "rotate"],
    ):
        text = qrstudio(*args, "--help").stdout
        assert "``" not in text and "usage: qrstudio" in text, args
    assert "(default: 8000)" in qrstudio("serve", "--help").stdout
    assert "'default': the plan's" in qrstudio("accounts", "set", "--help").stdout


def test_pyproject_license_is_an_spdx_string() -> None:
    """Issue 17.12: no setuptools deprecation (license table), and a setuptools that reads
    the SPDX form."""
    import tomllib

    meta = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "Apache-2.0"
    assert any(
        r.replace(" ", "").startswith("setuptools>=77") for r in meta["build-system"]["requires"]
    )
