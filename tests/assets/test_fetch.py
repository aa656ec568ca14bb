"""The fetcher against the local asset server: one lookup per connection, the checked address
dialled, every redirect checked again."""

from __future__ import annotations

import asyncio

import pytest

from service.assets.addresses import parse_networks
from service.assets.fetch import Fetcher, FetchError
from tests.assetserver import IMAGES


class RebindingResolver:
    """Answers the asset server's address the first time, a private one afterwards."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return ["127.0.0.1"] if len(self.calls) == 1 else ["10.0.0.99"]


def _fetcher(resolver: object) -> Fetcher:
    return Fetcher(resolver, parse_networks("127.0.0.0/8"))  # type: ignore[arg-type]


def test_one_lookup_per_connection_and_the_checked_address_is_dialled(asset_server) -> None:
    resolver = RebindingResolver()
    url = f"http://rebinder.test:{asset_server.port}/logo.png"
    body = asyncio.run(_fetcher(resolver).fetch(url, 2_000_000, "logo", "logo_url"))
    assert body == IMAGES["logo.png"]
    assert resolver.calls == ["rebinder.test"]  # no second lookup that could be rebound


def test_a_redirect_is_a_new_connection_checked_again(asset_server) -> None:
    resolver = RebindingResolver()
    url = f"http://rebinder.test:{asset_server.port}/hop1"

    async def go() -> None:
        fetcher = _fetcher(resolver)
        await fetcher.fetch(url, 2_000_000, "logo", "logo_url")

    # the redirect goes to the same name; its new lookup now answers a private address
    with pytest.raises(
        FetchError,
        match="refusing to fetch rebinder.test: resolves to private/internal IP 10.0.0.99",
    ):
        asyncio.run(go())
    assert len(resolver.calls) == 2


def test_three_redirects_are_followed_and_a_fourth_is_not(asset_server) -> None:
    from tests.assetserver import TestResolver

    fetcher = _fetcher(TestResolver())
    assert (
        asyncio.run(fetcher.fetch(asset_server.url("hop2"), 2_000_000, "logo"))
        == IMAGES["logo.png"]
    )
    with pytest.raises(FetchError, match="more than 3 redirects"):
        asyncio.run(fetcher.fetch(asset_server.url("hop3"), 2_000_000, "logo"))
