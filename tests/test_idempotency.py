"""Idempotency-Key on bulk, single render and dynamic create: a retry costs nothing twice."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"


def post(server, path: str, key: str, body: object, idem: str) -> httpx.Response:
    return httpx.post(
        server.url + path,
        json=body,
        timeout=120,
        headers={"X-Api-Key": key, "Idempotency-Key": idem},
    )


def items(tag: str) -> list[dict[str, object]]:
    return [{"data": f"https://example.com/{tag}/{i}", "size_inches": 1} for i in range(4)] + [
        {
            "data_type": "dynamic",
            "size_inches": 1,
            "payload": {"name": f"d{i}", "destination_url": f"https://example.com/d/{i}"},
        }
        for i in range(2)
    ]


def test_bulk_retry_returns_the_same_result_without_charging(server) -> None:
    account, key = server.account("pro")
    body = {"items": items(uuid.uuid4().hex[:8])}
    first = post(server, BULK, key, body, "retry-1")
    second = post(server, BULK, key, body, "retry-1")
    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["X-QR-Quota-Remaining"] == first.headers["X-QR-Quota-Remaining"]
    a, manifest_a = open_zip(first.content)
    b, manifest_b = open_zip(second.content)
    assert a.read("manifest.json") == b.read("manifest.json") and manifest_a == manifest_b
    for entry in manifest_a["items"]:
        data = a.read(entry["filename"])
        assert b.read(entry["filename"]) == data
        expected = (
            entry["dynamic"]["public_url"]
            if "dynamic" in entry
            else body["items"][entry["index"]]["data"]
        )
        check_image("png", data, expected, 1, 300)
    assert server.admin.usage(account) == 6
    codes = httpx.get(server.url + "/api/v1/dynamic/", headers={"X-Api-Key": key}).json()
    assert codes["count"] == 2
    # the same key with another body
    other = post(server, BULK, key, {"items": items("other")}, "retry-1")
    assert other.status_code == 409 and "another request body" in other.json()["detail"]
    # another key is another request
    assert post(server, BULK, key, body, "retry-2").status_code == 200
    assert server.admin.usage(account) == 12


def test_a_key_in_flight_is_409_and_a_cut_one_is_released(server) -> None:
    account, key = server.account("agency")
    long = {
        "items": [
            {"data": f"https://example.com/{uuid.uuid4().hex}/{i}", "size_inches": 6}
            for i in range(400)
        ]
    }
    with (
        httpx.Client(timeout=60) as client,
        client.stream(
            "POST",
            server.url + BULK,
            json=long,
            headers={"X-Api-Key": key, "Idempotency-Key": "slow"},
        ) as r,
    ):
        chunks = r.iter_raw()
        next(chunks)
        again = post(server, BULK, key, long, "slow")
        assert again.status_code == 409 and "in progress" in again.json()["detail"]
    deadline = time.monotonic() + 20
    while server.admin.usage(account) != 0:  # cut: refunded, and the key released
        assert time.monotonic() < deadline
        time.sleep(0.05)
    small = {"items": long["items"][:3]}
    retry = post(server, BULK, key, small, "slow")
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry.headers
    archive, _ = open_zip(retry.content)
    for i in range(3):
        check_image("png", archive.read(f"qr-{i + 1:04d}.png"), long["items"][i]["data"], 6, 300)
    assert server.admin.usage(account) == 3


def test_a_refused_request_releases_its_key(server) -> None:
    account, key = server.account("starter")
    bad = {"items": [{"data": "a", "size_inches": 99}]}
    assert post(server, BULK, key, bad, "k").status_code == 422
    assert post(server, BULK, key, bad, "k").status_code == 422  # not 409: released
    good = {"items": [{"data": "fixed", "size_inches": 1}]}
    r = post(server, BULK, key, good, "k")
    assert r.status_code == 200
    check_image("png", open_zip(r.content)[0].read("qr-0001.png"), "fixed", 1, 300)
    assert server.admin.usage(account) == 1


def test_single_render_and_dynamic_create_retries(server) -> None:
    account, key = server.account("starter")
    body = {
        "data_type": "dynamic",
        "size_inches": 1,
        "payload": {"name": "s", "destination_url": "https://example.com/s"},
    }
    one = post(server, "/api/v1/generate/", key, body, "single-1")
    two = post(server, "/api/v1/generate/", key, body, "single-1")
    assert one.status_code == two.status_code == 200 and one.content == two.content
    assert one.headers["X-QR-Short-Id"] == two.headers["X-QR-Short-Id"]
    assert two.headers["X-QR-Cache"] == one.headers["X-QR-Cache"]
    check_image("png", two.content, two.headers["X-QR-Public-Url"], 1, 300)
    assert server.admin.usage(account) == 1
    conflict = post(server, "/api/v1/generate/", key, {**body, "size_inches": 2}, "single-1")
    assert conflict.status_code == 409
    made = [
        post(
            server,
            "/api/v1/dynamic/",
            key,
            {"name": "c", "destination_url": "https://example.com/c"},
            "create-1",
        )
        for _ in range(2)
    ]
    assert [m.status_code for m in made] == [201, 201]
    assert made[0].json()["short_id"] == made[1].json()["short_id"]
    listing = httpx.get(server.url + "/api/v1/dynamic/", headers={"X-Api-Key": key}).json()
    assert listing["count"] == 2  # the single render's code and this one, once
    bad = httpx.post(
        server.url + BULK,
        json={"items": []},
        headers={"X-Api-Key": key, "Idempotency-Key": "bad key with spaces"},
    )
    assert bad.status_code == 400


def test_a_replay_keeps_its_first_answer_after_a_plan_change(server) -> None:
    account, key = server.account("pro")
    body = {"items": [{"data": f"https://example.com/{uuid.uuid4().hex}", "size_inches": 12}]}
    first = post(server, BULK, key, body, "downgrade")
    assert first.status_code == 200
    single = {"data": f"https://example.com/{uuid.uuid4().hex}", "size_inches": 12}
    one = post(server, "/api/v1/generate/", key, single, "downgrade-single")
    assert one.status_code == 200
    server.admin.set_account(account, plan="starter")  # 12 in is over starter's 8 in
    again = post(server, BULK, key, body, "downgrade")
    assert again.status_code == 200 and again.content == first.content
    check_image(
        "png",
        open_zip(again.content)[0].read("qr-0001.png"),
        str(body["items"][0]["data"]),
        12,
        300,
    )
    two = post(server, "/api/v1/generate/", key, single, "downgrade-single")
    assert two.status_code == 200 and two.content == one.content
    assert server.admin.usage(account) == 2


def test_a_key_belongs_to_one_request_across_routes(server) -> None:
    _, key = server.account("starter")
    body = {"data": "route", "size_inches": 1}
    first = post(server, "/api/v1/generate/", key, body, "one-key")
    check_image("png", first.content, "route", 1, 300)
    other = post(server, BULK, key, {"items": [body]}, "one-key")
    assert other.status_code == 409


def test_dynamic_create_replay_is_the_original_answer(server) -> None:
    _, key = server.account("starter")
    body = {"name": "orig", "destination_url": "https://example.com/orig"}
    made = post(server, "/api/v1/dynamic/", key, body, "create-orig")
    short_id = made.json()["short_id"]
    httpx.patch(
        f"{server.url}/api/v1/dynamic/{short_id}/",
        headers={"X-Api-Key": key},
        json={"name": "renamed"},
    )
    again = post(server, "/api/v1/dynamic/", key, body, "create-orig")
    assert again.status_code == 201 and again.json() == made.json()
