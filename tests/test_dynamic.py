"""Dynamic QR codes: created with the batch's one atomic step, redirected, managed, durable."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest

from tests.conftest import LiveServer, start_redis
from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"
BASE = "http://localhost:8000"  # the servers' QRSTUDIO_PUBLIC_BASE_URL


def dyn(i: int, **extra: object) -> dict[str, object]:
    return {
        "data_type": "dynamic",
        "payload": {"name": f"Promo card {i:03d}", "destination_url": f"https://example.com/p/{i}"},
        "size_inches": 2,
        **extra,
    }


def bulk(server, key: str, items: list[dict[str, object]]) -> httpx.Response:
    return httpx.post(
        server.url + BULK, json={"items": items}, headers={"X-Api-Key": key}, timeout=120
    )


def api(server, key: str, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(
        method, f"{server.url}/api/v1/dynamic/{path}", headers={"X-Api-Key": key}, timeout=30, **kw
    )  # type: ignore[arg-type]


def follow(server, short_id: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}/q/{short_id}/", headers=headers, follow_redirects=False)


def check_dynamic_zip(r: httpx.Response, items: list[dict[str, object]]) -> list[str]:
    """Every image scans; dynamic ones to their public URL. Returns the short ids in order."""
    assert r.status_code == 200, r.text
    archive, manifest = open_zip(r.content)
    short_ids = []
    for item, entry in zip(items, manifest["items"]):
        data = archive.read(entry["filename"])
        if item.get("data_type") == "dynamic":
            d = entry["dynamic"]
            assert set(d) == {"short_id", "public_url"} and len(d["short_id"]) == 8
            assert d["public_url"] == f"{BASE}/q/{d['short_id']}/"
            check_image(entry["format"], data, d["public_url"], 2, 300)
            short_ids.append(d["short_id"])
        else:
            assert "dynamic" not in entry
            check_image(entry["format"], data, str(item["data"]), 2, 300)
    return short_ids


def test_bulk_with_dynamic_items_redirects_edits_pauses_and_deletes(server) -> None:
    _, key = server.account("starter")
    items = [
        dyn(1),
        {"data": "https://example.com/static", "size_inches": 2},
        dyn(2),
        dyn(3, format="svg"),
    ]
    ids = check_dynamic_zip(bulk(server, key, items), items)
    assert len(set(ids)) == 3
    for i, short_id in zip((1, 2, 3), ids):
        r = follow(server, short_id)
        assert r.status_code == 302 and r.headers["Location"] == f"https://example.com/p/{i}"
        assert r.headers["Cache-Control"] == "no-store"
    edited = api(
        server, key, "PATCH", f"{ids[0]}/", json={"destination_url": "https://example.com/new"}
    )
    assert edited.status_code == 200 and edited.json()["destination_changes_count"] == 1
    assert follow(server, ids[0]).headers["Location"] == "https://example.com/new"
    assert api(server, key, "PATCH", f"{ids[1]}/", json={"is_active": False}).status_code == 200
    paused = follow(server, ids[1])
    assert paused.status_code == 200 and "paused" in paused.text
    assert paused.headers["Cache-Control"] == "no-store"
    assert api(server, key, "DELETE", f"{ids[2]}/").status_code == 204
    assert follow(server, ids[2]).status_code == 404
    assert follow(server, "AAAAAAAA").status_code == 404
    assert follow(server, "bad id!").status_code == 404
    obj = api(server, key, "GET", f"{ids[0]}/").json()
    assert set(obj) == {
        "id",
        "short_id",
        "name",
        "destination_url",
        "variants",
        "is_active",
        "scan_count",
        "last_scanned_at",
        "destination_changes_count",
        "public_url",
        "created_at",
        "updated_at",
    }
    assert obj["variants"] == [] and obj["scan_count"] == 2 and obj["name"] == "Promo card 001"
    assert obj["public_url"] == f"{BASE}/q/{ids[0]}/" and isinstance(obj["id"], int)


def test_failed_and_cut_batches_leave_no_code_behind(server) -> None:
    account, key = server.account("enterprise", monthly_quota=30)
    # 422: one invalid item, dynamic ones beside it
    r = bulk(server, key, [dyn(1), dyn(2), {"data": "x", "size_inches": 99}])
    assert r.status_code == 422
    # 429: over the quota
    r = bulk(server, key, [dyn(i) for i in range(31)])
    assert r.status_code == 429
    # a destination that is not http(s) is a 422 for that item
    r = bulk(
        server,
        key,
        [
            dyn(1),
            {
                "data_type": "dynamic",
                "size_inches": 2,
                "payload": {"name": "x", "destination_url": "javascript:alert(1)"},
            },
        ],
    )
    assert r.status_code == 422
    assert "payload.destination_url must be an http or https URL" in r.json()["errors"]["1"]
    # a stream the client cuts
    big = [dyn(i, size_inches=4) for i in range(25)] + [
        {"data": f"https://example.com/{i}", "size_inches": 6} for i in range(400)
    ]
    server.admin.set_account(account, monthly_quota=10_000)
    with (
        httpx.Client(timeout=60) as client,
        client.stream(
            "POST", server.url + BULK, json={"items": big}, headers={"X-Api-Key": key}
        ) as s,
    ):
        chunks = s.iter_raw()
        next(chunks)
        time.sleep(0.2)
        assert api(server, key, "GET", "").json()["count"] == 25
    deadline = time.monotonic() + 20
    while api(server, key, "GET", "").json()["count"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert server.admin.usage(account) == 0
    # nothing left: a fresh batch can use the account normally
    ok = [dyn(7)]
    ids = check_dynamic_zip(bulk(server, key, ok), ok)
    listing = api(server, key, "GET", "").json()
    assert listing["count"] == 1 and listing["results"][0]["short_id"] == ids[0]


def test_active_cap_is_403_and_holds_under_concurrent_batches(make_server, backend) -> None:
    srv = make_server(backend, max_batches_per_account=16, max_batches_in_flight=16)
    account, key = srv.account("starter")  # 10 active dynamic QRs
    r = bulk(srv, key, [dyn(i) for i in range(11)])
    assert r.status_code == 403
    assert r.json() == {
        "detail": "Plan 'starter' allows up to 10 active dynamic QRs "
        "(0 active, this request adds 11)."
    }

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            srv.url + BULK,
                            json={"items": [dyn(i), dyn(i + 1), dyn(i + 2)]},
                            headers={"X-Api-Key": key},
                        )
                        for i in range(0, 24, 3)
                    )
                )
            )

    responses = asyncio.run(race())
    ok = [x for x in responses if x.status_code == 200]
    assert len(ok) == 3 and all(x.status_code in (200, 403) for x in responses)
    listing = api(srv, key, "GET", "?page_size=100").json()
    assert listing["count"] == 9
    # pausing frees a slot; resuming past the cap is refused
    first = listing["results"][0]["short_id"]
    assert api(srv, key, "PATCH", f"{first}/", json={"is_active": False}).status_code == 200
    created = api(srv, key, "POST", "", json={"name": "n", "destination_url": "https://e.co"})
    assert created.status_code == 201
    created = api(srv, key, "POST", "", json={"name": "m", "destination_url": "https://e.co"})
    assert created.status_code == 201
    again = api(srv, key, "PATCH", f"{first}/", json={"is_active": True})
    assert again.status_code == 403 and "(10 active, this request adds 1)" in again.text
    for x in ok:
        check_dynamic_zip(x, [{"data_type": "dynamic"}] * 3)


def test_management_api_lists_creates_and_guards_accounts(server) -> None:
    _, key = server.account("pro")
    _, other = server.account("pro")
    made = [
        api(server, key, "POST", "", json={"name": f"c{i}", "destination_url": f"https://e.co/{i}"})
        for i in range(5)
    ]
    assert all(m.status_code == 201 for m in made)
    page = api(server, key, "GET", "?page=1&page_size=2").json()
    assert page["count"] == 5 and len(page["results"]) == 2
    assert page["previous"] is None and page["next"].endswith("?page=2&page_size=2")
    last = api(server, key, "GET", "?page=3&page_size=2").json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert last["previous"].endswith("?page=2&page_size=2")
    assert api(server, key, "GET", "?page_size=500").json()["results"].__len__() == 5
    assert api(server, key, "GET", "?page=0").status_code == 400
    bearer = httpx.get(f"{server.url}/api/v1/dynamic/", headers={"Authorization": f"Bearer {key}"})
    assert bearer.status_code == 200 and bearer.json()["count"] == 5
    short_id = made[0].json()["short_id"]
    for method, path, body in (
        ("GET", f"{short_id}/", None),
        ("PATCH", f"{short_id}/", {"name": "stolen"}),
        ("DELETE", f"{short_id}/", None),
        ("GET", f"{short_id}/analytics/", None),
    ):
        r = api(server, other, method, path, json=body)
        assert r.status_code == 404, (method, path)
    assert api(server, other, "GET", "").json()["count"] == 0
    assert api(server, key, "GET", f"{short_id}/").json()["name"] == "c0"
    bad = api(server, key, "POST", "", json={"name": "x", "destination_url": "ftp://e.co"})
    assert bad.status_code == 400 and bad.json() == {
        "destination_url": ["Enter an http or https URL."]
    }
    missing = api(server, key, "POST", "", json={"destination_url": "https://e.co"})
    assert missing.status_code == 400 and "name" in missing.text
    assert httpx.get(f"{server.url}/api/v1/dynamic/").status_code == 401


def test_free_plan_gets_one_destination_edit_then_402(server) -> None:
    _, key = server.account("free")
    code = api(server, key, "POST", "", json={"name": "f", "destination_url": "https://a.co"})
    assert code.status_code == 201
    short_id = code.json()["short_id"]
    second = api(server, key, "POST", "", json={"name": "g", "destination_url": "https://b.co"})
    assert second.status_code == 403  # one active code on free
    assert (
        api(
            server, key, "PATCH", f"{short_id}/", json={"destination_url": "https://c.co"}
        ).status_code
        == 200
    )
    r = api(server, key, "PATCH", f"{short_id}/", json={"destination_url": "https://d.co"})
    assert r.status_code == 402 and "Upgrade" in r.json()["detail"]
    assert api(server, key, "PATCH", f"{short_id}/", json={"name": "renamed"}).status_code == 200
    assert follow(server, short_id).headers["Location"] == "https://c.co"


def test_scans_are_counted_into_analytics(server) -> None:
    _, key = server.account("starter")
    code = api(server, key, "POST", "", json={"name": "a", "destination_url": "https://a.co"})
    short_id = code.json()["short_id"]
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile"
    for ua, ref in (
        (iphone, "https://news.example.com/a"),
        (iphone, ""),
        (android, ""),
        ("Googlebot/2.1", "https://news.example.com/b"),
    ):
        headers = {"User-Agent": ua, **({"Referer": ref} if ref else {})}
        assert follow(server, short_id, **headers).status_code == 302
    stats = api(server, key, "GET", f"{short_id}/analytics/").json()
    assert stats["total"] == 4
    assert stats["by_user_agent"] == {"ios": 2, "android": 1, "bot": 1}
    assert stats["by_referrer"] == {"news.example.com": 2}
    assert sum(stats["by_day"].values()) == 4 and len(stats["recent"]) == 4
    assert stats["recent"][0]["agent"] == "bot"
    assert stats["monthly_scan_cap"] is None and stats["months_over_cap"] == []
    assert api(server, key, "GET", f"{short_id}/").json()["scan_count"] == 4


def test_redirect_is_one_redis_round_trip(tmp_path) -> None:
    """MONITOR on a Redis of the test's own: each redirect sends exactly one command, the
    EVALSHA of scan.lua (the commands the script runs inside Redis are marked 'lua')."""
    import threading

    redis = start_redis(str(tmp_path))
    # no webhook delivery worker here: its polling is not the redirect's (tests/webhooks
    # checks the redirect with scan.created wanted)
    srv = LiveServer("redis", redis.url, webhook_workers=0)
    try:
        _, key = srv.account("starter")
        short_id = api(
            srv, key, "POST", "", json={"name": "a", "destination_url": "https://a.co"}
        ).json()["short_id"]
        follow(srv, short_id)  # the first call may load the script
        seen: list[tuple[str, str]] = []
        ready, done = threading.Event(), threading.Event()

        def watch() -> None:
            with redis.client().monitor() as monitor:
                ready.set()
                for event in monitor.listen():
                    if done.is_set():
                        return
                    seen.append((event.get("client_type", ""), event["command"]))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        ready.wait(10)
        time.sleep(0.3)
        for _ in range(10):
            assert follow(srv, short_id).status_code == 302
        time.sleep(0.3)
        done.set()
        redis.client().ping()  # wakes the watcher so it can see ``done``
        watcher.join(10)
        sent = [cmd for kind, cmd in seen if kind != "lua" and not cmd.startswith("PING")]
        assert len(sent) == 10 and all(cmd.startswith("EVALSHA") for cmd in sent), sent
    finally:
        srv.stop()
        assert redis.process is not None
        redis.process.terminate()
        redis.process.wait(10)


def test_dynamic_codes_survive_a_redis_crash(tmp_path) -> None:
    """kill -9 the append-only Redis right after the batch; every short id still redirects."""
    redis = start_redis(str(tmp_path))
    srv = LiveServer("redis", redis.url, redis_timeout_s=1.0)
    try:
        _, key = srv.account("pro")
        items = [dyn(i) for i in range(20)]
        ids = check_dynamic_zip(bulk(srv, key, items), items)
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGKILL)
        redis.process.wait(10)
        redis = start_redis(str(tmp_path), port=redis.port)
        for i, short_id in enumerate(ids):
            deadline = time.monotonic() + 20
            while True:
                r = follow(srv, short_id)
                if r.status_code != 503:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert r.status_code == 302 and r.headers["Location"] == f"https://example.com/p/{i}"
    finally:
        srv.stop()
        if redis.process is not None and redis.process.poll() is None:
            redis.process.terminate()
            redis.process.wait(10)


@pytest.mark.parametrize(
    "ua,family",
    [
        ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X)", "ios"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", "macos"),
        ("Mozilla/5.0 (X11; Linux x86_64)", "linux"),
        ("curl/8.0", "other"),
        ("", "other"),
    ],
)
def test_user_agent_families(ua: str, family: str) -> None:
    from service.dynamic import agent_family

    assert agent_family(ua) == family


def test_a_malformed_referer_never_fails_a_redirect(server) -> None:
    _, key = server.account("starter")
    short_id = api(
        server, key, "POST", "", json={"name": "r", "destination_url": "https://a.co"}
    ).json()["short_id"]
    r = follow(server, short_id, Referer="http://[abc")
    assert r.status_code == 302 and r.headers["Location"] == "https://a.co"


def test_destinations_are_stored_as_safe_ascii_urls(server) -> None:
    """Regression: a non-Latin-1 destination made every later scan a 500 (the Location header)
    and 'http://[x' a 500 on create, PATCH and bulk."""
    _, key = server.account("starter")
    made = api(
        server, key, "POST", "", json={"name": "u", "destination_url": "https://例え.jp/パス?q=€"}
    )
    assert made.status_code == 201
    want = "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%E2%82%AC"
    assert made.json()["destination_url"] == want
    assert follow(server, made.json()["short_id"]).headers["Location"] == want
    for bad in (
        "http://[x",
        "https://e.co/a\r\nSet-Cookie: x=1",
        "https://e.co/a b",
        "mailto:a@b.co",
        "https://",
    ):
        r = api(server, key, "POST", "", json={"name": "u", "destination_url": bad})
        assert r.status_code == 400, bad
        r = api(server, key, "PATCH", f"{made.json()['short_id']}/", json={"destination_url": bad})
        assert r.status_code == 400, bad
        r = bulk(
            server,
            key,
            [
                {
                    "data_type": "dynamic",
                    "size_inches": 1,
                    "payload": {"name": "u", "destination_url": bad},
                }
            ],
        )
        assert r.status_code == 422, bad
    empty = api(server, key, "POST", "", json={"name": "", "destination_url": "https://a.co"})
    assert empty.status_code == 400 and list(empty.json()) == ["name"]


def test_page_parameters_out_of_range_are_400(server) -> None:
    _, key = server.account("starter")
    for query in ("page=%C2%B2", "page=99999999999999999999", "page_size=-1", "page=abc"):
        r = api(server, key, "GET", f"?{query}")
        assert r.status_code == 400, query


def test_head_answers_like_get_without_counting_a_scan(server) -> None:
    """Issue 17.5: link checkers and crawlers send HEAD (it was a 405)."""
    _, key = server.account("starter")
    short_id = api(
        server, key, "POST", "", json={"name": "h", "destination_url": "https://a.co/x"}
    ).json()["short_id"]
    for _ in range(2):
        r = httpx.head(f"{server.url}/q/{short_id}/")
        assert r.status_code == 302 and r.headers["Location"] == "https://a.co/x"
        assert r.headers["Cache-Control"] == "no-store" and r.content == b""
    assert api(server, key, "GET", f"{short_id}/").json()["scan_count"] == 0
    assert api(server, key, "PATCH", f"{short_id}/", json={"is_active": False}).status_code == 200
    paused = httpx.head(f"{server.url}/q/{short_id}/")
    assert paused.status_code == 200 and paused.headers["Cache-Control"] == "no-store"
    assert paused.headers["Content-Type"].startswith("text/html")
    page = follow(server, short_id)  # what a scanner gets: the small "paused" page, not stored
    assert page.status_code == 200 and "This QR code is paused" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert httpx.head(f"{server.url}/q/AAAAAAAA/").status_code == 404
    stats = api(server, key, "GET", f"{short_id}/analytics/").json()
    assert stats["total"] == 1  # the GET only


def test_timestamps_links_and_a_page_past_the_end_as_the_product(server) -> None:
    """Issue 17.6: timestamps end in Z; next/previous keep the trailing slash; a page past the
    end is the product's 404."""
    _, key = server.account("pro")
    made = [
        api(
            server, key, "POST", "", json={"name": f"t{i}", "destination_url": f"https://e.co/{i}"}
        ).json()
        for i in range(3)
    ]
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    import re

    assert re.fullmatch(stamp, made[0]["created_at"]) and re.fullmatch(stamp, made[0]["updated_at"])
    short_id = made[0]["short_id"]
    follow(server, short_id)
    got = api(server, key, "GET", f"{short_id}/").json()
    assert re.fullmatch(stamp, got["last_scanned_at"]), got
    stats = api(server, key, "GET", f"{short_id}/analytics/").json()
    assert re.fullmatch(stamp, stats["last_scanned_at"])
    assert re.fullmatch(stamp, stats["recent"][0]["at"])
    page = api(server, key, "GET", "?page=2&page_size=1").json()
    assert page["next"] == f"{server.url}/api/v1/dynamic/?page=3&page_size=1"
    assert page["previous"] == f"{server.url}/api/v1/dynamic/?page=1&page_size=1"
    past = api(server, key, "GET", "?page=4&page_size=1")
    assert past.status_code == 404 and past.json() == {"detail": "Invalid page."}
    _, empty = server.account("pro")
    first = api(server, empty, "GET", "")
    assert first.status_code == 200 and first.json()["count"] == 0


def test_create_and_update_bodies_read_as_the_product_reads_them(server) -> None:
    """Issue 17.1/17.2 on the management API: every failing field, booleans as strings."""
    _, key = server.account("starter")
    r = api(server, key, "POST", "", json={"name": "", "destination_url": 5})
    assert r.status_code == 400 and r.json() == {
        "name": ["This field may not be blank."],
        "destination_url": ["Not a valid string."],
    }
    assert api(server, key, "POST", "", json={}).json() == {
        "name": ["This field is required."],
        "destination_url": ["This field is required."],
    }
    short_id = api(
        server, key, "POST", "", json={"name": "s", "destination_url": "https://a.co"}
    ).json()["short_id"]
    r = api(server, key, "PATCH", f"{short_id}/", json={"is_active": "false"})
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = api(server, key, "PATCH", f"{short_id}/", json={"is_active": "maybe"})
    assert r.status_code == 400 and r.json() == {"is_active": ["Must be a valid boolean."]}
