"""Operator rules on both stores: accounts, key creation, listing, revocation, rotation."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from service.limits.keys import KEY_RE, hash_key
from service.limits.memory import MemoryStore
from service.limits.redis_store import RedisAdmin, RedisStore
from service.limits.store import AdminError, KeyInfo


@pytest.fixture(params=["embedded", "redis"])
def pair(request, redis_server):  # type: ignore[no-untyped-def]
    if request.param == "embedded":
        m = MemoryStore(enterprise_quota=1_000_000)
        return m, m
    return (
        RedisAdmin(redis_server.url),
        RedisStore(redis_server.url, enterprise_quota=1_000_000, timeout_s=5),
    )


def _auth(store, key):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        try:
            return await store.authenticate(key)
        finally:
            if isinstance(store, RedisStore):
                await store.close()

    return asyncio.run(go())


def test_key_lifecycle(pair) -> None:
    admin, store = pair
    account = f"a-{uuid.uuid4().hex[:8]}"
    with pytest.raises(AdminError, match="give it a --plan"):
        admin.create_key(account)
    key = admin.create_key(account, plan="pro", name="ci")
    assert KEY_RE.fullmatch(key)
    caller = _auth(store, key)
    assert caller.account.plan == "pro" and caller.key.prefix == key[:12]
    with pytest.raises(AdminError, match="is on plan 'pro', not 'starter'"):
        admin.create_key(account, plan="starter")
    second = admin.create_key(account, plan="pro")
    listed = [k for k in admin.list_keys() if k.account == account]
    assert sorted(k.prefix for k in listed) == sorted([key[:12], second[:12]])
    rotated = admin.rotate_key(key[:10])
    assert _auth(store, key) is None and _auth(store, rotated).account.id == account
    admin.revoke_key(second)
    assert _auth(store, second) is None
    again = admin.revoke_key(second)  # already revoked: a no-op that says when (17.10)
    assert again.revoked_at and not again.replaced_by
    old = admin.revoke_key(key[:12])  # the rotated key, by the prefix the operator used
    assert old.revoked_at and old.replaced_by == rotated[:12]
    assert _auth(store, rotated).account.id == account  # its replacement still works
    with pytest.raises(AdminError, match=r"was revoked at .* \(replaced by"):
        admin.rotate_key(key[:12])
    listed = {k.prefix: k for k in admin.list_keys() if k.account == account}
    assert listed[rotated[:12]].revoked_at == "" and listed[second[:12]].revoked_at
    with pytest.raises(AdminError, match="no key matches"):
        admin.revoke_key("smk_" + "Z" * 8)
    with pytest.raises(AdminError, match="at least 8 characters"):
        admin.revoke_key("smk_")
    tag = uuid.uuid4().hex[:6]
    for last in "AB":  # two keys whose prefixes share 11 characters
        admin._put_key(f"{tag}{last}", KeyInfo(account=account, prefix=f"smk_{tag}X{last}"))
    with pytest.raises(AdminError, match="2 keys match"):
        admin.revoke_key(f"smk_{tag}X")
    assert admin.revoke_key(f"smk_{tag}XA").prefix == f"smk_{tag}XA"


def test_account_changes_keep_what_is_not_said(pair) -> None:
    admin, store = pair
    account = f"b-{uuid.uuid4().hex[:8]}"
    admin.set_account(account, plan="enterprise", monthly_quota=50, overage=False)
    acct = admin.set_account(account, plan="agency")
    assert (acct.plan, acct.monthly_quota, acct.overage) == ("agency", 50, False)
    with pytest.raises(AdminError, match="unknown plan"):
        admin.set_account(account, plan="gold")
    with pytest.raises(AdminError, match="account ids"):
        admin.set_account("bad{id}", plan="pro")
    key = admin.create_key(account)
    assert _auth(store, key).account.monthly_quota == 50


def test_only_hashes_are_stored(redis_server) -> None:
    admin = RedisAdmin(redis_server.url)
    account = f"c-{uuid.uuid4().hex[:8]}"
    key = admin.create_key(account, plan="starter")
    client = redis_server.client()
    blobs = b"".join(client.dump(k) or b"" for k in client.scan_iter(f"*{account}*"))
    blobs += client.get(f"qs:apikey:{hash_key(key)}") or b""
    assert key.encode() not in blobs and key[12:].encode() not in blobs
