"""Per-key request rates (issue 17.7): a burst of 50 single renders on a starter key (10 a
second) gets the product's 429 with Retry-After past the plan's rate, on both stores."""

from __future__ import annotations

import asyncio
import math
import time

import httpx

from service.limits.plans import PLANS
from tests.readers import check_image

DATA = "https://example.com/burst"


def test_a_burst_of_50_single_renders(backend, make_server) -> None:
    server = make_server(backend, rate_limit=True)
    account, key = server.account("starter")
    rate = PLANS["starter"].requests_per_second

    async def burst() -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=50)) as c:
            start = time.monotonic()
            answers = await asyncio.gather(
                *(
                    c.post(
                        f"{server.url}/api/v1/generate/",
                        headers={"X-Api-Key": key},
                        json={"data": DATA, "size_inches": 1},
                    )
                    for _ in range(50)
                )
            )
            return list(answers), time.monotonic() - start

    answers, elapsed = asyncio.run(burst())
    ok = [r for r in answers if r.status_code == 200]
    throttled = [r for r in answers if r.status_code == 429]
    assert len(ok) + len(throttled) == 50, [r.status_code for r in answers]
    # at most the rate in each one-second window the burst touched
    assert 1 <= len(ok) <= rate * (math.ceil(elapsed) + 1), (len(ok), elapsed)
    assert throttled, "a burst of 50 in one go must pass a starter key's 10 a second"
    for r in throttled:
        assert r.json() == {"detail": "Request was throttled. Expected available in 1 second."}
        assert r.headers["Retry-After"] == "1"
    for r in ok:
        check_image("png", r.content, DATA, 1, 300)
    assert server.admin.usage(account) == len(ok)  # a throttled request costs nothing
    # the same key, a moment later, is served again; another key never was throttled
    deadline = time.monotonic() + 10
    while True:
        r = httpx.get(f"{server.url}/api/v1/usage/", headers={"X-Api-Key": key})
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert r.status_code == 200
    _, other = server.account("starter")
    assert httpx.get(f"{server.url}/api/v1/usage/", headers={"X-Api-Key": other}).status_code == 200
