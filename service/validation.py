"""Per-item validation: a raw item becomes a RenderJob, or one message for the client.

Checks run in the schema's field order and the first failure is the item's message (CONTRACT
section 3). Everything that could fail a render is decided here, before the first byte: plan
gates, colours and contrast, whether the content fits a QR code, and whether the symbol gets at
least 2 pixels per module. Nothing here touches the network or the store.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

import msgspec

from .limits.plans import Plan
from .limits.shortid import new_short_id
from .limits.store import NewCode
from .render.color import MIN_CONTRAST, contrast_ratio, is_inverted, parse_background, parse_color
from .render.content import ContentError, build_content, decode_payload
from .render.encode import CapacityError, plan_version, symbol_size
from .render.geometry import SUPPORTED_PATTERNS
from .render.job import RenderJob
from .render.layout import LayoutError, plan_layout
from .schema import DynamicPayload, GenerateRequest, field_message, item_decoder

__all__ = ["InvalidItem", "ItemContext", "ValidItem", "check_decoded", "check_item",
           "normalize_destination", "with_short_id",
           "public_url", "validate_item", "with_new_short_id"]


class InvalidItem(ValueError):
    """The item cannot be rendered; ``str(exc)`` is the message for the client, ``field`` the
    field it is about (single render answers per field), ``forbidden`` the product's 403
    message when it is a plan gate (single render answers those with 403)."""

    def __init__(self, message: str, field: str = "non_field_errors",
                 forbidden: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.forbidden = forbidden


class ItemContext(msgspec.Struct, frozen=True):
    """Who the items are rendered for: dynamic codes belong to the account and encode a short
    link on the public base URL."""

    account: str
    public_base_url: str


class ValidItem(msgspec.Struct, frozen=True):
    request: GenerateRequest
    job: RenderJob
    inverted: bool
    has_logo: bool = False
    code: NewCode | None = None  # the dynamic QR code this item creates
    # (kind, URL) of the assets it needs, URL None for an upload; then their normalised bytes
    wants: tuple[tuple[str, str | None], ...] = ()
    assets: dict[str, bytes] | None = None


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


def _not_yet(field: str, value: object) -> InvalidItem:
    return InvalidItem(f"{field} {value!r} is not supported by this service yet.", field)


def _color(value: str, field: str, background: bool = False) -> tuple[int, int, int, int]:
    try:
        return parse_background(value) if background else parse_color(value)
    except ValueError as exc:
        raise InvalidItem(str(exc), field) from None


def _style_checks(item: GenerateRequest) -> None:
    """Style fields whose rendering has not landed: refused, never silently ignored."""
    if item.pattern not in SUPPORTED_PATTERNS:
        raise InvalidItem(f"pattern '{item.pattern}' is not supported by this service yet; "
                          f"use one of: {', '.join(sorted(SUPPORTED_PATTERNS))}.", "pattern")
    if (item.gradient_from is None) != (item.gradient_to is None):
        raise InvalidItem("gradient_from and gradient_to go together: give both or neither.",
                          "gradient_to" if item.gradient_to is None else "gradient_from")
    for field in ("gradient_from", "gradient_to"):
        value = getattr(item, field)
        if value is not None:
            _color(value, field)
            raise _not_yet(field, value)
    if item.eye_shape != "square":
        raise _not_yet("eye_shape", item.eye_shape)
    if item.eye_color is not None:
        _color(item.eye_color, "eye_color")
        raise _not_yet("eye_color", item.eye_color)
    for field in ("eye_border_shape", "eye_center_shape"):
        value = getattr(item, field)
        if value not in (None, "square"):
            raise _not_yet(field, value)
    for field in ("eye_border_color", "eye_center_color"):
        value = getattr(item, field)
        if value is not None:
            _color(value, field)
            raise _not_yet(field, value)
    if item.eye_outer_frame or item.eye_outer_frame_match:
        raise _not_yet("eye_outer_frame", True)
    if item.frame_style != "none":
        raise _not_yet("frame_style", item.frame_style)
    if item.frame_color is not None:
        _color(item.frame_color, "frame_color")
        raise _not_yet("frame_color", item.frame_color)
    if item.frame_label is not None:
        raise InvalidItem("frame_label needs a frame_style other than 'none'.", "frame_label")


_ASSET_FIELDS = (("logo", "logo_url", "logo_file"), ("background", "bg_image_url", "bg_image_file"))


def _asset_checks(item: GenerateRequest, plan: Plan,
                  uploads: frozenset[str]) -> tuple[tuple[str, str | None], ...]:
    """What the item needs fetched (or has uploaded), after the plan gate. The URLs are
    checked by the fetcher, which has the final word."""
    wants: list[tuple[str, str | None]] = []
    for kind, url_field, upload_field in _ASSET_FIELDS:
        url = getattr(item, url_field)
        uploaded = kind in uploads
        if url is None and not uploaded:
            continue
        field = upload_field if uploaded else url_field
        if not plan.allow_custom_logo:
            raise InvalidItem(f"Plan '{plan.code}' doesn't include custom logos or background "
                              "images. Upgrade to Starter or higher.", field,
                              forbidden=f"Plan '{plan.code}' doesn't include custom logos. "
                              "Upgrade to Starter or higher.")
        if uploaded:
            wants.append((kind, None))
            continue
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in ("http", "https") or len(url) > 2048:
            raise InvalidItem(f"{url_field} must be an http or https URL of at most 2048 "
                              f"characters, got {url[:80]!r}", url_field)
        wants.append((kind, url))
    return tuple(wants)


def _dynamic(item: GenerateRequest, ctx: ItemContext | None) -> tuple[str, NewCode]:
    payload = decode_payload(item)
    assert isinstance(payload, DynamicPayload)
    destination = normalize_destination(payload.destination_url)
    if ctx is None:
        raise InvalidItem("data_type 'dynamic' needs an account", "data_type")
    short_id = new_short_id(ctx.account)
    return (public_url(ctx.public_base_url, short_id),
            NewCode(short_id, payload.name, destination))


_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def normalize_destination(url: str) -> str:
    """An http(s) URL safe to send as a Location header for years: no control characters or
    spaces, the host IDNA-encoded, everything else outside ASCII percent-encoded."""
    refused = InvalidItem(f"payload.destination_url must be an http or https URL, got {url!r}",
                          "payload")
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
    netloc = (f"{quote(userinfo, safe=':%')}@" if userinfo else "") + ascii_host + (
        f":{port}" if port is not None else "")
    safe = "/?#[]@!$&'()*+,;=:%~-._"
    return urlunsplit((parts.scheme.lower(), netloc, quote(parts.path, safe=safe),
                       quote(parts.query, safe=safe), quote(parts.fragment, safe=safe)))


def check_item(item: GenerateRequest, plan: Plan, ctx: ItemContext | None = None,
               uploads: frozenset[str] = frozenset()) -> ValidItem:
    """``uploads``: the asset kinds ("logo", "background") sent as files with the item."""
    code = None
    if item.data_type == "dynamic":
        content: str | bytes
        content, code = _dynamic(item, ctx)
    else:
        content = build_content(item)  # data, data_type, payload
    if item.size_inches > plan.max_size_inches:
        raise InvalidItem(f"size_inches > plan max ({plan.max_size_inches:g})", "size_inches",
                          forbidden=f"Plan '{plan.code}' allows up to "
                          f"{plan.max_size_inches:g}\". Upgrade for larger sizes.")
    if item.dpi > plan.max_dpi:
        raise InvalidItem(f"dpi > plan max ({plan.max_dpi})", "dpi",
                          forbidden=f"Plan '{plan.code}' allows up to {plan.max_dpi} dpi. "
                          "Upgrade for higher resolution.")
    fg = _color(item.color, "color")
    bg = _color(item.background, "background", background=True)
    _style_checks(item)
    wants = _asset_checks(item, plan, uploads)
    if item.error_correction != "auto":
        level = item.error_correction
    else:  # H where a logo or background image is composited
        level = "H" if wants else "M"
    if fg[3] == 255 and bg[3] == 255:
        ratio = contrast_ratio(fg, bg)
        if ratio < MIN_CONTRAST:
            raise InvalidItem(
                f"Contrast between color {item.color} and background {item.background} is "
                f"{ratio:.2f}:1, below the minimum of {MIN_CONTRAST:g}:1 that scanners need.",
                "background")
    try:
        version = plan_version(content, level)
        layout = plan_layout(item.size_inches, item.dpi, symbol_size(version), item.quiet_zone)
    except CapacityError as exc:
        raise InvalidItem(str(exc), "data") from None
    except LayoutError as exc:
        raise InvalidItem(str(exc), "size_inches") from None
    job = RenderJob(content=content, level=level, version=version, layout=layout,
                    pattern=item.pattern, fg=fg, bg=bg, format=item.format,
                    size_inches=item.size_inches, dpi=item.dpi)
    return ValidItem(item, job, is_inverted(fg, bg), code=code,
                     has_logo=any(kind == "logo" for kind, _ in wants), wants=wants)


def validate_item(raw: msgspec.Raw | bytes, plan: Plan,
                  ctx: ItemContext | None = None) -> ValidItem:
    try:
        item = item_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        message = field_message(exc)
        field = message.split(":", 1)[0].split(".")[0] if ": " in message else "non_field_errors"
        raise InvalidItem(message, field if field.isidentifier() else "non_field_errors") from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise InvalidItem(f"Malformed item: {exc}") from None
    return check_decoded(item, plan, ctx)


def check_decoded(item: GenerateRequest, plan: Plan, ctx: ItemContext | None,
                  uploads: frozenset[str] = frozenset()) -> ValidItem:
    try:
        return check_item(item, plan, ctx, uploads)
    except ContentError as exc:
        message = str(exc)
        field = "payload" if message.startswith("payload") else "data"
        raise InvalidItem(message, field) from None
