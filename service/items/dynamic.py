"""A dynamic QR item's own rules: its destination normalised once for years of redirects, its
short id minted (again after a collision), and the short link on the public base URL that the
code encodes."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

import msgspec

from ..limits.shortid import new_short_id
from ..limits.store import NewCode
from ..schema import DynamicPayload, GenerateRequest
from .content import decode_payload
from .types import InvalidItem, ItemContext, ValidItem

__all__ = [
    "dynamic_content",
    "normalize_destination",
    "public_url",
    "with_new_short_id",
    "with_short_id",
]


def public_url(base: str, short_id: str) -> str:
    return f"{base.rstrip('/')}/q/{short_id}/"


def with_new_short_id(item: ValidItem, ctx: ItemContext) -> ValidItem:
    """The same dynamic item with a fresh short id (after a collision); same length, so the
    version and layout planned for it still hold."""
    return with_short_id(item, ctx, new_short_id(ctx.account))


def with_short_id(item: ValidItem, ctx: ItemContext, short_id: str) -> ValidItem:
    assert item.code is not None
    code = msgspec.structs.replace(item.code, short_id=short_id)
    job = msgspec.structs.replace(item.job, content=public_url(ctx.public_base_url, short_id))
    return msgspec.structs.replace(item, job=job, code=code)


def dynamic_content(item: GenerateRequest, ctx: ItemContext | None) -> tuple[str, NewCode]:
    payload = decode_payload(item)
    assert isinstance(payload, DynamicPayload)
    destination = normalize_destination(payload.destination_url)
    if ctx is None:
        raise InvalidItem("data_type 'dynamic' needs an account", "data_type")
    short_id = new_short_id(ctx.account)
    return (public_url(ctx.public_base_url, short_id), NewCode(short_id, payload.name, destination))


_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def normalize_destination(url: str) -> str:
    """An http(s) URL safe to send as a Location header for years: no control characters or
    spaces, the host IDNA-encoded, everything else outside ASCII percent-encoded."""
    refused = InvalidItem(
        f"payload.destination_url must be an http or https URL, got {url!r}", "payload"
    )
    if _UNSAFE.search(url):
        raise refused
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise refused
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise refused from None
    if ":" in ascii_host:  # IPv6 literal
        ascii_host = f"[{ascii_host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (
        (f"{quote(userinfo, safe=':%')}@" if userinfo else "")
        + ascii_host
        + (f":{port}" if port is not None else "")
    )
    safe = "/?#[]@!$&'()*+,;=:%~-._"
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe),
            quote(parts.fragment, safe=safe),
        )
    )
