"""Account and key records written by another application (issue 13, point 5): a field the
service cannot use is refused by name (403), never a 500, on both stores and in charge.lua; the
problem is logged once; ``accounts check`` lists every problem."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest

from service.limits.keys import hash_key
from service.limits.memory import MemoryStore
from service.limits.quota import month_of
from service.limits.redis_store import RedisAdmin, RedisStore, account_key
from service.limits.store import BadRecord, parse_account
from tests.readers import check_image, open_zip

BAD = [
    ("plan", "platinum", "plan is 'platinum'"),
    ("monthly_quota", "abc", "monthly_quota is 'abc'"),
    ("overage", "yes", "overage is 'yes'"),
    ("active_codes", "many", "active_codes is 'many'"),
]
ITEM = {"data": "https://example.com/records", "size_inches": 1}


class _Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def write_fields(admin, account: str, fields: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """What the gateway's application does: write the documented hash directly."""
    if isinstance(admin, MemoryStore):
        admin.put_account_fields(account, fields)
    else:
        admin._redis.hset(account_key(account), mapping=fields)


def test_the_parser_names_each_field() -> None:
    assert parse_account("a", {}) is None
    assert parse_account("a", {"plan": "pro", "monthly_quota": "", "overage": "0"}).overage is False
    for field, value, words in BAD:
        with pytest.raises(BadRecord, match=words) as caught:
            parse_account("a", {"plan": "pro", field: value})
        assert caught.value.field == field
    with pytest.raises(BadRecord, match="plan is missing"):
        parse_account("a", {"monthly_quota": "5"})


@pytest.mark.parametrize("field,value,words", BAD)
def test_charge_refuses_a_bad_field_by_name(backend, redis_server, field, value, words) -> None:
    """Both stores, the Lua script included (called directly, past authenticate)."""
    if backend == "embedded":
        store = admin = MemoryStore(enterprise_quota=1_000_000)
    else:
        admin = RedisAdmin(redis_server.url)
        store = RedisStore(redis_server.url, enterprise_quota=1_000_000, timeout_s=5)
    account = f"r-{uuid.uuid4().hex[:10]}"
    admin.set_account(account, plan="starter")
    write_fields(admin, account, {field: value})

    async def go() -> None:
        try:
            with pytest.raises(BadRecord) as caught:
                await store.charge(account, uuid.uuid4().hex, 1, bulk=True, month=month_of())
            assert caught.value.field == field
        finally:
            await store.close()

    asyncio.run(go())
    assert admin.usage(account) == 0


@pytest.mark.parametrize("field,value,words", BAD[:2])
def test_usage_single_and_bulk_answer_403_naming_the_field(server, field, value, words) -> None:
    account, key = server.account("starter")
    write_fields(server.admin, account, {field: value})
    headers = {"X-Api-Key": key}
    caught = _Caught()
    logging.getLogger("qrstudio.errors").addHandler(caught)
    try:
        answers = [
            httpx.get(f"{server.url}/api/v1/usage/", headers=headers),
            httpx.post(f"{server.url}/api/v1/generate/", json=ITEM, headers=headers),
            httpx.post(
                f"{server.url}/api/v1/generate/bulk/", json={"items": [ITEM]}, headers=headers
            ),
            httpx.get(f"{server.url}/api/v1/usage/", headers=headers),
        ]
    finally:
        logging.getLogger("qrstudio.errors").removeHandler(caught)
    for r in answers:
        assert r.status_code == 403, r.text
        assert words in r.json()["detail"] and "qrstudio accounts check" in r.json()["detail"]
    logged = [r for r in caught.records if account in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]  # once, not per request
    # repaired by the operator: served again
    server.admin.set_account(account, plan="starter", monthly_quota=10, overage=False)
    write_fields(server.admin, account, {"active_codes": "0"})
    r = httpx.post(f"{server.url}/api/v1/generate/", json=ITEM, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    check_image("png", r.content, ITEM["data"], 1, 300)
    r = httpx.post(
        f"{server.url}/api/v1/generate/bulk/", json={"items": [ITEM]}, headers=headers, timeout=60
    )
    assert r.status_code == 200, r.text
    check_image("png", open_zip(r.content)[0].read("qr-0001.png"), ITEM["data"], 1, 300)


def test_a_broken_key_record_is_refused_not_a_500(redis_server, make_server) -> None:
    server = make_server("redis")
    key = "smk_" + uuid.uuid4().hex[:36].ljust(36, "x")
    client = redis_server.client()
    client.set(f"qs:apikey:{hash_key(key)}", b"{not json")
    r = httpx.get(f"{server.url}/api/v1/usage/", headers={"X-Api-Key": key})
    assert r.status_code == 403 and "API key's record" in r.json()["detail"]
    client.delete(f"qs:apikey:{hash_key(key)}")


def test_setting_a_broken_account_repairs_it(backend, redis_server) -> None:
    admin = (
        MemoryStore(enterprise_quota=1) if backend == "embedded" else RedisAdmin(redis_server.url)
    )
    account = f"s-{uuid.uuid4().hex[:10]}"
    admin.set_account(account, plan="pro", monthly_quota=7)
    write_fields(admin, account, {"plan": "platinum", "overage": "maybe"})
    with pytest.raises(BadRecord):
        admin.get_account(account)
    with pytest.raises(ValueError, match="plan is 'platinum'.*give it a --plan"):
        admin.set_account(account, monthly_quota=9)
    fixed = admin.set_account(account, plan="agency")
    assert (fixed.plan, fixed.monthly_quota, fixed.overage) == ("agency", 7, None)
    assert admin.get_account(account) == fixed
