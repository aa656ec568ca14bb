"""What a charge's answer means to the client when it is not "ok": the product's 403 for a
plan cap (active dynamic QR codes) and 429 for the quota, in the product's words, for a bulk
batch and a single render alike.
"""

from __future__ import annotations

from collections.abc import Callable

from .bulk_checks import check_count
from .errors import (
    NotAuthenticated,
    PlanForbidden,
    QuotaExceeded,
    Unavailable,
)
from .limits.plans import PLANS
from .limits.quota import ChargeResult, seconds_to_reset

__all__ = ["dynamic_cap_error", "refuse", "refuse_bulk", "refuse_single"]


def dynamic_cap_error(result: ChargeResult, adds: int) -> PlanForbidden:
    return PlanForbidden(
        f"Plan '{result.plan}' allows up to {result.max_active} active dynamic "
        f"QRs ({result.active} active, this request adds {adds})."
    )


def refuse(
    result: ChargeResult, adds: int, subject: str, recheck: Callable[[], None] | None = None
) -> None:
    """The contract's answer to a charge the store refused (nothing when it is ok).
    ``subject`` names what would pass the quota ("Bulk of 50", "This render"); ``recheck``
    re-runs the bulk count checks when the plan changed since the request was validated."""
    if result.status == "no_account":
        raise NotAuthenticated()
    if recheck is not None and result.status in ("bulk_disabled", "bulk_cap"):
        recheck()
    if result.status == "dynamic_cap":
        raise dynamic_cap_error(result, adds)
    if result.status == "quota":
        raise QuotaExceeded(
            f"{subject} would exceed your monthly quota ({result.used}/{result.quota} used).",
            seconds_to_reset(),
        )
    if result.status == "void":
        raise Unavailable("The store did not confirm the charge; nothing was charged. Retry.")
    if result.status != "ok":
        raise PlanForbidden(f"Plan '{result.plan}' cannot render this.")


def refuse_bulk(result: ChargeResult, count: int, adds: int) -> None:
    refuse(
        result,
        adds,
        f"Bulk of {count}",
        lambda: check_count(PLANS[result.plan], count) if result.plan in PLANS else None,
    )


def refuse_single(result: ChargeResult) -> None:
    refuse(result, 1, "This render")
