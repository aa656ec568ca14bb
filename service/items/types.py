"""What the item rules produce: a valid item (its render job and what it needs), the context
items are checked in, and the refusal of one item."""

from __future__ import annotations

import msgspec

from ..limits.store import NewCode
from ..render.job import RenderJob
from ..schema import GenerateRequest

__all__ = ["InvalidItem", "ItemContext", "ValidItem"]


class InvalidItem(ValueError):
    """The item cannot be rendered; ``str(exc)`` is the message for the client, ``field`` the
    field it is about (single render answers per field), ``forbidden`` the product's 403
    message when it is a plan gate (single render answers those with 403)."""

    def __init__(
        self, message: str, field: str = "non_field_errors", forbidden: str | None = None
    ) -> None:
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
    warnings: tuple[str, ...] = ()  # accepted, but worth telling (low contrast)
    repaired: str | None = None  # a change its drawing needed to read ("solid modules")
