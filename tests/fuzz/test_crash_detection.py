"""The suite's 5xx guard (tests/conftest.py): an unhandled error in the live app, which runs in
this process, is collected and fails the test that caused it."""

from __future__ import annotations

import pytest
import requests

from tests import conftest


@pytest.mark.allow_server_errors
def test_an_unhandled_error_in_the_live_app_is_collected(make_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded")
    _, key = server.account("starter")

    def broken(*_: object, **__: object) -> int:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(server.admin, "used_this_month", broken)  # the app's own store
    r = requests.get(server.url + "/api/v1/usage/", headers={"X-Api-Key": key}, timeout=10)
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal error."}
    messages = [record.getMessage() for record in conftest._crashes.records]
    assert "unhandled error on /api/v1/usage" in messages
