"""Issue 13 point 6: once Redis is back, the very next request is served.

Redis is killed with SIGKILL and restarted from its AOF on the same port; the service's pooled
connections are then all dead. Every request after the restart must succeed at once (stale
connections are dropped and the command re-sent where it is safe to repeat), not 503.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import LiveServer, start_redis
from tests.readers import check_image


def _single(srv: LiveServer, key: str, i: int) -> httpx.Response:
    return httpx.post(
        srv.url + "/api/v1/generate/",
        headers={"X-Api-Key": key},
        json={"data": f"https://example.com/back/{i}", "size_inches": 1},
        timeout=30,
    )


def test_issue13_redis_restarted_from_aof_serves_the_next_request(tmp_path) -> None:
    redis = start_redis(str(tmp_path))
    srv = LiveServer("redis", redis.url, redis_timeout_s=1.0)
    try:
        account, key = srv.account("pro")
        made = httpx.post(
            srv.url + "/api/v1/dynamic/",
            headers={"X-Api-Key": key},
            json={"name": "n", "destination_url": "https://example.com/d"},
            timeout=30,
        )
        assert made.status_code == 201
        short_id = made.json()["short_id"]
        # fill the pool with several connections, all of which the kill will leave dead
        with ThreadPoolExecutor(8) as ex:
            assert all(
                r.status_code == 200 for r in ex.map(lambda i: _single(srv, key, i), range(16))
            )
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGKILL)
        redis.process.wait(10)
        redis = start_redis(str(tmp_path), port=redis.port)
        # every kind of call, first try each: key lookup, charge, redirect script, usage
        for i in range(3):
            r = _single(srv, key, 100 + i)
            assert r.status_code == 200, (i, r.status_code, r.text)
            check_image("png", r.content, f"https://example.com/back/{100 + i}", 1, 300)
        r = httpx.get(srv.url + f"/q/{short_id}/", timeout=30)
        assert r.status_code == 302 and r.headers["Location"] == "https://example.com/d"
        with ThreadPoolExecutor(8) as ex:
            codes = list(ex.map(lambda i: _single(srv, key, 200 + i).status_code, range(16)))
        assert codes == [200] * 16
        r = httpx.get(srv.url + "/api/v1/usage/", headers={"X-Api-Key": key}, timeout=30)
        assert r.status_code == 200 and r.json()["used_this_month"] == 16 + 3 + 16
        assert srv.admin.usage(account) == 16 + 3 + 16
    finally:
        srv.stop()
        if redis.process is not None and redis.process.poll() is None:
            redis.process.terminate()
            redis.process.wait(10)
