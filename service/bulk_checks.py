"""Every check of a bulk body that needs no store, in the contract's order: 400 malformed ->
403 plan without bulk -> 400 item count -> 422 items (the assets fetched and trial-decoded,
each distinct drawing rendered and read back) -> 400 output ceiling. Shared by the real call
and the dry run.
"""

from __future__ import annotations

import asyncio

import msgspec

from .errors import (
    UNREADABLE,
    ItemCountError,
    ItemErrors,
    MalformedBody,
    OutputTooLarge,
    PlanForbidden,
)
from .items.types import InvalidItem, ItemContext, ValidItem
from .items.validation import validate_item
from .limits.plans import PLANS, Plan
from .limits.store import Caller
from .preflight import check_estimate, minimum_bytes, preflight
from .render.job import RenderJob, RenderResult
from .requestid import new_ulid
from .schema import bulk_decoder
from .services import Services
from .zipstream import END_RECORD, member_overhead

MAX_BULK_ITEMS = 5_000


__all__ = ["MAX_BULK_ITEMS", "Checked", "check_count", "minimum_output_bytes", "validate_bulk"]


def _decode_items(body: bytes) -> list[msgspec.Raw]:
    try:
        body.decode("utf-8")  # msgspec checks strings only where it decodes them, not in Raw
        return bulk_decoder.decode(body).items
    except UNREADABLE as exc:
        raise MalformedBody(
            f"Body must be a JSON object with an 'items' array of GenerateRequest objects ({exc})."
        ) from None


def check_count(plan: Plan, count: int) -> None:
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
    check_count(plan, len(raw_items))
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
    check_estimate(pre.estimate + END_RECORD, svc.settings.zip_ceiling_bytes)
    return Checked(pre.items, ctx, pre.ready)
