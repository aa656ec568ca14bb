"""Which addresses the fetcher may dial (CONTRACT section 6).

An address is refused unless it is globally routable unicast: loopback, unspecified, private,
link-local (cloud metadata), CGNAT, multicast, reserved and documentation ranges are all
refused, and so is every IPv6 form that wraps an IPv4 address (mapped, compatible, 6to4, NAT64,
Teredo), whatever it wraps. Operators may allow chosen networks (a private CDN) with
``QRSTUDIO_ASSET_ALLOWED_NETWORKS``. Host names in the legacy numeric spellings that
``inet_aton`` accepts (``0x7f000001``, ``2130706433``, ``0177.1``) are read as the address
they spell, as the system resolver would.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence

__all__ = ["Address", "Network", "blocked", "literal_address", "parse_networks"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_WRAPPERS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated), includes :: and ::1
        "2002::/16",  # 6to4
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local-use prefix
        "2001::/32",  # Teredo
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
    )
)
_NUMERIC = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.1.0.0/16, 127.0.0.1/32"`` -> networks; raises ValueError on a bad entry."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def literal_address(host: str) -> Address | None:
    """The address a host name spells by itself, or None for a name to resolve."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def blocked(address: Address, allowed: Sequence[Network] = ()) -> bool:
    """True when the fetcher must not connect to ``address``."""
    if any(address in net for net in allowed if net.version == address.version):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in _WRAPPERS):
            return True
        if address.is_site_local:
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
        or (address.version == 4 and address in _CGNAT)
    )


def first_blocked(addresses: Iterable[Address], allowed: Sequence[Network]) -> Address | None:
    for address in addresses:
        if blocked(address, allowed):
            return address
    return None
