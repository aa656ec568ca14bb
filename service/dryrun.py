"""POST /api/v1/validate/: the real call's checks and answers for a single item or a bulk
body, without spending a credit, creating a code or rendering (CONTRACT section 5).

The store is only read: the quota and the active-code cap are judged by ``quota.decide`` on
the current counters, as the charge script would judge them now.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from .bulk import refuse_bulk, validate_bulk
from .intake import authenticate, read_body
from .limits.plans import PLANS
from .limits.quota import decide
from .services import Services
from .single import decode_item, refuse_single, validate_single
from .validation import ItemContext

__all__ = ["handle_validate"]


class _Probe(msgspec.Struct):
    items: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_probe = msgspec.json.Decoder(_Probe)


def _is_bulk(body: bytes) -> bool:
    try:
        return _probe.decode(body).items is not msgspec.UNSET
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        return False  # the single-item path answers malformed bodies the same way


async def handle_validate(request: Request[Any, Any, Any], svc: Services) -> dict[str, Any]:
    caller = await authenticate(request, svc.store)
    body = await read_body(request, svc.settings.max_body_bytes)
    account = caller.account
    used = await svc.store.used_this_month(account.id)
    active = await svc.store.active_codes(account.id)
    if _is_bulk(body):
        items, _ = await validate_bulk(body, caller, svc)
        adds = sum(1 for i in items if i.code is not None)
        result = decide(account.plan, account.monthly_quota, account.overage, used, len(items),
                        True, svc.settings.enterprise_monthly_quota, active=active,
                        new_codes=adds)
        refuse_bulk(result, len(items), adds)
        return {"valid": True, "kind": "bulk", "count": len(items), "credits": len(items),
                "dynamic": adds, "quota_remaining_after": result.remaining}
    ctx = ItemContext(account.id, svc.settings.public_base_url)
    valid = validate_single(decode_item(body), PLANS[account.plan], ctx)
    adds = 1 if valid.code else 0
    result = decide(account.plan, account.monthly_quota, account.overage, used, 1, False,
                    svc.settings.enterprise_monthly_quota, active=active, new_codes=adds)
    refuse_single(result)
    return {"valid": True, "kind": "single", "count": 1, "credits": 1, "dynamic": adds,
            "quota_remaining_after": result.remaining, "format": valid.job.format,
            "pixels": valid.job.layout.pixels, "version": valid.job.version,
            "error_correction": valid.job.level}
