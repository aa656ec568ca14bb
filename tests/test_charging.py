"""The one charging lifecycle (``service.charging.Charge``) on both stores: an answer that
leaves settles its charge (the sweeper leaves it); one that fails before it leaves is refunded
and its codes removed, exactly once; a short-id collision charges nothing and a new attempt
follows."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from service.charging import Charge
from service.limits.store import Admin, NewCode, Store


def _account(admin: Admin) -> str:
    account = f"ch-{uuid.uuid4().hex[:10]}"
    admin.set_account(account, plan="pro")
    return account


async def _until(predicate) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(5):
        while not await predicate():
            await asyncio.sleep(0.01)


def test_an_answer_that_leaves_settles_its_charge(stores) -> None:  # type: ignore[no-untyped-def]
    store, admin = stores
    account = _account(admin)

    async def go() -> None:
        charged = Charge(store, account)
        result = await charged.charge(
            3, bulk=False, codes=[NewCode("Ch000001", "n", "https://e.co")]
        )
        assert result.status == "ok"
        async with charged.kept():
            pass
        time.sleep(0.01)
        assert await store.sweep(0) == 0  # settled: never swept
        assert await store.get_code(account, "Ch000001") is not None
        await store.close()

    asyncio.run(go())
    assert admin.usage(account) == 3


def test_an_answer_that_fails_is_refunded_once_with_its_codes(stores) -> None:  # type: ignore[no-untyped-def]
    store, admin = stores
    account = _account(admin)

    async def go() -> None:
        charged = Charge(store, account)
        await charged.charge(4, bulk=False, codes=[NewCode("Ch000002", "n", "https://e.co")])
        with pytest.raises(RuntimeError):
            async with charged.kept():
                raise RuntimeError("the answer could not be made")
        await _until(lambda: _gone(store, account, "Ch000002"))
        assert not await charged.refund()  # at most once
        assert not await charged.settle()  # refunded: no longer settleable
        await store.close()

    asyncio.run(go())
    assert admin.usage(account) == 0


async def _gone(store: Store, account: str, short_id: str) -> bool:
    return await store.get_code(account, short_id) is None


def test_a_collision_charges_nothing_and_the_next_attempt_is_new(stores) -> None:  # type: ignore[no-untyped-def]
    store, admin = stores
    account = _account(admin)

    async def go() -> None:
        first = Charge(store, account)
        await first.charge(1, bulk=False, codes=[NewCode("Ch000003", "a", "https://e.co")])
        async with first.kept():
            pass
        again = Charge(store, account)
        result = await again.charge(1, bulk=False, codes=[NewCode("Ch000003", "b", "https://e.co")])
        assert result.status == "collision"
        collided = again.attempt
        result = await again.charge(1, bulk=False, codes=[NewCode("Ch000004", "b", "https://e.co")])
        assert result.status == "ok" and again.attempt != collided
        assert again.short_ids == ["Ch000004"]
        async with again.kept():
            pass
        await store.close()

    asyncio.run(go())
    assert admin.usage(account) == 2
