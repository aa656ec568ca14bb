"""POST /api/v1/generate/bulk/: every check before the first byte, in the contract's order.

overload (503) -> 401 -> 413 -> 400 malformed -> 403 plan without bulk -> 400 item count ->
422 items -> 400 output ceiling -> 403 active dynamic QR cap and 429 quota (the one atomic
step, which also creates the batch's dynamic QR codes) -> 200 streamed ZIP.
"""

from __future__ import annotations

import base64
import zlib
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.response import Stream

from .batch import BatchPlan, stream_batch
from .bulk_checks import Checked, validate_bulk
from .charging import Charge
from .delivery import Delivery
from .idempotency import Idempotency, asset_hashes, check_replay_assets
from .intake import authenticate, read_body
from .items.dynamic import with_new_short_id, with_short_id
from .refusals import refuse_bulk
from .requestid import new_ulid
from .services import Services
from .settlement import Settlement

__all__ = ["handle_bulk"]

_COLLISION_RETRIES = 5  # short ids are random: a collision is rare, two in a row rarer still


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
    batch = BatchPlan(
        items=items,
        plan=plan,
        base=ctx.public_base_url,
        window=svc.settings.window,
        ceiling=svc.settings.zip_ceiling_bytes,
        flow=(ctx.account, new_ulid()),
        ready=checked.ready,
        manifest=manifest,
        modified=modified,
    )
    body_stream = stream_batch(batch, svc.renderer, settlement, svc.metrics)
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
