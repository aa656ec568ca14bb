"""The quota month and the decision the charge script makes, in one readable place.

``decide`` is the reference for ``charge.lua``; the embedded store runs it directly, the Redis
store runs the Lua twin atomically. Tests hold both to the same contract.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

from .plans import PLANS

__all__ = [
    "ATTEMPT_TTL_S",
    "ChargeResult",
    "Status",
    "decide",
    "month_of",
    "seconds_to_reset",
    "usage_ttl_s",
]

Status = Literal[
    "ok",
    "quota",
    "bulk_disabled",
    "bulk_cap",
    "no_account",
    "dynamic_cap",
    "collision",
    "void",
    "bad_account",
]
ATTEMPT_TTL_S = 2 * 24 * 3600


class ChargeResult(msgspec.Struct, frozen=True, array_like=True):
    status: Status
    plan: str
    used: int  # after the charge when ok, else as found
    quota: int
    active: int = 0  # active dynamic QR codes, after the charge when ok
    max_active: int = -1  # the plan's cap (-1: none)

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.used)


def month_of(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now.year:04d}{now.month:02d}"


def seconds_to_reset(now: datetime | None = None) -> int:
    """Seconds until the 1st of next month, 00:00 UTC (the quota reset)."""
    now = now or datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    reset = datetime(year, month, 1, tzinfo=UTC)
    return max(1, int((reset - now).total_seconds() + 0.999))


def usage_ttl_s(now: datetime | None = None) -> int:
    """A month's counter outlives its month by 35 days, for late refunds and reports."""
    return seconds_to_reset(now) + 35 * 24 * 3600


def decide(
    plan_code: str | None,
    quota_override: int | None,
    overage_override: bool | None,
    used: int,
    n: int,
    bulk: bool,
    enterprise_quota: int,
    *,
    active: int = 0,
    new_codes: int = 0,
) -> ChargeResult:
    """What charging ``n`` credits (and creating ``new_codes`` dynamic QR codes) for an
    account that has ``used`` this month and ``active`` codes would do."""
    plan = PLANS.get(plan_code or "")
    if plan is None:
        return ChargeResult("no_account", plan_code or "", used, 0, active)
    default_quota = enterprise_quota if plan.code == "enterprise" else plan.monthly_quota
    quota = quota_override if quota_override is not None else default_quota
    overage = plan.overage if overage_override is None else overage_override
    cap = -1 if plan.max_active_dynamic_qrs is None else plan.max_active_dynamic_qrs
    if bulk and plan.max_bulk_items == 0:
        return ChargeResult("bulk_disabled", plan.code, used, quota, active, cap)
    if bulk and n > plan.max_bulk_items:
        return ChargeResult("bulk_cap", plan.code, used, quota, active, cap)
    if new_codes and cap >= 0 and active + new_codes > cap:
        return ChargeResult("dynamic_cap", plan.code, used, quota, active, cap)
    if n > 0 and not overage and used + n > quota:
        return ChargeResult("quota", plan.code, used, quota, active, cap)
    return ChargeResult("ok", plan.code, used + n, quota, active + new_codes, cap)
