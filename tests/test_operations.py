"""Operations: metrics, logs, overload bounds, the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import re

import httpx

from tests.procserver import ServeProcess
from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            m = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
            if not m:
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(m.group(2))
    return total


def test_metrics_count_a_known_sequence(make_server, backend) -> None:
    srv = make_server(backend, max_batches_per_account=3)  # a server of this test's own
    _, key = srv.account("enterprise", monthly_quota=6)
    post = lambda items, k=key: httpx.post(
        srv.url + BULK,
        json={"items": items},
        headers={"X-Api-Key": k},
        timeout=60,
    )
    r1 = post([{"data": "m1", "size_inches": 1}, {"data": "m2", "size_inches": 1}])
    r2 = post([{"data": "m3", "size_inches": 1, "format": "svg"}] * 3)
    assert post([{"data": "x", "size_inches": 1}] * 2).status_code == 429
    assert post([{"data": "x", "size_inches": 99}]).status_code == 422
    assert post([{"data": "x", "size_inches": 1}], "nope").status_code == 401
    assert r1.status_code == r2.status_code == 200
    for r, fmt, texts in ((r1, "png", ["m1", "m2"]), (r2, "svg", ["m3"] * 3)):
        archive, manifest = open_zip(r.content)
        for entry, text in zip(manifest["items"], texts):
            check_image(fmt, archive.read(entry["filename"]), text, 1, 300)
    text = httpx.get(srv.url + "/metrics").text
    route = "/api/v1/generate/bulk"
    assert _metric(text, "qrstudio_http_requests_total", route=route, status="200") == 2
    for status in ("429", "422", "401"):
        assert _metric(text, "qrstudio_http_requests_total", route=route, status=status) == 1
    assert _metric(text, "qrstudio_items_rendered_total", format="png") == 2
    assert _metric(text, "qrstudio_items_rendered_total", format="svg") == 3
    assert _metric(text, "qrstudio_render_seconds_count") == 3  # m3's repeats are cache hits
    assert _metric(text, "qrstudio_render_cache_hits_total") == 2
    assert _metric(text, "qrstudio_quota_refusals_total", reason="quota") == 1
    assert _metric(text, "qrstudio_bulk_streams_total", outcome="complete") == 2
    assert _metric(text, "qrstudio_batches_in_flight") == 0
    assert _metric(text, "qrstudio_refunds_total") == 0


def test_overload_is_refused_at_once_while_admitted_batches_complete(make_server) -> None:
    srv = make_server("embedded", max_batches_in_flight=2, max_batches_per_account=1)
    keys = [srv.account("agency")[1] for _ in range(3)]
    items = [{"data": f"https://example.com/o/{i}", "size_inches": 3} for i in range(400)]

    async def run() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            held = []
            for key in keys[:2]:  # two long batches hold both process slots
                req = client.build_request(
                    "POST", srv.url + BULK, json={"items": items}, headers={"X-Api-Key": key}
                )
                held.append(await client.send(req, stream=True))
            assert [r.status_code for r in held] == [200, 200]
            loop = asyncio.get_running_loop()
            start = loop.time()
            busy = await client.post(
                srv.url + BULK, json={"items": items[:1]}, headers={"X-Api-Key": keys[2]}
            )
            same_account = await client.post(
                srv.url + BULK, json={"items": items[:1]}, headers={"X-Api-Key": keys[0]}
            )
            assert loop.time() - start < 2.0  # refused at once, not queued
            assert busy.status_code == 503 and busy.headers["Retry-After"]
            assert "limit" in busy.json()["detail"]
            assert same_account.status_code == 503  # the process bound answers first
            dry = await client.post(
                srv.url + "/api/v1/validate/",
                json={"items": items[:1]},
                headers={"X-Api-Key": keys[2]},
            )
            assert dry.status_code == 503  # a bulk dry run takes a slot like the real call
            for r in held:
                body = await r.aread()
                archive, manifest = open_zip(body)
                assert manifest["count"] == 400
                for i in range(400):
                    check_image(
                        "png",
                        archive.read(f"qr-{i + 1:04d}.png"),
                        f"https://example.com/o/{i}",
                        3,
                        300,
                    )
            # one slot per account: a second batch of the same account is a 429
            req = client.build_request(
                "POST", srv.url + BULK, json={"items": items}, headers={"X-Api-Key": keys[0]}
            )
            first = await client.send(req, stream=True)
            second = await client.post(
                srv.url + BULK, json={"items": items[:1]}, headers={"X-Api-Key": keys[0]}
            )
            assert second.status_code == 429 and second.headers["Retry-After"] == "2"
            assert "batches streaming" in second.json()["detail"]
            assert open_zip(await first.aread())[1]["count"] == 400

    asyncio.run(run())
    for key in keys:
        r = httpx.post(srv.url + BULK, json={"items": items[:2]}, headers={"X-Api-Key": key})
        assert r.status_code == 200  # every slot came back


def _wrong(key: str) -> str:
    """``key`` with its last character changed: a key that does not exist (a random key
    ends in "x" one time in 64, where ``key[:-1] + "x"`` was the key itself)."""
    return key[:-1] + ("y" if key.endswith("x") else "x")


def test_logs_are_json_with_the_request_id_and_never_a_key() -> None:
    server = ServeProcess()
    try:
        key = server.demo_keys["starter"]
        r = httpx.post(
            server.url + BULK,
            json={"items": [{"data": "log me", "size_inches": 1}]},
            headers={"X-Api-Key": key, "X-Request-Id": "trace-42"},
            timeout=60,
        )
        assert r.status_code == 200
        check_image("png", open_zip(r.content)[0].read("qr-0001.png"), "log me", 1, 300)
        bad = httpx.post(server.url + BULK, json={}, headers={"X-Api-Key": _wrong(key)})
        assert bad.status_code == 401
    finally:
        server.terminate()
        server.wait()
    raw = [line for line in server.logs().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in raw), [x for x in raw if not x.startswith("{")]
    lines = [json.loads(line) for line in raw]
    access = [entry for entry in lines if entry["logger"] == "qrstudio.access"]
    mine = [entry for entry in access if entry.get("request_id") == "trace-42"]
    assert len(mine) == 1 and mine[0]["status"] == 200
    assert mine[0]["route"] == "/api/v1/generate/bulk" and mine[0]["duration_ms"] > 0
    assert any(entry["status"] == 401 for entry in access)
    text = server.logs()
    for secret in (key, key[4:], _wrong(key)):
        assert secret not in text


def test_openapi_describes_every_field_with_limits_and_defaults(server) -> None:
    doc = httpx.get(server.url + "/schema").json()
    assert doc == httpx.get(server.url + "/schema/openapi.json").json()
    body = doc["paths"]["/api/v1/generate/bulk/"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("BulkRequestBody")
    schemas = doc["components"]["schemas"]
    assert schemas["BulkRequestBody"]["properties"]["items"]["maxItems"] == 5000
    # an item is one variant per data_type (the payload each needs); the fields are shared
    item = schemas["GenerateRequest"]
    variants = {v["$ref"].rsplit("/", 1)[1] for v in item["oneOf"]}
    assert len(variants) == 11 and {"TextItem", "VcardItem", "DynamicItem"} <= variants
    text = schemas["TextItem"]
    assert text["required"] == ["data", "size_inches"]
    props = text["properties"]
    from service.schema import GenerateRequest

    assert set(props) == set(GenerateRequest.__struct_fields__) - {"payload"}
    assert {k: v for k, v in props["size_inches"].items() if k != "description"} == {
        "type": "number",
        "minimum": 0.5,
        "maximum": 15,
    }
    assert props["dpi"]["default"] == 300 and props["dpi"]["maximum"] == 600
    assert props["quiet_zone"] == {"type": "integer", "minimum": 0, "maximum": 16, "default": 4}
    assert props["logo_size_ratio"]["default"] == 0.24
    assert props["frame_label"]["anyOf"][0]["maxLength"] == 40
    assert len(props["pattern"]["enum"]) == 11 and props["pattern"]["default"] == "rounded"
    assert schemas["VcardItem"]["properties"]["payload"]["$ref"].endswith("VCardPayload")
    assert schemas["DynamicPayload"]["properties"]["name"]["maxLength"] == 120


def test_a_burst_beyond_the_bounds_keeps_server_memory_bounded() -> None:
    """40 concurrent batches against 2 slots: 38 refused at once, 2 complete, RSS flat."""
    from pathlib import Path

    server = ServeProcess(max_batches_in_flight="2", max_batches_per_account="1")

    def rss_mib() -> float:
        status = Path(f"/proc/{server.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    items = [{"data": f"https://example.com/b/{i}", "size_inches": 2} for i in range(300)]
    keys = [server.demo_keys[p] for p in ("starter", "pro", "agency", "enterprise")]

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as c:
            jobs = [
                c.post(
                    server.url + BULK,
                    json={"items": items[:50] if k == keys[0] else items},
                    headers={"X-Api-Key": k},
                )
                for k in keys
                for _ in range(10)
            ]
            return list(await asyncio.gather(*jobs))

    try:
        before = rss_mib()
        responses = asyncio.run(burst())
        after = rss_mib()
        codes = [r.status_code for r in responses]
        assert codes.count(200) >= 2 and set(codes) <= {200, 429, 503}
        assert codes.count(503) + codes.count(429) >= 30
        for r in responses:
            if r.status_code == 200:
                archive, manifest = open_zip(r.content)
                for i, entry in enumerate(manifest["items"]):
                    check_image(
                        "png", archive.read(entry["filename"]), f"https://example.com/b/{i}", 2, 300
                    )
            else:
                assert int(r.headers["Retry-After"]) > 0
        assert after - before < 60, (before, after)
    finally:
        server.stop()
