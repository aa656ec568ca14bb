"""Without QRSTUDIO_ASSET_ALLOWED_NETWORKS, every internal address is refused before any
connection is made, in every spelling, with the contract's message."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from service.assets.addresses import blocked, literal_address, parse_networks
from service.assets.fetch import Fetcher, FetchError
from tests.assetserver import TestResolver

# (URL, host as the message names it, the address it names or resolves to)
REFUSED = [
    ("http://127.0.0.1/logo.png", "127.0.0.1", "127.0.0.1"),
    ("http://127.1/logo.png", "127.1", "127.0.0.1"),
    ("http://0x7f000001/logo.png", "0x7f000001", "127.0.0.1"),
    ("http://2130706433/logo.png", "2130706433", "127.0.0.1"),
    ("http://0177.0.0.1/logo.png", "0177.0.0.1", "127.0.0.1"),
    ("http://127.255.255.254:8080/x", "127.255.255.254", "127.255.255.254"),
    ("http://localhost./logo.png", None, None),  # does not resolve here: refused too
    ("http://0.0.0.0/logo.png", "0.0.0.0", "0.0.0.0"),
    ("http://0/logo.png", "0", "0.0.0.0"),
    ("http://[::]/logo.png", "::", "::"),
    ("http://[::1]/logo.png", "::1", "::1"),
    ("http://[::ffff:127.0.0.1]/logo.png", "::ffff:127.0.0.1", "::ffff:7f00:1"),
    ("http://[::127.0.0.1]/logo.png", "::127.0.0.1", "::7f00:1"),
    ("http://[64:ff9b::a9fe:a9fe]/latest", "64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe"),
    ("http://[2002:a9fe:a9fe::1]/latest", "2002:a9fe:a9fe::1", "2002:a9fe:a9fe::1"),
    (
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "169.254.169.254"),
    ("http://[fe80::1]/logo.png", "fe80::1", "fe80::1"),
    ("http://10.0.0.5/logo.png", "10.0.0.5", "10.0.0.5"),
    ("http://172.16.3.4/logo.png", "172.16.3.4", "172.16.3.4"),
    ("http://192.168.1.1/logo.png", "192.168.1.1", "192.168.1.1"),
    ("http://[fd00::1]/logo.png", "fd00::1", "fd00::1"),
    ("http://100.64.0.1/logo.png", "100.64.0.1", "100.64.0.1"),
    ("http://224.0.0.251/logo.png", "224.0.0.251", "224.0.0.251"),
    ("http://[ff02::1]/logo.png", "ff02::1", "ff02::1"),
    ("http://240.0.0.1/logo.png", "240.0.0.1", "240.0.0.1"),
    ("http://255.255.255.255/logo.png", "255.255.255.255", "255.255.255.255"),
    ("http://192.0.2.10/logo.png", "192.0.2.10", "192.0.2.10"),
    ("http://198.18.0.1/logo.png", "198.18.0.1", "198.18.0.1"),
    ("http://internal-host/logo.png", "internal-host", "10.0.0.5"),
    ("https://internal-host/logo.png", "internal-host", "10.0.0.5"),
    ("http://metadata.test/latest/meta-data/", "metadata.test", "169.254.169.254"),
    ("http://rebind.test/logo.png", "rebind.test", "192.168.0.10"),
    ("http://v6-internal.test/logo.png", "v6-internal.test", "fd00::1"),
    ("http://mapped.test/logo.png", "mapped.test", "::ffff:a01:203"),
]


def _fetch(url: str, fetcher: Fetcher | None = None) -> str:
    fetcher = fetcher or Fetcher(TestResolver())

    async def go() -> str:
        try:
            await fetcher.fetch(url, 2_000_000, "logo")
        except FetchError as exc:
            return str(exc)
        return "fetched"

    return asyncio.run(go())


@pytest.mark.parametrize(("url", "host", "address"), REFUSED, ids=[u for u, _, _ in REFUSED])
def test_internal_addresses_are_refused(url: str, host: str | None, address: str | None) -> None:
    message = _fetch(url)
    if host is None:
        assert message == "could not fetch localhost.: the name does not resolve"
    else:
        assert message == f"refusing to fetch {host}: resolves to private/internal IP {address}"


def test_the_table_is_long_enough() -> None:
    assert len(REFUSED) >= 25


def test_other_schemes_are_refused_before_any_lookup() -> None:
    for url in (
        "file:///etc/passwd",
        "ftp://example.com/logo.png",
        "gopher://x/",
        "data:image/png;base64,AAAA",
    ):
        assert "only http and https URLs are fetched" in _fetch(url)


def test_allowed_networks_open_only_what_they_name() -> None:
    allowed = parse_networks("10.0.0.0/24, fd00::/64")
    assert not blocked(ipaddress.ip_address("10.0.0.5"), allowed)
    assert blocked(ipaddress.ip_address("10.0.1.5"), allowed)
    assert blocked(ipaddress.ip_address("127.0.0.1"), allowed)
    assert not blocked(ipaddress.ip_address("fd00::1"), allowed)
    assert not blocked(ipaddress.ip_address("93.184.216.34"))
    assert not blocked(ipaddress.ip_address("2606:4700::1111"))


def test_legacy_numeric_spellings_read_as_the_address_they_spell() -> None:
    assert str(literal_address("0x7f.1")) == "127.0.0.1"
    assert str(literal_address("017700000001")) == "127.0.0.1"
    assert literal_address("example.com") is None
    assert literal_address("1.2.3.4.5") is None


def test_a_name_resolving_to_a_public_and_a_private_address_is_refused_whole() -> None:
    """Every address of the name is checked, not only the first (no DNS-rebinding pick)."""
    assert _fetch("http://rebind.test/") == (
        "refusing to fetch rebind.test: resolves to private/internal IP 192.168.0.10"
    )
