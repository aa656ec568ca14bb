"""POST /api/v1/validate/: the real call's checks and answers for a single item or a bulk
body, without spending a credit, creating a code or rendering (CONTRACT section 5).

The store is only read: the quota and the active-code cap are judged by ``quota.decide`` on
the current counters, as the charge script would judge them now.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import msgspec
from litestar import Request

from .assets.loader import Uploads
from .bulk_checks import validate_bulk
from .errors import UNREADABLE
from .intake import authenticate, read_body
from .item_checks import FORMS, decode_item, read_item, render_checked, validate_single
from .items.types import ItemContext
from .limits.plans import PLANS
from .limits.quota import decide
from .limits.store import Caller
from .refusals import refuse_bulk, refuse_single
from .responses import ValidateResult
from .schema import GenerateRequest
from .services import Services

__all__ = ["handle_validate"]


class _Probe(msgspec.Struct):
    items: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    size_inches: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_probe = msgspec.json.Decoder(_Probe)


def _is_bulk(body: bytes) -> bool:
    """A bulk body has ``items`` and is not itself an item (an item needs ``size_inches``;
    stray fields such as ``items`` in an item are ignored, as the real call ignores them)."""
    try:
        probe = _probe.decode(body)
    except UNREADABLE:
        return False  # the single-item path answers malformed bodies the same way
    return probe.items is not msgspec.UNSET and probe.size_inches is msgspec.UNSET


async def handle_validate(request: Request[Any, Any, Any], svc: Services) -> ValidateResult:
    caller = await authenticate(request, svc.store)
    account = caller.account
    if request.headers.get("content-type", "").startswith(FORMS):  # an item as form fields
        item, uploads = await read_item(request, svc)
        return await _single(item, caller, svc, uploads)
    body = await read_body(request, svc.settings.max_body_bytes, svc.settings.body_timeout_s)
    if _is_bulk(body):
        # a bulk dry run fetches and trial-decodes like the real call: it takes a batch slot
        # (process and account) while it does, and is refused as the real call would be
        svc.admission.enter()
        entered = None
        try:
            svc.admission.enter_account(account.id)
            entered = account.id
            items = (await validate_bulk(body, caller, svc)).items
        finally:
            svc.admission.leave(entered)
        used = await svc.store.used_this_month(account.id)
        active = await svc.store.active_codes(account.id)
        adds = sum(1 for i in items if i.code is not None)
        result = decide(
            account.plan,
            account.monthly_quota,
            account.overage,
            used,
            len(items),
            True,
            svc.settings.enterprise_monthly_quota,
            active=active,
            new_codes=adds,
        )
        refuse_bulk(result, len(items), adds)
        return ValidateResult(
            valid=True,
            kind="bulk",
            count=len(items),
            credits=len(items),
            dynamic=adds,
            quota_remaining_after=result.remaining,
        )
    return await _single(decode_item(body), caller, svc)


async def _single(
    item: GenerateRequest, caller: Caller, svc: Services, uploads: Uploads | None = None
) -> ValidateResult:
    account = caller.account
    used = await svc.store.used_this_month(account.id)
    active = await svc.store.active_codes(account.id)
    ctx = ItemContext(account.id, svc.settings.public_base_url)
    valid = await validate_single(item, PLANS[account.plan], ctx, svc, uploads)
    await render_checked(valid, svc, account.id)  # read back, as the real call does first
    adds = 1 if valid.code else 0
    result = decide(
        account.plan,
        account.monthly_quota,
        account.overage,
        used,
        1,
        False,
        svc.settings.enterprise_monthly_quota,
        active=active,
        new_codes=adds,
    )
    refuse_single(result)
    return ValidateResult(
        valid=True,
        kind="single",
        count=1,
        credits=1,
        dynamic=adds,
        quota_remaining_after=result.remaining,
        format=cast(Literal["png", "svg"], valid.job.format),
        pixels=valid.job.layout.pixels,
        version=valid.job.version,
        error_correction=cast(Literal["L", "M", "Q", "H"], valid.job.level),
    )
