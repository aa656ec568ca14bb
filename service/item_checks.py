"""One item as the single render takes it (JSON, or the same fields as multipart/form-data
with uploads): read, validated like a bulk item, and rendered and read back before anything
is charged. Shared by the single render and the dry run.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request

from .assets.decode import KINDS
from .assets.loader import Uploads
from .errors import (
    UNREADABLE,
    FieldError,
    FieldErrors,
    MalformedBody,
    PlanForbidden,
)
from .intake import read_body
from .items.fields import FieldProblems, check_fields
from .items.fields import read_item as read_fields
from .items.types import InvalidItem, ItemContext, ValidItem
from .items.validation import check_decoded
from .limits.plans import Plan
from .preflight import unreadable
from .render.job import RenderResult
from .requestid import new_ulid
from .schema import GenerateRequest
from .services import Services

_UPLOADS = {"logo_file": "logo", "bg_image_file": "background"}

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")

__all__ = ["FORMS", "decode_item", "fingerprint", "read_item", "render_checked", "validate_single"]


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
