"""POST /api/v1/generate/ (one image) and GET /api/v1/usage/ (CONTRACT sections 4 and 5).

The same validation as a bulk item, answered the product's single-render way: a failing field
is a 400 ``{"<field>": ["<message>"]}``, a plan gate is the product's 403. JSON, or the same
fields as ``multipart/form-data`` (``payload`` as a JSON string).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response

from .assets.decode import KINDS
from .assets.loader import Uploads
from .bulk import asset_hashes, check_replay_assets, refuse
from .charging import Charge
from .errors import (
    UNREADABLE,
    FieldError,
    FieldErrors,
    MalformedBody,
    PlanForbidden,
    Unavailable,
)
from .fields import FieldProblems, check_fields
from .fields import read_item as read_fields
from .idempotency import Idempotency, released_on_error
from .intake import authenticate, read_body
from .limits.plans import PLANS, Plan
from .limits.quota import ChargeResult
from .limits.store import Caller
from .preflight import unreadable
from .render.job import RenderResult
from .requestid import new_ulid
from .schema import UNLIMITED, GenerateRequest, UsageBody
from .services import Services
from .validation import (
    InvalidItem,
    ItemContext,
    ValidItem,
    check_decoded,
    public_url,
    with_short_id,
)

__all__ = [
    "FORMS",
    "decode_item",
    "fingerprint",
    "handle_generate",
    "read_item",
    "refuse_single",
    "usage",
    "validate_single",
]

_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}
_UPLOADS = {"logo_file": "logo", "bg_image_file": "background"}
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def decode_item(body: bytes) -> GenerateRequest:
    """A JSON item; every failing field answers at once (fields.py)."""
    try:
        body.decode("utf-8")
        return read_fields(body)
    except FieldProblems as exc:
        raise FieldErrors(exc.problems) from None
    except UNREADABLE as exc:
        raise MalformedBody(f"Malformed JSON body: {exc}") from None


async def read_item(
    request: Request[Any, Any, Any], svc: Services
) -> tuple[GenerateRequest, Uploads]:
    """The item of a single render: JSON, or form fields (multipart or urlencoded) with the
    ``logo_file`` and ``bg_image_file`` uploads, whose bytes are read up to their limit."""
    uploads: dict[str, bytes] = {}
    if request.headers.get("content-type", "").startswith(FORMS):
        form = await request.form()
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if name in _UPLOADS:
                uploads[_UPLOADS[name]] = await _read_upload(name, value)
                continue
            if not isinstance(value, str):
                raise FieldError(name, "Expected a text field.")
            fields[name] = value
        try:  # form fields are strings: read as the product reads them (payload: JSON text)
            return check_fields(fields), uploads
        except FieldProblems as exc:
            raise FieldErrors(exc.problems) from None
    return decode_item(
        await read_body(request, svc.settings.max_body_bytes, svc.settings.body_timeout_s)
    ), uploads


async def _read_upload(name: str, value: Any) -> bytes:
    if isinstance(value, str) or not hasattr(value, "read"):
        raise FieldError(name, "Expected a file upload.")
    limit = KINDS[_UPLOADS[name]].max_bytes
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise FieldError(
            name,
            f"{name} is larger than the {limit / 1_000_000:g} MB limit for "
            f"a {KINDS[_UPLOADS[name]].what}",
        )
    return bytes(data)


async def validate_single(
    item: GenerateRequest,
    plan: Plan,
    ctx: ItemContext,
    svc: Services,
    uploads: Uploads | None = None,
) -> ValidItem:
    """The checks of one item, its assets fetched (or its uploads read) and trial-decoded."""
    try:
        valid = check_decoded(item, plan, ctx, frozenset(uploads or ()))
    except InvalidItem as exc:
        if exc.forbidden:
            raise PlanForbidden(exc.forbidden) from None
        raise FieldError(exc.field, str(exc)) from None
    if valid.wants:
        attached, errors = await svc.assets.attach({0: valid}, svc.pool, uploads)
        if errors:
            raise FieldError(errors[0].field, str(errors[0]))
        valid = attached[0]
    return valid


def fingerprint(item: GenerateRequest, uploads: Uploads) -> bytes:
    """What an idempotency key is bound to: the item and the uploads' content."""
    body = msgspec.json.encode(item)
    for kind in sorted(uploads):
        body += f"\n{kind}:{hashlib.sha256(uploads[kind]).hexdigest()}".encode()
    return body


def refuse_single(result: ChargeResult) -> None:
    refuse(result, 1, "This render")


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
    svc.metrics.items.labels(valid.job.format).inc()
    if hit:
        svc.metrics.cache_hits.inc()
    else:
        svc.metrics.render_seconds.observe(image.seconds)
    return _response(valid, image, ctx, record, replayed=False)


async def render_checked(
    valid: ValidItem, svc: Services, account: str
) -> tuple[RenderResult, bool]:
    """The item's image, read back (and repaired if it had to be: ``render.pipeline``), and
    whether it came from the cache; 400 if it reads back in no form."""
    ((image, hit),) = await svc.renderer.render(
        [valid.job], {}, valid.assets, (account, new_ulid())
    )
    if not image.verified:
        exc = unreadable(valid)
        raise FieldError(exc.field, str(exc))
    return image, hit


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


async def usage(request: Request[Any, Any, Any], svc: Services) -> UsageBody:
    caller: Caller = await authenticate(request, svc.store)
    account = caller.account
    plan = PLANS[account.plan]
    default = (
        svc.settings.enterprise_monthly_quota if plan.code == "enterprise" else plan.monthly_quota
    )
    quota = account.monthly_quota if account.monthly_quota is not None else default
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
    return UsageBody(
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
