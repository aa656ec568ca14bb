"""The quota step on both stores: the Lua script and its Python reference agree, a re-sent
charge is not charged twice, a refund happens at most once, months reset."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import UTC, datetime

from service.limits.quota import decide, month_of, seconds_to_reset
from service.limits.redis_store import RedisAdmin, RedisStore
from service.limits.store import Admin


def _acct(admin: Admin, plan: str, **kw: object) -> str:
    account = f"q-{uuid.uuid4().hex[:10]}"
    admin.set_account(account, plan=plan, **kw)  # type: ignore[arg-type]
    return account


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_resent_charge_is_charged_once(stores) -> None:
    store, admin = stores
    account = _acct(admin, "starter")
    month = month_of()

    async def go() -> None:
        first = await store.charge(account, "attempt-1", 10, bulk=True, month=month)
        again = await store.charge(account, "attempt-1", 10, bulk=True, month=month)
        assert first == again and first.status == "ok" and first.used == 10
        other = await store.charge(account, "attempt-2", 5, bulk=True, month=month)
        assert other.used == 15
        await store.close()

    run(go())
    assert admin.usage(account) == 15


def test_refund_happens_once_and_only_for_a_charge(stores) -> None:
    store, admin = stores
    account = _acct(admin, "pro")
    month = month_of()

    async def go() -> list[bool]:
        await store.charge(account, "a", 30, bulk=True, month=month)
        await store.charge(account, "b", 12, bulk=True, month=month)
        results = [await store.refund(account, "a", month) for _ in range(3)]
        results.append(await store.refund(account, "never-charged", month))
        refused = await store.charge(account, "c", 5000, bulk=True, month=month)
        assert refused.status == "bulk_cap"
        results.append(await store.refund(account, "c", month))
        await store.close()
        return results

    assert run(go()) == [True, False, False, False, False]
    assert admin.usage(account) == 12


def test_concurrent_refunds_of_one_attempt_give_back_once(stores) -> None:
    store, admin = stores
    account = _acct(admin, "pro")
    month = month_of()

    async def go() -> list[bool]:
        await store.charge(account, "x", 40, bulk=True, month=month)
        out = await asyncio.gather(*(store.refund(account, "x", month) for _ in range(10)))
        await store.close()
        return list(out)

    assert sorted(run(go())) == [False] * 9 + [True]
    assert admin.usage(account) == 0


CASES = list(
    itertools.product(
        ["free", "starter", "pro", "agency", "enterprise"],
        [None, 0, 40],  # monthly quota override
        [None, True, False],  # overage override
        [0, 35],  # already used
        [1, 5, 6, 50, 51, 5000],  # asked for
        [True, False],  # bulk
    )
)


def test_lua_script_and_python_reference_agree(redis_server) -> None:
    """Every combination of plan, overrides, usage and size: the same answer from both."""
    store = RedisStore(redis_server.url, enterprise_quota=1_000_000, timeout_s=5)
    admin = RedisAdmin(redis_server.url)
    month = month_of()

    async def go() -> None:
        for i, (plan, quota, overage, used, n, bulk) in enumerate(CASES):
            account = _acct(admin, plan, monthly_quota=quota, overage=overage)
            if used:
                assert (
                    await store.charge(account, f"pre{i}", used, bulk=False, month=month)
                ).status in ("ok", "quota")
            before = admin.usage(account)
            got = await store.charge(account, f"case{i}", n, bulk=bulk, month=month)
            want = decide(plan, quota, overage, before, n, bulk, 1_000_000)
            assert got == want, (plan, quota, overage, used, n, bulk)
            assert admin.usage(account) == (want.used if want.status == "ok" else before)
        await store.close()

    run(go())


def test_unknown_account_is_refused() -> None:
    assert decide(None, None, None, 0, 1, True, 10).status == "no_account"


def test_quota_month_and_reset() -> None:
    assert month_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "202612"
    assert seconds_to_reset(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_to_reset(datetime(2026, 2, 1, tzinfo=UTC)) == 28 * 86400


def test_a_charge_whose_reply_was_lost_is_voided_by_its_refund(stores) -> None:
    """Regression: the reply of charge.lua lost to a timeout; the background refund comes
    first (no record yet), then the charge arrives late: it must change nothing."""
    store, admin = stores
    account = _acct(admin, "pro")
    month = month_of()

    async def go() -> None:
        assert await store.refund(account, "lost", month) is False
        late = await store.charge(account, "lost", 25, bulk=True, month=month)
        assert late.status == "void"
        await store.close()

    run(go())
    assert admin.usage(account) == 0


def test_refund_removes_only_the_callers_codes(stores) -> None:
    """Regression: a short id reused by another account after its first owner deleted it
    must survive the first owner's refund, and neither active count may drift."""
    from service.limits.store import NewCode

    store, admin = stores
    a, b = _acct(admin, "pro"), _acct(admin, "pro")
    month = month_of()
    code = NewCode("Zz123456", "n", "https://e.co")

    async def go() -> None:
        assert (await store.charge(a, "a1", 1, bulk=True, month=month, codes=[code])).active == 1
        assert await store.delete_code(a, code.short_id)
        assert (await store.charge(b, "b1", 1, bulk=True, month=month, codes=[code])).active == 1
        assert await store.refund(a, "a1", month, [code.short_id])
        assert await store.active_codes(a) == 0 and await store.active_codes(b) == 1
        assert (await store.get_code(b, code.short_id)) is not None
        await store.close()

    run(go())


def test_creating_a_code_without_a_render_ignores_the_quota(stores) -> None:
    """Regression: a create charges no credit, so an account past its quota may still create."""
    from service.limits.store import NewCode

    store, admin = stores
    account = _acct(admin, "starter", monthly_quota=1, overage=False)
    month = month_of()

    async def go() -> None:
        assert (await store.charge(account, "x", 1, bulk=False, month=month)).status == "ok"
        made = await store.charge(
            account,
            "y",
            0,
            bulk=False,
            month=month,
            codes=[NewCode("Qq000000", "n", "https://e.co")],
        )
        assert made.status == "ok" and made.active == 1
        assert (await store.charge(account, "z", 1, bulk=False, month=month)).status == "quota"
        await store.close()

    run(go())


def test_the_sweeper_refunds_only_unsettled_old_charges(stores) -> None:
    """A process that dies mid-stream never settles nor refunds its charge: the sweeper does,
    once the charge is older than any stream; settled and refunded ones are left alone."""
    from service.limits.store import NewCode

    store, admin = stores
    account = _acct(admin, "pro")
    month = month_of()

    async def go() -> None:
        await store.charge(
            account,
            "died",
            10,
            bulk=True,
            month=month,
            codes=[NewCode("Sw000001", "n", "https://e.co")],
        )
        await store.charge(account, "completed", 20, bulk=True, month=month)
        assert await store.settle(account, "completed")
        await store.charge(account, "cut", 30, bulk=True, month=month)
        assert await store.refund(account, "cut", month)
        assert await store.sweep(3600) == 0  # nothing is an hour old
        time.sleep(0.01)
        await store.sweep(0)
        assert await store.get_code(account, "Sw000001") is None
        assert await store.active_codes(account) == 0
        assert await store.sweep(0) == 0  # once only
        assert not await store.settle(account, "died")  # refunded: no longer settleable
        await store.close()

    run(go())
    assert admin.usage(account) == 20
