"""One signed POST to a webhook's URL, with the logo fetcher's address checks.

The target is checked when the webhook is saved and again at every delivery, where the
connection is made (``assets.fetch._GuardedBackend``: the name is resolved once, every address
checked, the checked address dialled, TLS verified against the name). Redirects are not
followed: a 3xx is a failed delivery. One deadline (5 s) covers connecting, sending and the
status line; the answer's body is read up to 64 KiB and thrown away.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpcore
import msgspec

from ..assets.addresses import Network
from ..assets.fetch import FetchError, Resolver, SystemResolver, _GuardedBackend, ascii_url
from .model import signature_header

__all__ = ["Attempt", "Sender", "TargetError"]

DEADLINE_S = 5.0
BODY_READ = 64 * 1024


class TargetError(ValueError):
    """The URL may not receive webhooks; ``str(exc)`` says why."""


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    def __init__(
        self,
        resolver: Resolver | None = None,
        allowed: Sequence[Network] = (),
        allow_http: bool = False,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self._resolver = resolver or SystemResolver()
        self._allowed = tuple(allowed)
        self._allow_http = allow_http
        self._deadline = deadline_s
        self._ssl = ssl.create_default_context()

    def _url(self, url: str) -> str:
        try:
            safe = ascii_url(url)
        except FetchError as exc:
            raise TargetError(
                str(exc)
                .replace("refusing to fetch", "refusing to deliver to")
                .replace("only http and https URLs are fetched", "only https URLs are allowed")
            ) from None
        if urlsplit(safe).scheme != "https" and not self._allow_http:
            raise TargetError("Enter an https URL.")
        return safe

    async def check(self, url: str) -> str:
        """The URL as it will be called; TargetError when it may not receive webhooks."""
        safe = self._url(url)
        parts = urlsplit(safe)
        backend = _GuardedBackend(self._resolver, self._allowed)
        try:
            async with asyncio.timeout(self._deadline):
                await backend.checked_addresses(
                    parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
                )
        except FetchError as exc:
            raise TargetError(
                str(exc)
                .replace("could not fetch", "cannot deliver to")
                .replace("refusing to fetch", "refusing to deliver to")
            ) from None
        except TimeoutError:
            raise TargetError(
                "cannot deliver to this URL: its name did not resolve in time"
            ) from None
        return safe

    async def post(
        self, url: str, secret: str, body: bytes, event_id: str, event_type: str
    ) -> Attempt:
        started = time.monotonic()
        timestamp = int(time.time())
        headers = [
            (b"Content-Type", b"application/json"),
            (b"User-Agent", b"qrstudio-webhooks/1"),
            (b"X-QRStudio-Signature", signature_header(secret, timestamp, body).encode()),
            (b"X-QRStudio-Event", event_type.encode()),
            (b"X-QRStudio-Event-Id", event_id.encode()),
            (b"Accept-Encoding", b"identity"),
        ]
        status: int | None = None
        error: str | None = None
        try:
            safe = self._url(url)
            backend = _GuardedBackend(self._resolver, self._allowed)
            async with asyncio.timeout(self._deadline):
                async with (
                    httpcore.AsyncConnectionPool(
                        ssl_context=self._ssl,
                        network_backend=backend,
                        retries=0,
                        max_connections=1,
                        keepalive_expiry=0,
                    ) as pool,
                    pool.stream("POST", safe, headers=headers, content=body) as response,
                ):
                    status = response.status
                    read = 0
                    async for chunk in response.aiter_stream():
                        read += len(chunk)
                        if read >= BODY_READ:
                            break
            if not 200 <= status < 300:
                error = f"HTTP {status}" + (
                    " (redirects are not followed)" if 300 <= status < 400 else ""
                )
        except TimeoutError:
            error = f"no answer within {self._deadline:g} s"
        except (TargetError, FetchError) as exc:
            error = (
                str(exc)
                .replace("could not fetch", "cannot deliver to")
                .replace("refusing to fetch", "refusing to deliver to")
            )
        except httpcore.TimeoutException as exc:
            error = f"no answer within {self._deadline:g} s ({type(exc).__name__})"
        except (
            httpcore.ProtocolError,
            httpcore.NetworkError,
            httpcore.UnsupportedProtocol,
            httpcore.LocalProtocolError,
            ssl.SSLError,
            OSError,
            ValueError,
        ) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        duration = int((time.monotonic() - started) * 1000)
        return Attempt(status_code=status, duration_ms=duration, error=error)
