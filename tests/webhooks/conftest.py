"""Servers whose webhooks may reach the loopback receiver, with quick retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver

# Loopback over http is for tests only; retries every ~0.2-0.4 s for 3 s, disabled after 4.
HOOKS = {"webhook_allowed_networks": "127.0.0.0/8", "webhook_allow_http": True,
         "webhook_poll_s": 0.05, "webhook_retry_base_s": 0.2, "webhook_retry_max_s": 0.4,
         "webhook_retry_window_s": 3.0, "webhook_disable_after": 4}


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def hook_server(backend: str, make_server):  # type: ignore[no-untyped-def]
    return make_server(backend, **HOOKS)
