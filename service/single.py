"""POST /api/v1/generate/ (one image) and GET /api/v1/usage/ (CONTRACT sections 4 and 5).

The same validation as a bulk item, answered the product's single-render way: a failing field
is a 400 ``{"<field>": ["<message>"]}``, a plan gate is the product's 403. JSON, or the same
fields as ``multipart/form-data`` (``payload`` as a JSON string).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from .assets.loader import Uploads
from .charging import Charge
from .errors import (
    Unavailable,
)
from .idempotency import Idempotency, asset_hashes, check_replay_assets, released_on_error
from .intake import authenticate
from .item_checks import fingerprint, read_item, render_checked, validate_single
from .items.dynamic import public_url, with_short_id
from .items.types import ItemContext, ValidItem
from .limits.plans import PLANS
from .limits.store import Caller
from .refusals import refuse_single
from .render.job import RenderResult
from .responses import Usage
from .schema import UNLIMITED, GenerateRequest
from .services import Services

__all__ = ["handle_generate", "usage"]

_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


class _Record(msgspec.Struct):
    """What a single render keeps for an idempotent replay."""

    id: str  # the dynamic code's short id, or ""
    plan: str
    remaining: int
    cache: str
    ms: str
    assets: list[str] = []  # content hashes of the logo and background drawn


async def handle_generate(request: Request[Any, Any, Any], svc: Services) -> Response[bytes]:
    caller = await authenticate(request, svc.store)
    item, uploads = await read_item(request, svc)
    account = caller.account.id
    idem = await Idempotency.begin(
        request, svc.store, account, "generate", fingerprint(item, uploads)
    )
    async with released_on_error(idem):
        return await _generate(item, uploads, caller, svc, idem)


async def _generate(
    item: GenerateRequest, uploads: Uploads, caller: Caller, svc: Services, idem: Idempotency | None
) -> Response[bytes]:
    ctx = ItemContext(caller.account.id, svc.settings.public_base_url)
    if idem is not None and idem.replay is not None:
        record = msgspec.json.decode(idem.replay, type=_Record)
        # the first answer's plan
        valid = await validate_single(item, PLANS[record.plan], ctx, svc, uploads)
        check_replay_assets([valid], record.assets)
        if record.id and valid.code is not None:
            valid = with_short_id(valid, ctx, record.id)
        image, _ = await render_checked(valid, svc, ctx.account)
        return _response(valid, image, ctx, record, replayed=True)
    valid = await validate_single(item, PLANS[caller.account.plan], ctx, svc, uploads)
    # rendered and read back before anything is charged: a code that reads in no way is a
    # 400 and costs nothing
    image, hit = await render_checked(valid, svc, ctx.account)
    charged = Charge(svc.store, caller.account.id)
    codes = [valid.code] if valid.code else []
    result = await charged.charge(1, bulk=False, codes=codes)
    if result.status == "collision" and valid.code is not None:  # astronomically rare
        raise Unavailable("A short id collided; nothing was charged. Retry.", retry_after=1)
    refuse_single(result)
    async with charged.kept():  # refunded if the answer cannot be made, settled once it is
        record = _Record(
            valid.code.short_id if valid.code else "",
            result.plan,
            result.remaining,
            "HIT" if hit else "MISS",
            "0" if hit else str(image.duration_ms),
            asset_hashes([valid]),
        )
        if idem is not None:
            await idem.finish(msgspec.json.encode(record).decode())
    svc.metrics.item_written(valid.job.format, image, hit)
    return _response(valid, image, ctx, record, replayed=False)


def _response(
    valid: ValidItem, image: RenderResult, ctx: ItemContext, record: _Record, replayed: bool
) -> Response[bytes]:
    headers = {
        "X-QR-Cache": record.cache,
        "X-QR-Duration-Ms": record.ms,
        "X-QR-Plan": record.plan,
        "X-QR-Quota-Remaining": str(record.remaining),
        "Cache-Control": "no-store",
        "X-QR-Verified": "true",
    }
    if image.repaired:
        headers["X-QR-Repaired"] = image.repaired
    if valid.warnings:
        headers["X-QR-Warning"] = " ".join(valid.warnings)
    if valid.code is not None:
        headers["X-QR-Short-Id"] = valid.code.short_id
        headers["X-QR-Public-Url"] = public_url(ctx.public_base_url, valid.code.short_id)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(content=image.data, media_type=_MEDIA[valid.job.format], headers=headers)


async def usage(request: Request[Any, Any, Any], svc: Services) -> Usage:
    caller: Caller = await authenticate(request, svc.store)
    account = caller.account
    plan = PLANS[account.plan]
    quota = plan.quota_for(account.monthly_quota, svc.settings.enterprise_monthly_quota)
    overage = plan.overage if account.overage is None else account.overage
    used = await svc.store.used_this_month(account.id)
    active = await svc.store.active_codes(account.id)
    cap = UNLIMITED if plan.max_active_dynamic_qrs is None else plan.max_active_dynamic_qrs
    note = (
        f"{quota} renders a month"
        + (
            " (this account's own quota)"
            if account.monthly_quota is not None
            else " (the plan's)"
            if plan.code != "enterprise"
            else " (the enterprise default; the product calls enterprise unlimited)"
        )
        + (
            "; renders past it are allowed and billed as overage"
            if overage
            else "; past it renders are refused (429) until the 1st, 00:00 UTC"
        )
        + (f"; {UNLIMITED} means no cap" if cap == UNLIMITED else "")
        + "."
    )
    return Usage(
        key_prefix=caller.key.prefix,
        plan=plan.code,
        monthly_quota=quota,
        used_this_month=used,
        remaining=max(0, quota - used),
        max_size_inches=int(plan.max_size_inches)
        if float(plan.max_size_inches).is_integer()
        else plan.max_size_inches,
        max_dpi=plan.max_dpi,
        allow_custom_logo=plan.allow_custom_logo,
        max_active_dynamic_qrs=cap,
        max_bulk_items=plan.max_bulk_items,
        active_dynamic_qrs=active,
        credits_remaining=0,
        overage=overage,
        limits_note=note,
    )
