"""The render cache: duplicates and repeats are hits with the same bytes; any change misses;
dynamic codes never share; Redis shares it between processes and bounds it on the main one."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.conftest import LiveServer, start_redis
from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"


def bulk(server, key: str, items: list[dict[str, object]]) -> httpx.Response:
    r = httpx.post(
        server.url + BULK, json={"items": items}, headers={"X-Api-Key": key}, timeout=120
    )
    assert r.status_code == 200, r.text
    return r


def unpack(r: httpx.Response, items: list[dict[str, object]]) -> list[tuple[dict, bytes]]:
    archive, manifest = open_zip(r.content)
    out = []
    for item, entry in zip(items, manifest["items"]):
        data = archive.read(entry["filename"])
        if item.get("data_type") != "dynamic":
            check_image(
                entry["format"],
                data,
                str(item["data"]),
                float(item["size_inches"]),
                300,
                inverted=False,
            )
        else:
            check_image(
                entry["format"],
                data,
                entry["dynamic"]["public_url"],
                float(item["size_inches"]),
                300,
            )
        out.append((entry, data))
    return out


def test_duplicates_and_repeats_are_hits_and_changes_miss(server) -> None:
    account, key = server.account("pro")
    tag = uuid.uuid4().hex[:8]
    a = {"data": f"https://example.com/{tag}/a", "size_inches": 1.5}
    b = {"data": f"https://example.com/{tag}/b", "size_inches": 1.5, "pattern": "squares"}
    items = [a, b, a, {**a, "format": "svg"}, b, {**a, "color": "#1A237E"}]
    first = unpack(bulk(server, key, items), items)
    assert [e["cache"] for e, _ in first] == ["MISS", "MISS", "HIT", "MISS", "HIT", "MISS"]
    assert first[2][1] == first[0][1] and first[4][1] == first[1][1]
    assert first[2][0]["duration_ms"] == 0 and first[2][0]["sha256"] == first[0][0]["sha256"]
    assert first[5][1] != first[0][1]  # one style field changed: another image
    again = unpack(bulk(server, key, items), items)
    assert [e["cache"] for e, _ in again] == ["HIT"] * len(items)
    assert [d for _, d in again] == [d for _, d in first]
    assert server.admin.usage(account) == 2 * len(items)  # hits still count


def test_dynamic_codes_never_share_a_render(server) -> None:
    _, key = server.account("pro")
    dyn = {
        "data_type": "dynamic",
        "size_inches": 1.5,
        "payload": {"name": "same", "destination_url": "https://example.com/same"},
    }
    got = unpack(bulk(server, key, [dyn, dyn]), [dyn, dyn])
    assert [e["cache"] for e, _ in got] == ["MISS", "MISS"]
    assert got[0][1] != got[1][1]
    assert got[0][0]["dynamic"]["short_id"] != got[1][0]["dynamic"]["short_id"]


def test_single_render_hits_say_so_and_still_count(server) -> None:
    account, key = server.account("starter")
    body = {"data": f"https://example.com/{uuid.uuid4().hex}", "size_inches": 1}
    one = httpx.post(server.url + "/api/v1/generate/", json=body, headers={"X-Api-Key": key})
    two = httpx.post(server.url + "/api/v1/generate/", json=body, headers={"X-Api-Key": key})
    assert one.headers["X-QR-Cache"] == "MISS" and two.headers["X-QR-Cache"] == "HIT"
    assert two.headers["X-QR-Duration-Ms"] == "0" and two.content == one.content
    check_image("png", two.content, str(body["data"]), 1, 300)
    assert server.admin.usage(account) == 2


def test_redis_shares_the_cache_between_processes_and_bounds_it(tmp_path) -> None:
    redis = start_redis(str(tmp_path))
    first = LiveServer("redis", redis.url)
    second = LiveServer("redis", redis.url)
    budgeted = LiveServer("redis", redis.url, cache_redis_bytes=1)
    try:
        _, key = first.account("pro")
        items = [{"data": f"https://example.com/shared/{i}", "size_inches": 1} for i in range(20)]
        assert all(e["cache"] == "MISS" for e, _ in unpack(bulk(first, key, items), items))
        client = redis.client()
        deadline = time.monotonic() + 10
        while len(list(client.scan_iter("qs:cache:[0-9a-f]*"))) < 20:  # written in background
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert all(e["cache"] == "HIT" for e, _ in unpack(bulk(second, key, items), items))
        # the budget: 20 entries are already more than 1 byte, so nothing new is written
        more = [{"data": f"https://example.com/over/{i}", "size_inches": 1} for i in range(5)]
        unpack(bulk(budgeted, key, more), more)
        time.sleep(0.5)
        assert len(list(client.scan_iter("qs:cache:[0-9a-f]*"))) == 20
        assert all(client.ttl(k) > 0 for k in client.scan_iter("qs:cache:[0-9a-f]*"))
    finally:
        for srv in (first, second, budgeted):
            srv.stop()
        assert redis.process is not None
        redis.process.terminate()
        redis.process.wait(10)
