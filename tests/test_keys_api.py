"""Keys over HTTP and GET /api/v1/usage/me/ (CONTRACT section 8), on both stores."""

from __future__ import annotations

import time

import httpx

KEYS = "/api/v1/keys/"


def call(server, key: str | None, method: str, path: str, **kw: object) -> httpx.Response:
    headers = {"X-Api-Key": key} if key else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def test_create_list_rotate_revoke(server) -> None:
    account, key = server.account("pro")
    listed = call(server, key, "GET", KEYS)
    assert listed.status_code == 200, listed.text
    (first,) = listed.json()["keys"]
    assert set(first) == {
        "id",
        "name",
        "key_prefix",
        "plan",
        "is_active",
        "created_at",
        "last_used_at",
        "revoked_at",
    }
    assert first["plan"] == "pro" and first["is_active"] and first["revoked_at"] is None
    assert key.startswith(first["key_prefix"]) and key not in listed.text

    made = call(server, key, "POST", KEYS, json={"name": "CI"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert set(body) == {"id", "name", "raw_key", "key_prefix", "plan", "warning"}
    assert body["warning"] == "Store this key securely. It will NOT be shown again."
    assert body["plan"] == "pro" and body["raw_key"].startswith(body["key_prefix"])
    new = body["raw_key"]
    assert call(server, new, "GET", "/api/v1/usage/").status_code == 200
    assert new not in call(server, key, "GET", KEYS).text

    rotated = call(server, key, "POST", f"{KEYS}{body['id']}/rotate/")
    assert rotated.status_code == 201, rotated.text
    r2 = rotated.json()
    assert r2["name"] == "CI" and r2["id"] != body["id"] and r2["raw_key"] != new
    assert call(server, new, "GET", "/api/v1/usage/").status_code == 401
    assert call(server, r2["raw_key"], "GET", "/api/v1/usage/").status_code == 200

    assert call(server, key, "DELETE", f"{KEYS}{r2['id']}/").status_code == 204
    gone = call(server, r2["raw_key"], "GET", "/api/v1/usage/")
    assert gone.status_code == 401 and gone.json() == {"detail": "Missing or invalid X-Api-Key."}
    assert call(server, key, "DELETE", f"{KEYS}{r2['id']}/").status_code == 404
    assert call(server, key, "POST", f"{KEYS}{r2['id']}/rotate/").status_code == 404
    rows = {k["id"]: k for k in call(server, key, "GET", KEYS).json()["keys"]}
    assert len(rows) == 3 and rows[first["id"]]["is_active"]
    for kid in (body["id"], r2["id"]):
        assert not rows[kid]["is_active"] and rows[kid]["revoked_at"]

    _, other = server.account("pro")
    assert call(server, other, "DELETE", f"{KEYS}{first['id']}/").status_code == 404
    assert call(server, key, "GET", "/api/v1/usage/").status_code == 200


def test_create_errors(server) -> None:
    _, key = server.account("starter")
    cases = [
        ({}, {"name": "Required."}),
        ({"name": "  "}, {"name": "Required."}),
        ({"name": 3}, {"name": "Not a valid string."}),
        ({"name": "x" * 101}, {"name": "Ensure this field has no more than 100 characters."}),
        (
            {"name": "a", "plan": "pro"},
            {"plan": "Plan 'pro' exceeds your subscription tier 'starter'."},
        ),
        ({"name": "a", "plan": "gold"}, {"plan": '"gold" is not a valid choice.'}),
    ]
    for body, answer in cases:
        r = call(server, key, "POST", KEYS, json=body)
        assert (r.status_code, r.json()) == (400, answer), body
    r = call(server, key, "POST", KEYS, content=b"{nope")
    assert r.status_code == 400 and "detail" in r.json()
    r = call(server, key, "POST", KEYS, json=[1])
    assert r.status_code == 400
    r = call(server, key, "POST", KEYS, json={"name": "x" * 70_000})
    assert r.status_code == 413 and "detail" in r.json()
    for method, path in [
        ("GET", KEYS),
        ("POST", KEYS),
        ("DELETE", f"{KEYS}abc/"),
        ("POST", f"{KEYS}abc/rotate/"),
        ("GET", "/api/v1/usage/me/"),
    ]:
        r = call(server, None, method, path, json={"name": "x"})
        assert r.status_code == 401 and r.json() == {"detail": "Missing or invalid X-Api-Key."}
    assert len(call(server, key, "GET", KEYS).json()["keys"]) == 1


def test_a_key_with_a_lower_plan_gets_that_plans_limits(server) -> None:
    _, key = server.account("pro")
    made = call(server, key, "POST", KEYS, json={"name": "limited", "plan": "starter"})
    assert made.status_code == 201 and made.json()["plan"] == "starter"
    limited = made.json()["raw_key"]
    r = call(
        server,
        limited,
        "POST",
        "/api/v1/generate/",
        json={"data": "https://example.com", "size_inches": 10},
    )
    assert r.status_code == 403 and "starter" in r.json()["detail"]
    usage = call(server, limited, "GET", "/api/v1/usage/").json()
    assert usage["plan"] == "starter" and usage["monthly_quota"] == 5000  # the account's quota
    # the limited key cannot mint a key above its own plan
    r = call(server, limited, "POST", KEYS, json={"name": "escalate", "plan": "pro"})
    assert r.json() == {"plan": "Plan 'pro' exceeds your subscription tier 'starter'."}
    assert (
        call(
            server,
            key,
            "POST",
            "/api/v1/generate/",
            json={"data": "https://example.com", "size_inches": 10},
        ).status_code
        == 200
    )


def test_usage_me_counts_the_account_and_lists_its_keys(server) -> None:
    _, key = server.account("starter")
    second = call(server, key, "POST", KEYS, json={"name": "second"}).json()
    r = call(
        server,
        second["raw_key"],
        "POST",
        "/api/v1/generate/",
        json={"data": "https://example.com/u", "size_inches": 1},
    )
    assert r.status_code == 200
    me = call(server, key, "GET", "/api/v1/usage/me/")
    assert me.status_code == 200, me.text
    body = me.json()
    assert {
        k: body[k]
        for k in (
            "plan",
            "monthly_quota",
            "used_this_month",
            "remaining",
            "credits_remaining",
            "active_dynamic_qrs",
            "max_active_dynamic_qrs",
        )
    } == {
        "plan": "starter",
        "monthly_quota": 500,
        "used_this_month": 1,
        "remaining": 499,
        "credits_remaining": 499,
        "active_dynamic_qrs": 0,
        "max_active_dynamic_qrs": 10,
    }
    assert sorted(k["name"] for k in body["by_key"]) == ["second", "test"]
    deadline = time.monotonic() + 10
    while True:  # the last use is written off the request path
        rows = {k["name"]: k for k in call(server, key, "GET", KEYS).json()["keys"]}
        if rows["second"]["last_used_at"]:
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)
