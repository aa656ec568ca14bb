"""The safe fetcher for logo_url and bg_image_url (CONTRACT section 6).

Modelled on imgproxy: the check happens where the connection is made. Every connection, the
first and each redirect's, goes through ``_GuardedBackend.connect_tcp``, which resolves the name
once through the replaceable ``Resolver``, refuses the whole name if any of its addresses is
internal, and dials the checked address itself (TLS still verifies the certificate against the
name). A name cannot resolve to a public address for the check and to a private one for the
connection, because there is no second lookup.

Also: http and https only; at most 3 redirects, followed here, each one checked the same way;
no proxy from the environment (httpcore reads none); ``Accept-Encoding: identity`` and no
decompression (a compressed body is refused, so a gzip bomb stays 10 kB); the size limit
counted while reading, whatever Content-Length says; one deadline for the whole fetch.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpcore

from .addresses import Network, blocked, literal_address

__all__ = ["FetchError", "Fetcher", "Resolver", "SystemResolver", "ascii_url"]

MAX_REDIRECTS = 3
_REDIRECTS = {301, 302, 303, 307, 308}
_HEADERS = [
    (b"User-Agent", b"qrstudio-asset-fetcher/1"),
    (b"Accept", b"image/*"),
    (b"Accept-Encoding", b"identity"),
]


class FetchError(Exception):
    """The URL could not be fetched; ``str(exc)`` is the message for the client."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to; raise OSError when it does not resolve."""


class SystemResolver:
    """The system's resolver on threads of its own: a lookup that outlives the fetch's
    deadline keeps its thread, but never one the rest of the service needs; past
    ``max_pending`` lookups in flight, new ones are refused at once."""

    def __init__(self, threads: int = 8, max_pending: int = 32) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="resolve")
        self._pending = 0
        self._max = max_pending

    async def resolve(self, host: str, port: int) -> list[str]:
        if self._pending >= self._max:
            raise OSError("too many name lookups in flight")
        self._pending += 1
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM
        )
        future.add_done_callback(self._done)
        infos = await asyncio.shield(future)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def _done(self, _: object) -> None:
        self._pending -= 1


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, resolver: Resolver, allowed: Sequence[Network]) -> None:
        self._resolver = resolver
        self._allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def checked_addresses(self, host: str, port: int) -> list[str]:
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                found = await self._resolver.resolve(host, port)
            except (OSError, UnicodeError):
                raise FetchError(f"could not fetch {host}: the name does not resolve") from None
            addresses = [a for a in (literal_address(f) for f in found) if a is not None]
            if not addresses:
                raise FetchError(f"could not fetch {host}: the name does not resolve")
        for address in addresses:
            if blocked(address, self._allowed):
                raise FetchError(
                    f"refusing to fetch {host}: resolves to private/internal IP {address}"
                )
        return [str(a) for a in addresses]

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.checked_addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                failure = exc
        raise FetchError(f"could not fetch {host}: connection failed ({failure})")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def ascii_url(url: str) -> str:
    """``url`` as the ASCII http(s) URL to request (IDNA host, percent-encoded rest);
    FetchError when it is not one."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port  # .port raises on a bad port
    except ValueError:
        raise FetchError(f"refusing to fetch {url[:200]}: not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FetchError(f"refusing to fetch {url[:200]}: only http and https URLs are fetched")
    if any(c in url for c in "\x00\r\n\t "):
        raise FetchError(f"refusing to fetch {url[:200]}: not a valid URL")
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchError(f"refusing to fetch {url[:200]}: not a valid host name") from None
    if ":" in ascii_host:
        ascii_host = f"[{ascii_host}]"
    safe = "/?#[]@!$&'()*+,;=:%~-._"
    path = quote(parts.path or "/", safe=safe)
    query = quote(parts.query, safe=safe)
    netloc = ascii_host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


class Fetcher:
    def __init__(
        self,
        resolver: Resolver | None = None,
        allowed: Sequence[Network] = (),
        timeout_s: float = 5.0,
    ) -> None:
        self.resolver = resolver or SystemResolver()
        self.allowed = tuple(allowed)
        self.timeout_s = timeout_s
        self._ssl = ssl.create_default_context()

    async def fetch(self, url: str, limit: int, what: str, field: str = "the") -> bytes:
        """The body at ``url`` (after at most 3 redirects), at most ``limit`` bytes; ``what``
        and ``field`` name it in messages ("logo", "logo_url")."""
        backend = _GuardedBackend(self.resolver, self.allowed)
        try:
            async with asyncio.timeout(self.timeout_s):
                async with httpcore.AsyncConnectionPool(
                    ssl_context=self._ssl,
                    network_backend=backend,
                    retries=0,
                    max_connections=1,
                    keepalive_expiry=0,
                ) as pool:
                    return await self._follow(pool, url, limit, what, field)
        except TimeoutError:
            raise FetchError(
                f"could not fetch {url}: no complete answer within {self.timeout_s:g} s"
            ) from None
        except httpcore.TimeoutException:
            raise FetchError(
                f"could not fetch {url}: no complete answer within {self.timeout_s:g} s"
            ) from None
        except (
            httpcore.ProtocolError,
            httpcore.NetworkError,
            httpcore.UnsupportedProtocol,
            httpcore.LocalProtocolError,
            ssl.SSLError,
            OSError,
            ValueError,
            TypeError,
            UnicodeError,
        ) as exc:
            raise FetchError(f"could not fetch {url}: {type(exc).__name__}: {exc}") from None

    async def _follow(
        self, pool: httpcore.AsyncConnectionPool, url: str, limit: int, what: str, field: str
    ) -> bytes:
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            current = ascii_url(current)
            async with pool.stream("GET", current, headers=_HEADERS) as response:
                status = response.status
                headers = list(response.headers)
                if status in _REDIRECTS:
                    location = _header(headers, b"location")
                    if not location:
                        raise FetchError(f"could not fetch {url}: a redirect without Location")
                    if hop == MAX_REDIRECTS:
                        raise FetchError(
                            f"could not fetch {url}: more than {MAX_REDIRECTS} redirects"
                        )
                    current = urljoin(current, location)
                    continue
                if status != 200:
                    raise FetchError(f"could not fetch {url}: the server answered HTTP {status}")
                encoding = _header(headers, b"content-encoding")
                if encoding and encoding.lower() != "identity":
                    raise FetchError(
                        f"could not fetch {url}: served with Content-Encoding "
                        f"{encoding}; serve the image uncompressed"
                    )
                too_big = FetchError(
                    f"{field} {url} is larger than the {limit / 1_000_000:g} MB limit for a {what}"
                )
                declared = _header(headers, b"content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise too_big
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_big
                    chunks.append(chunk)
                return b"".join(chunks)
        raise AssertionError("unreachable")
