"""Webhook subscriptions over HTTP: shapes, plan gate, validation, refused targets."""

from __future__ import annotations

import uuid

import httpx

HOOKS = "/api/v1/webhooks/"
FIELDS = {
    "id",
    "url",
    "description",
    "events",
    "status",
    "consecutive_failures",
    "last_delivery_at",
    "last_response_status",
    "created_at",
}


def call(server, key: str, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"X-Api-Key": key}, timeout=30, **kw)  # type: ignore[arg-type]


def test_create_list_patch_rotate_delete(server) -> None:
    _, key = server.account("pro")
    made = call(
        server,
        key,
        "POST",
        HOOKS,
        json={
            "url": "https://assets.test/hook",
            "description": "orders",
            "events": ["scan.created"],
        },
    )
    # assets.test resolves to loopback: refused on a server that allows no internal network
    assert made.status_code == 400 and "private/internal IP 127.0.0.1" in made.json()["url"]
    made = call(
        server,
        key,
        "POST",
        HOOKS,
        json={
            "url": "https://93.184.216.34/hook",
            "description": "orders",
            "events": ["scan.created", "quota.threshold_75", "scan.created"],
        },
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert set(hook) == FIELDS | {"secret"} and hook["secret"].startswith("whsec_")
    assert hook["events"] == ["scan.created", "quota.threshold_75"]
    assert hook["status"] == "active" and hook["consecutive_failures"] == 0
    assert hook["last_delivery_at"] is None and hook["last_response_status"] is None
    listed = call(server, key, "GET", HOOKS).json()["webhooks"]
    assert [set(h) for h in listed] == [FIELDS] and hook["secret"] not in str(listed)

    path = f"{HOOKS}{hook['id']}/"
    patched = call(
        server,
        key,
        "PATCH",
        path,
        json={"events": ["dynamic_qr.updated"], "description": "", "status": "disabled"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["events"] == ["dynamic_qr.updated"]
    assert patched.json()["status"] == "disabled" and "secret" not in patched.json()
    rotated = call(server, key, "POST", path + "rotate/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != hook["secret"]
    assert call(server, key, "GET", path + "deliveries/").json() == {"deliveries": []}

    _, other = server.account("pro")
    for method, suffix in [
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "rotate/"),
        ("GET", "deliveries/"),
        ("POST", "test/"),
    ]:
        r = call(server, other, method, path + suffix, json={})
        assert (r.status_code, r.json()) == (404, {"detail": "Not found."}), (method, suffix)
    assert call(server, key, "DELETE", path).status_code == 204
    assert call(server, key, "DELETE", path).status_code == 404
    assert call(server, key, "GET", f"{HOOKS}nonsense/deliveries/").status_code == 404
    assert call(server, key, "GET", HOOKS).json() == {"webhooks": []}


def test_plans_below_pro_are_refused(server) -> None:
    for plan in ("free", "starter"):
        _, key = server.account(plan)
        r = call(server, key, "GET", HOOKS)
        assert (r.status_code, r.json()) == (
            403,
            {"detail": f"Plan '{plan}' doesn't include webhooks. Upgrade to Pro or higher."},
        )
    r = httpx.get(server.url + HOOKS)
    assert r.status_code == 401


def test_invalid_bodies(server) -> None:
    _, key = server.account("agency")
    good = {"url": "https://93.184.216.34/h", "events": ["scan.created"]}
    cases = [
        ({"events": ["scan.created"]}, {"url": "Required."}),
        (
            {**good, "url": "https://93.184.216.34/" + "a" * 2000},
            {"url": "Ensure this field has no more than 2000 characters."},
        ),
        ({**good, "url": "http://93.184.216.34/h"}, {"url": "Enter an https URL."}),
        (
            {**good, "url": "ftp://93.184.216.34/h"},
            {"url": "refusing to deliver to ftp://93.184.216.34/h: only https URLs are allowed"},
        ),
        (
            {**good, "events": []},
            {
                "events": "Choose one or more of: scan.created, "
                "dynamic_qr.created, dynamic_qr.updated, "
                "quota.threshold_75, quota.threshold_100."
            },
        ),
        ({**good, "events": ["scan.deleted"]}, {"events": '"scan.deleted" is not a valid choice.'}),
        (
            {**good, "description": "d" * 201},
            {"description": "Ensure this field has no more than 200 characters."},
        ),
    ]
    for body, answer in cases:
        r = call(server, key, "POST", HOOKS, json=body)
        assert (r.status_code, r.json()) == (400, answer), body
    assert call(server, key, "POST", HOOKS, content=b"[").status_code == 400
    made = call(server, key, "POST", HOOKS, json=good).json()
    r = call(server, key, "PATCH", f"{HOOKS}{made['id']}/", json={"status": "paused"})
    assert (r.status_code, r.json()) == (400, {"status": "Use 'active' or 'disabled'."})
    assert call(server, key, "GET", HOOKS).json()["webhooks"][0]["status"] == "active"


def test_internal_targets_are_refused(server) -> None:
    _, key = server.account("enterprise")
    refused = {
        "https://127.0.0.1/h": "private/internal IP 127.0.0.1",
        "https://10.0.0.5/h": "private/internal IP 10.0.0.5",
        "https://169.254.169.254/latest/meta-data/": "private/internal IP 169.254.169.254",
        "https://[::1]/h": "private/internal IP ::1",
        "https://[::ffff:127.0.0.1]/h": "private/internal IP ::ffff:7f00:1",
        "https://0x7f000001/h": "private/internal IP 127.0.0.1",
        "https://internal-host/h": "private/internal IP 10.0.0.5",
        "https://metadata.test/h": "private/internal IP 169.254.169.254",
        "https://rebind.test/h": "private/internal IP 192.168.0.10",
        "https://v6-internal.test/h": "private/internal IP fd00::1",
        "https://mapped.test/h": "private/internal IP ::ffff:a01:203",
        f"https://{uuid.uuid4().hex}.invalid/h": "the name does not resolve",
    }
    for url, why in refused.items():
        r = call(server, key, "POST", HOOKS, json={"url": url, "events": ["scan.created"]})
        assert r.status_code == 400 and why in r.json()["url"], (url, r.text)
    assert call(server, key, "GET", HOOKS).json() == {"webhooks": []}
