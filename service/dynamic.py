"""Dynamic QR codes: the public redirect and the management API (CONTRACT section 5).

A code encodes ``{PUBLIC_BASE_URL}/q/{short_id}/``; the destination lives in the store and can
change after printing. The redirect is what phones hit: one store round trip (scan.lua) that
both resolves the code and counts the scan in bounded storage.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Request, Response

from .charging import Charge
from .errors import (
    UNREADABLE,
    FieldError,
    FieldErrors,
    MalformedBody,
    NotAuthenticated,
    NotFound,
    PaymentRequired,
    PlanForbidden,
)
from .idempotency import Idempotency, released_on_error
from .intake import authenticate
from .items.dynamic import normalize_destination, public_url
from .items.fields import coerce_struct
from .items.types import InvalidItem
from .limits.plans import PLANS
from .limits.quota import month_of
from .limits.shortid import SHORT_ID_RE, new_short_id
from .limits.store import Caller, CodeRecord, NewCode, Scan, utc_z
from .refusals import dynamic_cap_error
from .responses import Analytics, CodePage, DynamicCode, ScanEntry
from .schema import CodeCreate, CodeUpdate
from .services import Services

__all__ = [
    "PAUSED_PAGE",
    "agent_family",
    "analytics",
    "code_object",
    "create_code",
    "delete_code",
    "get_code",
    "list_codes",
    "redirect",
    "update_code",
]

PAUSED_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><meta name=viewport "
    "content='width=device-width'><title>Paused</title></head><body style='font:18px "
    "system-ui;margin:20vh auto;max-width:28em;text-align:center'><h1>This QR code "
    "is paused</h1><p>Its owner has paused it for now. Please try again later."
    "</p></body></html>"
)
FREE_MONTHLY_SCANS = 50
_AGENTS = [
    ("bot", re.compile(r"bot|crawl|spider|slurp|preview", re.I)),
    ("ios", re.compile(r"iPhone|iPad|iPod")),
    ("android", re.compile(r"Android")),
    ("windows", re.compile(r"Windows")),
    ("macos", re.compile(r"Macintosh|Mac OS X")),
    ("linux", re.compile(r"Linux|X11")),
]


def agent_family(ua: str) -> str:
    return next((name for name, pattern in _AGENTS if pattern.search(ua)), "other")


def _scan(request: Request[Any, Any, Any]) -> Scan:
    now = datetime.now(UTC)
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    agent = agent_family(request.headers.get("user-agent", ""))
    referer = request.headers.get("referer", "")
    try:
        host = (urlsplit(referer).hostname or "")[:100] if referer else ""
    except ValueError:  # a malformed Referer is the scanner's problem, never a failed redirect
        host = ""
    entry = msgspec.json.encode({"at": at, "agent": agent, "referrer": host}).decode()
    return Scan(
        at=at,
        day=now.strftime("%Y-%m-%d"),
        month=month_of(now),
        agent=agent,
        referrer=host,
        entry=entry,
    )


async def redirect(request: Request[Any, Any, Any], short_id: str, svc: Services) -> Response[Any]:
    """GET, and HEAD (link checkers, crawlers): the same answer, but HEAD counts no scan."""
    headers = {"Cache-Control": "no-store"}
    if not SHORT_ID_RE.fullmatch(short_id):
        return Response(content={"detail": "Not found."}, status_code=404, headers=headers)
    if request.method == "HEAD":
        state, destination = await svc.store.peek(short_id)
    else:
        state, destination = await svc.store.resolve(short_id, _scan(request))
    if state == "ok":
        return Response(content=b"", status_code=302, headers={**headers, "Location": destination})
    if state == "paused":
        return Response(
            content=PAUSED_PAGE, status_code=200, media_type="text/html", headers=headers
        )
    return Response(content={"detail": "Not found."}, status_code=404, headers=headers)


def code_object(code: CodeRecord, base: str) -> DynamicCode:
    """The product's dynamic QR object (variants is always empty here)."""
    return DynamicCode(
        id=code.id,
        short_id=code.short_id,
        name=code.name,
        destination_url=code.destination_url,
        variants=[],
        is_active=code.is_active,
        scan_count=code.scan_count,
        last_scanned_at=utc_z(code.last_scanned_at),
        destination_changes_count=code.destination_changes_count,
        public_url=public_url(base, code.short_id),
        created_at=utc_z(code.created_at),
        updated_at=utc_z(code.updated_at),
    )


def _recent(entry: str) -> ScanEntry:
    scan = msgspec.json.decode(entry, type=ScanEntry)
    return msgspec.structs.replace(scan, at=utc_z(scan.at))


async def _caller(request: Request[Any, Any, Any], svc: Services) -> Caller:
    return await authenticate(request, svc.store, bearer=True)


def _decode(struct: type[msgspec.Struct], body: bytes) -> Any:
    """A create or update body: every failing field at once, in the product's words."""
    try:
        body.decode("utf-8")  # msgspec skips unknown fields without checking their UTF-8
        clean, problems = coerce_struct(msgspec.json.decode(body), struct)
    except UNREADABLE as exc:
        raise MalformedBody(f"Malformed JSON body: {exc}") from None
    if problems:
        raise FieldErrors(problems)
    return msgspec.convert(clean, struct)


def _destination(url: str) -> str:
    try:
        return normalize_destination(url)
    except InvalidItem:
        raise FieldError("destination_url", "Enter an http or https URL.") from None


def _int_param(request: Request[Any, Any, Any], name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # the length first: int() of a 4 301-digit string raises (Python's int-string limit)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not 1 <= int(raw) <= 1_000_000:
        raise FieldError(name, "A positive integer (at most 1000000) is required.")
    return int(raw)


async def list_codes(request: Request[Any, Any, Any], svc: Services) -> CodePage:
    caller = await _caller(request, svc)
    page = _int_param(request, "page", 1)
    page_size = min(_int_param(request, "page_size", 25), 100)
    count, codes = await svc.store.list_codes(caller.account.id, (page - 1) * page_size, page_size)
    if page > 1 and (page - 1) * page_size >= count:  # the product's paginator: 404
        raise NotFound("Invalid page.")
    # Litestar strips the trailing slash from the path; the product's links keep it
    base = str(request.base_url).rstrip("/") + request.url.path.rstrip("/") + "/"

    def link(p: int) -> str | None:
        if p < 1 or (p - 1) * page_size >= count:
            return None
        return f"{base}?{urlencode({'page': p, 'page_size': page_size})}"

    return CodePage(
        count,
        link(page + 1),
        link(page - 1),
        [code_object(c, svc.settings.public_base_url) for c in codes],
    )


async def create_code(request: Request[Any, Any, Any], svc: Services) -> Response[Any]:
    caller = await _caller(request, svc)
    body = await request.body()
    idem = await Idempotency.begin(request, svc.store, caller.account.id, "dynamic", body)
    async with released_on_error(idem):
        if idem is not None and idem.replay is not None:  # the original answer, as it was
            return Response(
                content=msgspec.json.decode(idem.replay),
                status_code=201,
                headers={"Idempotent-Replayed": "true"},
            )
        return Response(content=await _create_code(body, caller, svc, idem), status_code=201)


async def _create_code(
    body: bytes, caller: Caller, svc: Services, idem: Idempotency | None
) -> DynamicCode:
    data: CodeCreate = _decode(CodeCreate, body)
    destination = _destination(data.destination_url)
    charged = Charge(svc.store, caller.account.id)
    for _ in range(5):
        short_id = new_short_id(charged.account)
        result = await charged.charge(
            0, bulk=False, codes=[NewCode(short_id, data.name, destination)]
        )
        if result.status != "collision":
            break
    if result.status == "dynamic_cap":
        raise dynamic_cap_error(result, 1)
    if result.status != "ok":
        raise NotAuthenticated()
    # from here the code exists: answer with it (settled: created for good, never swept), or
    # remove it again
    async with charged.kept():
        code = await svc.store.get_code(charged.account, short_id)
        assert code is not None
        made = code_object(code, svc.settings.public_base_url)
        if idem is not None:
            await idem.finish(msgspec.json.encode(made).decode())
    return made


async def _owned(
    request: Request[Any, Any, Any], svc: Services, short_id: str
) -> tuple[Caller, CodeRecord]:
    caller = await _caller(request, svc)
    code = (
        await svc.store.get_code(caller.account.id, short_id)
        if SHORT_ID_RE.fullmatch(short_id)
        else None
    )
    if code is None:
        raise NotFound("Not found.")
    return caller, code


async def get_code(request: Request[Any, Any, Any], svc: Services, short_id: str) -> DynamicCode:
    _, code = await _owned(request, svc, short_id)
    return code_object(code, svc.settings.public_base_url)


async def update_code(request: Request[Any, Any, Any], svc: Services, short_id: str) -> DynamicCode:
    caller, _ = await _owned(request, svc, short_id)
    data: CodeUpdate = _decode(CodeUpdate, await request.body())
    destination = _destination(data.destination_url) if data.destination_url is not None else ""
    if data.name == "":
        raise FieldError("name", "This field may not be blank.")
    plan = PLANS[caller.account.plan]
    status, n = await svc.store.update_code(
        caller.account.id,
        short_id,
        name=data.name or "",
        destination=destination,
        is_active=data.is_active,
        edit_limit=-1 if plan.dynamic_edit_limit is None else plan.dynamic_edit_limit,
        max_active=-1 if plan.max_active_dynamic_qrs is None else plan.max_active_dynamic_qrs,
    )
    if status == "missing":
        raise NotFound("Not found.")
    if status == "edit_limit":
        raise PaymentRequired(
            f"Plan '{plan.code}' allows {plan.dynamic_edit_limit} destination "
            "edit per dynamic QR. Upgrade to edit it again."
        )
    if status == "dynamic_cap":
        raise PlanForbidden(
            f"Plan '{plan.code}' allows up to {plan.max_active_dynamic_qrs} "
            f"active dynamic QRs ({n} active, this request adds 1)."
        )
    code = await svc.store.get_code(caller.account.id, short_id)
    assert code is not None
    return code_object(code, svc.settings.public_base_url)


async def delete_code(request: Request[Any, Any, Any], svc: Services, short_id: str) -> None:
    caller, _ = await _owned(request, svc, short_id)
    if not await svc.store.delete_code(caller.account.id, short_id):
        raise NotFound("Not found.")


async def analytics(request: Request[Any, Any, Any], svc: Services, short_id: str) -> Analytics:
    caller, code = await _owned(request, svc, short_id)
    free = caller.account.plan == "free"
    return Analytics(
        short_id=code.short_id,
        total=code.scan_count,
        last_scanned_at=utc_z(code.last_scanned_at),
        by_day=dict(sorted(code.days.items())),
        by_user_agent=dict(sorted(code.agents.items(), key=lambda kv: -kv[1])),
        by_referrer=dict(sorted(code.referrers.items(), key=lambda kv: -kv[1])),
        recent=[_recent(e) for e in code.recent],
        monthly_scan_cap=FREE_MONTHLY_SCANS if free else None,
        months_over_cap=sorted(
            m for m, n in code.months.items() if free and n > FREE_MONTHLY_SCANS
        ),
    )
