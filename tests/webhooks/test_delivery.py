"""Delivery to a loopback receiver: signatures, retries, dead letters, auto-disable, slow and
vanished receivers, redirects, and a target that turns internal after it was accepted."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.assetserver import TestResolver
from tests.webhooks.receiver import Receiver, verify

HOOKS = "/api/v1/webhooks/"


def call(server, key: str, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"X-Api-Key": key}, timeout=30, **kw)  # type: ignore[arg-type]


def subscribe(server, key: str, url: str, events: list[str] | None = None) -> dict[str, object]:
    r = call(server, key, "POST", HOOKS, json={"url": url, "events": events or ["scan.created"]})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def deliveries(
    server, key: str, hook: str, until: str | None = None, timeout: float = 30
) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        found = call(server, key, "GET", f"{HOOKS}{hook}/deliveries/").json()["deliveries"]
        if until is None or any(d["outcome"] == until for d in found):
            return found  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def test_a_test_event_arrives_signed(hook_server, receiver: Receiver) -> None:
    _, key = hook_server.account("pro")
    path = f"/ok-{uuid.uuid4().hex}"
    hook = subscribe(hook_server, key, receiver.url(path))
    receiver.secrets[path] = str(hook["secret"])
    queued = call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/test/")
    assert queued.status_code == 202 and queued.json()["type"] == "webhook.test"
    (got,) = receiver.wait(path)
    assert got.valid and got.headers["Content-Type"] == "application/json"
    assert got.headers["X-QRStudio-Event"] == "webhook.test"
    event = got.event
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["id"] == queued.json()["id"] == got.headers["X-QRStudio-Event-Id"]
    assert event["data"] == {"webhook_id": hook["id"]}
    (entry,) = deliveries(hook_server, key, str(hook["id"]), until="delivered")
    assert entry["status_code"] == 204 and entry["error"] is None and entry["attempt"] == 1
    assert entry["event_id"] == event["id"] and isinstance(entry["duration_ms"], int)
    (listed,) = call(hook_server, key, "GET", HOOKS).json()["webhooks"]
    assert listed["last_response_status"] == 204 and listed["last_delivery_at"]

    rotated = call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/rotate/").json()
    receiver.secrets[path] = rotated["secret"]
    call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/test/")
    second = receiver.wait(path, 2)[1]
    assert second.valid  # signed with the new secret, not the old one
    header = second.headers["X-QRStudio-Signature"]
    assert not verify(str(hook["secret"]), header, second.body)


def test_failures_back_off_dead_letter_and_disable(hook_server, receiver: Receiver) -> None:
    _, key = hook_server.account("pro")
    path = f"/fail-{uuid.uuid4().hex}"
    receiver.mode[path] = "fail"
    hook = subscribe(hook_server, key, receiver.url(path))
    receiver.secrets[path] = str(hook["secret"])
    call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/test/")
    log = deliveries(hook_server, key, str(hook["id"]), until="dead_letter")
    assert log[0]["outcome"] == "dead_letter"  # newest first: the last attempt
    attempts = [d["attempt"] for d in reversed(log)]
    assert attempts == list(range(1, len(log) + 1)) and len(log) >= 4
    assert all(d["status_code"] == 500 and d["error"] == "HTTP 500" for d in log)
    assert len(receiver.at(path)) == len(log)  # every logged attempt reached the receiver
    assert len({r.event["id"] for r in receiver.at(path)}) == 1  # the same event each time
    (sub,) = call(hook_server, key, "GET", HOOKS).json()["webhooks"]
    assert sub["status"] == "disabled" and sub["consecutive_failures"] == len(log)
    assert sub["last_response_status"] == 500
    again = call(hook_server, key, "PATCH", f"{HOOKS}{hook['id']}/", json={"status": "active"})
    assert again.json()["status"] == "active" and again.json()["consecutive_failures"] == 0
    receiver.mode[path] = "ok"
    call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/test/")
    receiver.wait(path)


def test_slow_vanished_and_redirecting_receivers_fail(hook_server, receiver: Receiver) -> None:
    _, key = hook_server.account("pro")
    slow, redirect = f"/slow-{uuid.uuid4().hex}", f"/redirect-{uuid.uuid4().hex}"
    receiver.mode[slow], receiver.mode[redirect] = "slow", "redirect"
    gone = Receiver()
    gone_url = gone.url("/gone")
    gone.stop()  # nothing listens there any more
    cases = {slow: receiver.url(slow), redirect: receiver.url(redirect), "gone": gone_url}
    hooks = {name: subscribe(hook_server, key, url) for name, url in cases.items()}
    for hook in hooks.values():
        call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/test/")
    slow_log = deliveries(hook_server, key, str(hooks[slow]["id"]), until="dead_letter")
    assert slow_log[-1]["error"] == "no answer within 5 s" and slow_log[-1]["status_code"] is None
    redirect_log = deliveries(hook_server, key, str(hooks[redirect]["id"]), until="dead_letter")
    assert redirect_log[-1]["status_code"] == 302
    assert redirect_log[-1]["error"] == "HTTP 302 (redirects are not followed)"
    assert not receiver.at("/ok")  # the redirect's target was never called
    gone_log = deliveries(hook_server, key, str(hooks["gone"]["id"]), until="dead_letter")
    assert gone_log[-1]["status_code"] is None and gone_log[-1]["error"]


def test_a_name_that_turns_internal_is_refused_at_delivery(hook_server) -> None:
    _, key = hook_server.account("pro")
    name = f"flip-{uuid.uuid4().hex[:8]}.test"
    TestResolver.NAMES[name] = ["93.184.216.34"]
    try:
        hook = subscribe(hook_server, key, f"https://{name}/h")
        TestResolver.NAMES[name] = ["10.0.0.5"]
        call(hook_server, key, "POST", f"{HOOKS}{hook['id']}/test/")
        log = deliveries(hook_server, key, str(hook["id"]), until="dead_letter")
        assert log[-1]["error"] == (
            f"refusing to deliver to {name}: resolves to private/internal IP 10.0.0.5"
        )
    finally:
        del TestResolver.NAMES[name]
