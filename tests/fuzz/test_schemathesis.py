"""Schemathesis against the live app (issue 21): every route and method of /schema, then the
stateful links (create a dynamic code -> read -> update -> list -> delete; render -> replay with
the same Idempotency-Key). Checks: no 5xx, statuses, content types, headers and bodies as the
document says, which makes every error body the contract's.

Seeded and bounded so the run stays a few minutes on two cores. Two hooks keep the renders
affordable and the assets local, without narrowing what the document promises: an image is at
most ``MAX_PIXELS`` wide (sizes and dpi at their limits are the Hypothesis properties' job, in
test_render_properties.py), a bulk body carries at most ``MAX_ITEMS`` items, and logo and
background URLs and uploads come from the suite's asset server (good and hostile images).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from service.openapi import openapi_dict
from tests.assetserver import IMAGES, AssetServer
from tests.conftest import ASSETS_ALLOWED, LiveServer

SEED = 21
EXAMPLES = 10  # per operation (fuzzing phase; the coverage phase adds its own)
STATEFUL_SUITES = 6
STATEFUL_SCENARIOS = 3  # per suite
STATEFUL_STEPS = 10
MAX_PIXELS = 600
MAX_ITEMS = 3
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
    use_after_free,
]
# Hosted assets a fuzzed URL is replaced with (none of the slow ones: 7 s each)
ASSET_PATHS = [
    "logo.png",
    "logo.jpg",
    "logo.webp",
    "logo.gif",
    "wide.png",
    "photo.jpg",
    "truncated.png",
    "huge.png",
    "vector.svg",
    "scan.tiff",
    "text.png",
    "404",
    "hop1",
    "loop",
    "to-metadata",
    "gzip-bomb",
]
UPLOADS = [IMAGES[name] for name in ("logo.png", "logo.jpg", "huge.png", "vector.svg")]

schema = schemathesis.openapi.from_dict(openapi_dict())
schema.config.seed = SEED
schema.config.generation.update(max_examples=EXAMPLES, database="none")
# the document's own links only: the inferred ones guessed X-Request-Id from a code's numeric id
schema.config.phases.stateful.inference.algorithms = []
_assets: dict[str, AssetServer] = {}
ANSWERS: Counter[tuple[str, int]] = Counter()  # (operation, status) of every call made


def _pick(value: object, choices: list[Any]) -> Any:
    """A deterministic choice by the generated value, so the shrunk case is reproducible."""
    return choices[zlib.crc32(repr(value).encode()) % len(choices)]


def _affordable(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    size, dpi = item.get("size_inches"), item.get("dpi", 300)
    if (
        isinstance(size, (int, float))
        and isinstance(dpi, (int, float))
        and not isinstance(size, bool)
        and not isinstance(dpi, bool)
        and size * dpi > MAX_PIXELS
        and dpi > 0
    ):
        item["size_inches"] = max(0.5, round(MAX_PIXELS / dpi, 2))
    for field in ("logo_url", "bg_image_url"):
        if isinstance(item.get(field), str) and "assets" in _assets:
            item[field] = _assets["assets"].url(_pick(item[field], ASSET_PATHS))
    for field in ("logo_file", "bg_image_file"):
        if isinstance(item.get(field), bytes):
            item[field] = _pick(item[field], [item[field], *UPLOADS])
    return item


@schema.hook
def map_body(context: schemathesis.HookContext, body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        body["items"] = [_affordable(i) for i in body["items"][:MAX_ITEMS]]
    return _affordable(body)


@schema.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """A generated Idempotency-Key bound to the body it came with: without this nearly every
    render after the first met the same key with another body (a 409, correctly) and never
    reached the renderer. The same body keeps the same key, so the replay links still replay."""
    key = case.headers.get("Idempotency-Key") if case.headers else None
    if isinstance(key, str) and key.isascii() and key.isprintable() and " " not in key:
        digest = f".{zlib.crc32(repr(case.body).encode()):08x}"
        if not key.endswith(digest):  # a replay step carries the first call's key
            case.headers["Idempotency-Key"] = key[:240] + digest
    return case


@schema.hook
def after_call(
    context: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response
) -> None:
    ANSWERS[(case.operation.label, response.status_code)] += 1


@pytest.fixture(scope="module")
def fuzz_server(
    make_server,
    asset_server: AssetServer,  # type: ignore[no-untyped-def]
    pytestconfig: pytest.Config,
) -> Iterator[dict[str, Any]]:
    """The app on Redis, an enterprise account (no caps to run into), assets on loopback:
    what every call is sent with. At the end, how many calls got which status."""
    server: LiveServer = make_server("redis", **ASSETS_ALLOWED)
    _, key = server.account("enterprise")
    _assets["assets"] = asset_server
    yield {"base_url": server.url, "headers": {"X-Api-Key": key}, "timeout": 120}
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nschemathesis: {sum(ANSWERS.values())} calls")
        for (label, status), n in sorted(ANSWERS.items()):
            print(f"  {label:45} {status} x{n}")


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation(case: schemathesis.Case, fuzz_server: dict[str, Any]) -> None:
    case.call_and_validate(checks=CHECKS, **fuzz_server)


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    call_kwargs: dict[str, Any] = {}

    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return self.call_kwargs


def test_stateful_workflows(fuzz_server: dict[str, Any]) -> None:
    """Scenarios along the links, in suites with their own seeds, as Schemathesis' own runner
    does: generate only (replaying or shrinking meets a server whose state has moved on), and
    a suite whose generation Hypothesis finds inconsistent for that reason ends early; any
    check that fails still fails the test."""
    APIWorkflows.call_kwargs = fuzz_server
    ended_early = 0
    for suite in range(STATEFUL_SUITES):
        machine = hypothesis.seed(SEED * 1000 + suite)(APIWorkflows)
        try:
            machine.run(
                settings=hypothesis.settings(
                    max_examples=STATEFUL_SCENARIOS,
                    stateful_step_count=STATEFUL_STEPS,
                    deadline=None,
                    database=None,
                    phases=[hypothesis.Phase.generate],
                    suppress_health_check=list(hypothesis.HealthCheck),
                )
            )
        except FlakyStrategyDefinition:
            ended_early += 1
    assert ended_early < STATEFUL_SUITES, "every suite ended early: nothing was checked"
