"""POST /api/v1/generate/bulk/: every check before the first byte, in the contract's order.

overload (503) -> 401 -> 413 -> 400 malformed -> 403 plan without bulk -> 400 item count ->
422 items -> 400 output ceiling -> 403 active dynamic QR cap and 429 quota (the one atomic
step, which also creates the batch's dynamic QR codes) -> 200 streamed ZIP.
"""

from __future__ import annotations

import asyncio
import base64
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.response import Stream

from .batch import stream_batch
from .charging import Charge
from .delivery import Delivery
from .errors import (
    UNREADABLE,
    Conflict,
    ItemCountError,
    ItemErrors,
    MalformedBody,
    NotAuthenticated,
    OutputTooLarge,
    PlanForbidden,
    QuotaExceeded,
    Unavailable,
)
from .idempotency import Idempotency
from .intake import authenticate, read_body
from .limits.plans import PLANS, Plan
from .limits.quota import ChargeResult, seconds_to_reset
from .limits.store import Caller
from .preflight import check_estimate, minimum_bytes, preflight
from .render.job import RenderJob, RenderResult
from .requestid import new_ulid
from .schema import bulk_decoder
from .services import Services
from .settlement import Settlement
from .validation import (
    InvalidItem,
    ItemContext,
    ValidItem,
    validate_item,
    with_new_short_id,
    with_short_id,
)
from .zipstream import member_overhead

__all__ = [
    "MAX_BULK_ITEMS",
    "asset_hashes",
    "check_replay_assets",
    "dynamic_cap_error",
    "handle_bulk",
    "minimum_output_bytes",
    "refuse",
    "refuse_bulk",
    "validate_bulk",
]

MAX_BULK_ITEMS = 5_000
_COLLISION_RETRIES = 5  # short ids are random: a collision is rare, two in a row rarer still
_END_RECORD = 22


def _decode_items(body: bytes) -> list[msgspec.Raw]:
    try:
        body.decode("utf-8")  # msgspec checks strings only where it decodes them, not in Raw
        return bulk_decoder.decode(body).items
    except UNREADABLE as exc:
        raise MalformedBody(
            f"Body must be a JSON object with an 'items' array of GenerateRequest objects ({exc})."
        ) from None


def _check_count(plan: Plan, count: int) -> None:
    if plan.max_bulk_items == 0:
        raise PlanForbidden(
            f"Plan '{plan.code}' doesn't include bulk generation. Upgrade to Starter or higher."
        )
    if count == 0:
        raise ItemCountError("items must contain at least 1 item.")
    cap = min(plan.max_bulk_items, MAX_BULK_ITEMS)
    if count > cap:
        raise ItemCountError(
            f"Plan '{plan.code}' caps bulk at {cap} items per request, got {count}."
        )


def _validate(
    items: list[msgspec.Raw], plan: Plan, ctx: ItemContext
) -> tuple[dict[int, ValidItem], dict[int, str]]:
    valid: dict[int, ValidItem] = {}
    errors: dict[int, str] = {}
    for index, raw in enumerate(items):
        try:
            valid[index] = validate_item(raw, plan, ctx)
        except InvalidItem as exc:
            errors[index] = str(exc)
    return valid, errors


def minimum_output_bytes(job: RenderJob, name: str) -> int:
    """A lower bound of the bytes an item adds to the archive, whatever the content."""
    return minimum_bytes(job) + member_overhead(name)


def _check_ceiling(items: list[ValidItem], ceiling: int) -> None:
    bound = sum(
        minimum_output_bytes(v.job, f"qr-{i + 1:04d}.{v.job.format}") for i, v in enumerate(items)
    )
    if bound > ceiling:
        raise OutputTooLarge(
            f"This batch would produce at least {bound} bytes, over the "
            f"{ceiling} byte ZIP ceiling; split it or lower sizes."
        )


def asset_hashes(items: list[ValidItem]) -> list[str]:
    return sorted({sha for item in items for sha in (item.assets or {})})


def check_replay_assets(items: list[ValidItem], recorded: list[str]) -> None:
    """A replay draws the same images or none: if a logo or background at the same URL has
    changed since the first request, its images and manifest could not be the same."""
    if asset_hashes(items) != recorded:
        raise Conflict(
            "A logo or background image of this request changed since the first "
            "request with this Idempotency-Key; its result cannot be replayed. Use "
            "a new key to render it again."
        )


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
        lambda: _check_count(PLANS[result.plan], count) if result.plan in PLANS else None,
    )


class Checked(msgspec.Struct):
    """A bulk body that passed every check that needs no store."""

    items: list[ValidItem]
    ctx: ItemContext
    ready: dict[str, RenderResult]  # the pre-flight's images, by cache key


async def validate_bulk(body: bytes, caller: Caller, svc: Services) -> Checked:
    """Every check of a bulk body that needs no store: 400, 403 (plan), 400 (count), 422
    (the assets fetched and trial-decoded, each distinct drawing rendered and read back),
    400 (ceiling, from the drawings' real sizes), in the contract's order. Shared by the
    real call and the dry run."""
    raw_items = _decode_items(body)
    plan = PLANS[caller.account.plan]
    _check_count(plan, len(raw_items))
    ctx = ItemContext(caller.account.id, svc.settings.public_base_url)
    valid, errors = await asyncio.to_thread(_validate, raw_items, plan, ctx)
    if any(item.wants for item in valid.values()):
        valid, more = await svc.assets.attach(valid, svc.pool, flow=(ctx.account, new_ulid()))
        errors.update((index, str(exc)) for index, exc in more.items())
    assets: dict[str, bytes] = {}
    for item in valid.values():
        assets.update(item.assets or {})
    # the valid items' drawings are read back even when others failed: a 422 lists every
    # item that will fail, not only the first kind of failure
    pre = await preflight(valid, svc.renderer, (ctx.account, new_ulid()), assets or None)
    errors.update((index, str(exc)) for index, exc in pre.errors.items())
    if errors:
        raise ItemErrors(errors)
    _check_ceiling(pre.items, svc.settings.zip_ceiling_bytes)
    check_estimate(pre.estimate + _END_RECORD, svc.settings.zip_ceiling_bytes)
    return Checked(pre.items, ctx, pre.ready)


class _Record(msgspec.Struct):
    """What a completed bulk keeps for an idempotent replay (no images, no archive)."""

    ids: list[str]
    plan: str
    remaining: int
    manifest: str  # base64 of the zlib-compressed manifest.json
    modified: str = ""  # the members' timestamp, ISO 8601
    assets: list[str] = []  # content hashes of the logos and backgrounds drawn


async def handle_bulk(request: Request[Any, Any, Any], svc: Services) -> Stream:
    svc.admission.check()
    account: str | None = None
    admitted = False
    idem: Idempotency | None = None
    try:
        caller = await authenticate(request, svc.store)
        svc.admission.enter_account(caller.account.id)
        account = caller.account.id
        body = await read_body(request, svc.settings.max_body_bytes, svc.settings.body_timeout_s)
        svc.admission.enter()  # the process slot, once the body is here
        admitted = True
        idem = await Idempotency.begin(request, svc.store, account, "bulk", body)
        if idem is not None and idem.replay is not None:
            record = msgspec.json.decode(idem.replay, type=_Record)
            # the first answer stands, even if the account's plan changed since
            first = msgspec.structs.replace(
                caller, account=msgspec.structs.replace(caller.account, plan=record.plan)
            )
            checked = await validate_bulk(body, first, svc)
            check_replay_assets(checked.items, record.assets)
            return _replay(request, svc, account, checked, record)
        checked = await validate_bulk(body, caller, svc)
        items, ctx = checked.items, checked.ctx
        del body
        charged = Charge(svc.store, account)
        for _ in range(_COLLISION_RETRIES):
            codes = [item.code for item in items if item.code is not None]
            result = await charged.charge(len(items), bulk=True, codes=codes)
            if result.status != "collision":
                break
            items = [with_new_short_id(i, ctx) if i.code else i for i in items]
        refuse_bulk(result, len(items), len(codes))
    except BaseException:
        svc.admission.leave(account, process=admitted)
        if idem is not None:
            await idem.release()
        raise
    owner = account
    modified = datetime.now().replace(microsecond=0)

    async def undo() -> bool:
        refunded = await charged.refund()
        if idem is not None:
            await idem.release()
        return refunded

    async def done(manifest: bytes) -> None:
        if idem is not None:
            record = _Record(
                charged.short_ids,
                result.plan,
                result.remaining,
                base64.b64encode(zlib.compress(manifest, 6)).decode(),
                modified.isoformat(),
                asset_hashes(items),
            )
            await idem.finish(msgspec.json.encode(record).decode())

    settlement = Settlement(
        undo,
        lambda: svc.admission.leave(owner),
        svc.streams,
        svc.metrics.refunds.inc,
        settle=charged.settle,
        on_complete=done,
        metrics=svc.metrics,
    )
    checked = msgspec.structs.replace(checked, items=items)  # with their final short ids
    return _stream(request, svc, checked, result.plan, result.remaining, settlement, None, modified)


def _stream(
    request: Request[Any, Any, Any],
    svc: Services,
    checked: Checked,
    plan: str,
    remaining: int,
    settlement: Settlement,
    manifest: bytes | None,
    modified: datetime | None,
) -> Stream:
    items, ctx = checked.items, checked.ctx
    count = len(items)
    # the charge stands only once the archive's last byte has left this process
    delivery: Delivery = request.scope["state"].get("delivery") or Delivery(None)
    delivery.arm(settlement.delivered)
    body_stream = stream_batch(
        items,
        plan=plan,
        renderer=svc.renderer,
        base=ctx.public_base_url,
        window=svc.settings.window,
        ceiling=svc.settings.zip_ceiling_bytes,
        settlement=settlement,
        metrics=svc.metrics,
        manifest=manifest,
        modified=modified,
        flow=(ctx.account, new_ulid()),
        ready=checked.ready,
    )
    headers = {
        "Content-Disposition": f'attachment; filename="qrstudio-bulk-{count}.zip"',
        "X-QR-Plan": plan,
        "X-QR-Quota-Remaining": str(remaining),
        "Cache-Control": "no-store",
    }
    if manifest is not None:
        headers["Idempotent-Replayed"] = "true"
    return Stream(body_stream, media_type="application/zip", headers=headers)


def _replay(
    request: Request[Any, Any, Any], svc: Services, account: str, checked: Checked, record: _Record
) -> Stream:
    """The stored result again: the same short ids, the same images (rendered again, from the
    cache when it still has them), the same manifest; nothing charged."""
    ids, ctx = iter(record.ids), checked.ctx
    items = [with_short_id(item, ctx, next(ids)) if item.code else item for item in checked.items]

    async def nothing() -> bool:
        return False

    settlement = Settlement(
        nothing, lambda: svc.admission.leave(account), svc.streams, metrics=svc.metrics
    )
    manifest = zlib.decompress(base64.b64decode(record.manifest))
    modified = datetime.fromisoformat(record.modified) if record.modified else None
    return _stream(
        request,
        svc,
        msgspec.structs.replace(checked, items=items, ready={}),
        record.plan,
        record.remaining,
        settlement,
        manifest,
        modified,
    )
