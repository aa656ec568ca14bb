"""The plan table (CONTRACT section 1): the one place its numbers live.

The quota scripts receive this table as an argument, so Redis, the embedded store and the
request validation all read the same numbers.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["PLANS", "Plan", "PlanCode", "plan_table_json"]

PlanCode = Literal["free", "starter", "pro", "agency", "enterprise"]


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    code: PlanCode
    monthly_quota: int
    overage: bool
    max_size_inches: float
    max_dpi: int
    allow_custom_logo: bool
    max_active_dynamic_qrs: int | None  # None: unlimited
    dynamic_edit_limit: int | None  # destination edits per dynamic QR; None: unlimited
    max_bulk_items: int
    # [ours] requests per second per API key on /api/v1/ (the product throttles bursts with a
    # 429 but publishes no numbers); beyond it, 429 with Retry-After.
    requests_per_second: int

    @property
    def name(self) -> str:
        return self.code.capitalize()

    def quota_for(self, own: int | None, enterprise_quota: int) -> int:
        """An account's monthly quota: its own where it has one, else the plan's (the
        operator's enterprise default for enterprise, which the product calls unlimited)."""
        if own is not None:
            return own
        return enterprise_quota if self.code == "enterprise" else self.monthly_quota


PLANS: dict[str, Plan] = {
    p.code: p
    for p in (
        Plan(
            code="free",
            monthly_quota=5,
            overage=False,
            max_size_inches=3,
            max_dpi=300,
            allow_custom_logo=False,
            max_active_dynamic_qrs=1,
            dynamic_edit_limit=1,
            max_bulk_items=0,
            requests_per_second=5,
        ),
        Plan(
            code="starter",
            monthly_quota=500,
            overage=True,
            max_size_inches=8,
            max_dpi=300,
            allow_custom_logo=True,
            max_active_dynamic_qrs=10,
            dynamic_edit_limit=None,
            max_bulk_items=50,
            requests_per_second=10,
        ),
        Plan(
            code="pro",
            monthly_quota=5_000,
            overage=True,
            max_size_inches=15,
            max_dpi=600,
            allow_custom_logo=True,
            max_active_dynamic_qrs=200,
            dynamic_edit_limit=None,
            max_bulk_items=1_000,
            requests_per_second=20,
        ),
        Plan(
            code="agency",
            monthly_quota=25_000,
            overage=True,
            max_size_inches=15,
            max_dpi=600,
            allow_custom_logo=True,
            max_active_dynamic_qrs=1_000,
            dynamic_edit_limit=None,
            max_bulk_items=5_000,
            requests_per_second=50,
        ),
        Plan(
            code="enterprise",
            monthly_quota=1_000_000,
            overage=False,
            max_size_inches=15,
            max_dpi=600,
            allow_custom_logo=True,
            max_active_dynamic_qrs=None,
            dynamic_edit_limit=None,
            max_bulk_items=5_000,
            requests_per_second=100,
        ),
    )
}


def plan_table_json(enterprise_quota: int) -> bytes:
    """What the scripts need: {code: [quota, overage, max_bulk, max_active, edits]} (-1: no
    limit)."""
    table = {
        code: [
            enterprise_quota if code == "enterprise" else p.monthly_quota,
            1 if p.overage else 0,
            p.max_bulk_items,
            -1 if p.max_active_dynamic_qrs is None else p.max_active_dynamic_qrs,
            -1 if p.dynamic_edit_limit is None else p.dynamic_edit_limit,
        ]
        for code, p in PLANS.items()
    }
    return msgspec.json.encode(table)
