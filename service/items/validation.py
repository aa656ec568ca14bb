"""Per-item validation: a raw item becomes a RenderJob, or one message for the client.

Checks run in the schema's field order and the first failure is the item's message (CONTRACT
section 3): plan gates, colours, whether the content fits a QR code, and whether the symbol
gets at least 1 pixel per module. Whether the code scans is not guessed here: low contrast is
a warning, and every image is read back (``render.readback``; each distinct drawing before the
first byte, ``preflight``). Nothing here touches the network or the store.
"""

from __future__ import annotations

import unicodedata

import msgspec

from ..errors import UNREADABLE
from ..limits.plans import Plan
from ..render.color import (
    MIN_CONTRAST,
    RGBA,
    contrast_ratio,
    is_inverted,
    parse_background,
    parse_color,
)
from ..render.encode import CapacityError, plan_version, symbol_size
from ..render.eyes import EYE_DEFAULTS, ROUND_BORDERS
from ..render.job import RenderJob, Style
from ..render.layout import LayoutError, frame_box, pixels_for, plan_layout
from ..render.patterns import SEPARATED
from ..schema import GenerateRequest
from .content import ContentError, build_content
from .dynamic import dynamic_content
from .fields import FieldProblems, read_item
from .types import InvalidItem, ItemContext, ValidItem

__all__ = ["check_decoded", "check_item", "validate_item"]


def _color(value: str, field: str, background: bool = False) -> tuple[int, int, int, int]:
    try:
        return parse_background(value) if background else parse_color(value)
    except ValueError as exc:
        raise InvalidItem(str(exc), field) from None


def _optional_color(value: str | None, field: str, default: RGBA | None) -> RGBA | None:
    return _color(value, field) if value is not None else default


def _least_version(pattern: str, style: Style | None) -> int:
    """A round eye border over a separated pattern is drawn at version 2 at least: version 1
    has no alignment pattern, and a tilted capture did not read (``eyes.ROUND_BORDERS``)."""
    if style is not None and style.eye_border in ROUND_BORDERS and pattern in SEPARATED:
        return 2
    return 1


def _style(item: GenerateRequest, fg: RGBA) -> Style | None:
    """The style fields resolved (defaults and colours); None for a plain code."""
    if (item.gradient_from is None) != (item.gradient_to is None):
        raise InvalidItem(
            "gradient_from and gradient_to go together: give both or neither.",
            "gradient_to" if item.gradient_to is None else "gradient_from",
        )
    gradient = None
    if item.gradient_from is not None and item.gradient_to is not None:
        gradient = (
            _color(item.gradient_from, "gradient_from"),
            _color(item.gradient_to, "gradient_to"),
        )
    eye = _optional_color(item.eye_color, "eye_color", None)
    border_default, centre_default = EYE_DEFAULTS[item.eye_shape]
    border = item.eye_border_shape or border_default
    # a border given alone gets a centre that keeps the finder's proportions with it (a
    # square centre's corners break them inside a circle); the read-back decides the rest
    centre = item.eye_center_shape or (
        _MATCHING_CENTRE.get(border, centre_default) if item.eye_border_shape else centre_default
    )
    border_ink = _optional_color(item.eye_border_color, "eye_border_color", eye)
    centre_ink = _optional_color(item.eye_center_color, "eye_center_color", eye)
    frame_ink = _optional_color(item.frame_color, "frame_color", None)
    if item.frame_label is not None and item.frame_style == "none":
        raise InvalidItem("frame_label needs a frame_style other than 'none'.", "frame_label")
    if item.frame_label is not None:
        _check_label(item.frame_label)
    if item.frame_style != "none" and item.quiet_zone == 0:  # found by tests/fuzz
        raise InvalidItem(
            "A frame needs quiet_zone 1 or more: with 0 its line touches the code "
            "and scanners cannot find the finder patterns.",
            "quiet_zone",
        )
    ring_ink = (border_ink or fg) if item.eye_outer_frame_match else None
    style = Style(
        eye_border=border,
        eye_center=centre,
        eye_border_color=border_ink,
        eye_center_color=centre_ink,
        outer_frame=item.eye_outer_frame,
        outer_frame_color=ring_ink,
        gradient=gradient,
        frame_style=item.frame_style,
        frame_color=frame_ink,
        frame_label=item.frame_label,
    )
    return None if style == _PLAIN else style


_PLAIN = Style()
_MATCHING_CENTRE = {"circle": "circle", "rounded": "rounded"}
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})


def _check_label(label: str) -> None:
    """A caption draws something: at least one character that is not a space or a format
    character (zero-width, bidi controls, BOM), and no control characters (an SVG cannot
    carry them)."""
    categories = [unicodedata.category(c) for c in label]
    if "Cc" in categories:
        raise InvalidItem("frame_label must not contain control characters.", "frame_label")
    if all(cat in _INVISIBLE for cat in categories):
        raise InvalidItem(
            "frame_label must contain at least one visible character (spaces, "
            "zero-width and direction marks draw nothing).",
            "frame_label",
        )


def _contrast(item: GenerateRequest, fg: RGBA, bg: RGBA, style: Style | None) -> list[str]:
    """Warnings for every ink that carries modules (the dark modules, both gradient ends, the
    eyes) below 3:1 against an opaque background, or on its other side: scanners may
    struggle (as the product warns). The read-back decides whether the code is refused."""
    warnings: list[str] = []
    inks: list[tuple[str, str | None, tuple[int, int, int, int]]] = [("color", item.color, fg)]
    if style is not None:
        if style.gradient is not None:
            inks = [
                ("gradient_from", item.gradient_from, style.gradient[0]),
                ("gradient_to", item.gradient_to, style.gradient[1]),
            ]
        if style.eye_border_color is not None:
            inks.append(
                (
                    "eye_border_color",
                    item.eye_border_color or item.eye_color,
                    style.eye_border_color,
                )
            )
        if style.eye_center_color is not None:
            inks.append(
                (
                    "eye_center_color",
                    item.eye_center_color or item.eye_color,
                    style.eye_center_color,
                )
            )
    if bg[3] != 255:
        return warnings
    light = is_inverted(fg, bg)
    for field, spelled, ink in inks:
        if ink[3] != 255:
            continue
        ratio = contrast_ratio(ink, bg)
        if ratio < MIN_CONTRAST or is_inverted(ink, bg) != light:
            reason = (
                f"is {ratio:.2f}:1, below the {MIN_CONTRAST:g}:1 that every scanner "
                "reads; test it with the phones that will scan it."
                if ratio < MIN_CONTRAST
                else f"is {ratio:.2f}:1 but on the other side of the background than color "
                f"{item.color}: every part of a code must be darker (or every part "
                "lighter) than its background."
            )
            name = "Contrast between color" if field == "color" else f"Contrast between {field}"
            warnings.append(f"{name} {spelled} and background {item.background} {reason}")
    return warnings


_ASSET_FIELDS = (("logo", "logo_url", "logo_file"), ("background", "bg_image_url", "bg_image_file"))


def _asset_checks(
    item: GenerateRequest, plan: Plan, uploads: frozenset[str]
) -> tuple[tuple[str, str | None], ...]:
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
            raise InvalidItem(
                f"Plan '{plan.code}' doesn't include custom logos or background "
                "images. Upgrade to Starter or higher.",
                field,
                forbidden=f"Plan '{plan.code}' doesn't include custom logos. "
                "Upgrade to Starter or higher.",
            )
        if uploaded:
            wants.append((kind, None))
            continue
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in ("http", "https") or len(url) > 2048:
            raise InvalidItem(
                f"{url_field} must be an http or https URL of at most 2048 "
                f"characters, got {url[:80]!r}",
                url_field,
            )
        wants.append((kind, url))
    return tuple(wants)


def check_item(
    item: GenerateRequest,
    plan: Plan,
    ctx: ItemContext | None = None,
    uploads: frozenset[str] = frozenset(),
) -> ValidItem:
    """``uploads``: the asset kinds ("logo", "background") sent as files with the item."""
    code = None
    if item.data_type == "dynamic":
        content: str | bytes
        content, code = dynamic_content(item, ctx)
    else:
        content = build_content(item)  # data, data_type, payload
    if item.size_inches > plan.max_size_inches:
        raise InvalidItem(
            f"size_inches > plan max ({plan.max_size_inches:g})",
            "size_inches",
            forbidden=f"Plan '{plan.code}' allows up to "
            f'{plan.max_size_inches:g}". Upgrade for larger sizes.',
        )
    if item.dpi > plan.max_dpi:
        raise InvalidItem(
            f"dpi > plan max ({plan.max_dpi})",
            "dpi",
            forbidden=f"Plan '{plan.code}' allows up to {plan.max_dpi} dpi. "
            "Upgrade for higher resolution.",
        )
    fg = _color(item.color, "color")
    bg = _color(item.background, "background", background=True)
    style = _style(item, fg)
    wants = _asset_checks(item, plan, uploads)
    if item.error_correction != "auto":
        level = item.error_correction
    else:  # H where a logo or background image is composited
        level = "H" if wants else "M"
    warnings = _contrast(item, fg, bg, style)
    try:
        version = max(plan_version(content, level), _least_version(item.pattern, style))
        frame = frame_box(
            pixels_for(item.size_inches, item.dpi), item.frame_style, item.frame_label is not None
        )
        layout = plan_layout(
            item.size_inches, item.dpi, symbol_size(version), item.quiet_zone, frame
        )
    except CapacityError as exc:
        raise InvalidItem(str(exc), "data") from None
    except LayoutError as exc:
        raise InvalidItem(str(exc), "size_inches") from None
    job = RenderJob(
        content=content,
        level=level,
        version=version,
        layout=layout,
        pattern=item.pattern,
        fg=fg,
        bg=bg,
        format=item.format,
        size_inches=item.size_inches,
        dpi=item.dpi,
        style=style,
    )
    return ValidItem(
        item,
        job,
        is_inverted(fg, bg),
        code=code,
        has_logo=any(kind == "logo" for kind, _ in wants),
        wants=wants,
        warnings=tuple(warnings),
    )


def validate_item(
    raw: msgspec.Raw | bytes, plan: Plan, ctx: ItemContext | None = None
) -> ValidItem:
    try:
        item = read_item(raw)  # every field's problems; the item's message is the first
    except FieldProblems as exc:
        raise InvalidItem(str(exc), next(iter(exc.problems))) from None
    except UNREADABLE as exc:
        raise InvalidItem(f"Malformed item: {exc}") from None
    return check_decoded(item, plan, ctx)


def check_decoded(
    item: GenerateRequest,
    plan: Plan,
    ctx: ItemContext | None,
    uploads: frozenset[str] = frozenset(),
) -> ValidItem:
    try:
        return check_item(item, plan, ctx, uploads)
    except ContentError as exc:
        message = str(exc)
        field = "payload" if message.startswith("payload") else "data"
        raise InvalidItem(message, field) from None
