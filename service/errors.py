"""The closed set of errors the service answers with, mapped to HTTP in exactly this module.

Handlers raise these; ``exception_handlers()`` turns each into the contract's status and body.
Framework exceptions (unknown route, body too large, ...) and msgspec's decode errors are in the
same map, so bad input can never surface as a 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
import redis
from litestar import Request, Response
from litestar.exceptions import HTTPException

from .limits.store import BadRecord
from .schema import DetailBody, ItemErrorsBody, ItemsErrorBody, field_message

__all__ = [
    "UNREADABLE",
    "AbortedStreamFilter",
    "BodyTimeout",
    "BodyTooLarge",
    "Conflict",
    "FieldError",
    "FieldErrors",
    "ItemCountError",
    "ItemErrors",
    "KeyFieldError",
    "MalformedBody",
    "NotAuthenticated",
    "NotFound",
    "OutputTooLarge",
    "Overloaded",
    "PaymentRequired",
    "PlanForbidden",
    "QRStudioError",
    "QuotaExceeded",
    "StreamAborted",
    "Throttled",
    "Unavailable",
    "exception_handlers",
]

# What decoding an untrusted body can raise: bad JSON or a schema mismatch (msgspec's
# ValidationError is a DecodeError), nesting too deep, invalid UTF-8. Every reader of a body
# catches these and answers with the contract's 400; the app maps them too, as a last resort.
UNREADABLE = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)

log = logging.getLogger("qrstudio.errors")
_MISSING = re.compile(r"missing required field `(\w+)`")


class QRStudioError(Exception):
    """Base of every error with a contract answer."""

    status = 500
    headers: dict[str, str] = {}  # noqa: RUF012 (never mutated: an error that has headers sets its own)

    def body(self) -> Any:
        return DetailBody(str(self))


class NotAuthenticated(QRStudioError):
    status = 401

    def __init__(self) -> None:
        super().__init__("Missing or invalid X-Api-Key.")


class BodyTooLarge(QRStudioError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than the limit of {limit} bytes.")


class BodyTimeout(QRStudioError):
    """The body did not arrive within the deadline: the connection is not kept (408)."""

    status = 408
    headers = {"Connection": "close"}  # noqa: RUF012

    def __init__(self, deadline_s: float, received: int) -> None:
        super().__init__(
            f"The request body did not arrive within {deadline_s:g} s "
            f"({received} bytes received); send it faster or in smaller batches."
        )


class MalformedBody(QRStudioError):
    status = 400


class KeyFieldError(QRStudioError):
    """The product's 400 for the dashboard routes (keys, webhooks): ``{"<field>": "<message>"}`` (a string)."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> Any:
        return {self.field: str(self)}


class FieldError(MalformedBody):
    """A 400 with the product's per-field body: {"<field>": ["<message>"]}."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    @classmethod
    def from_validation(cls, exc: msgspec.ValidationError) -> FieldError:
        """msgspec's error as the product's per-field body (a missing field: "required")."""
        message = field_message(exc)
        missing = _MISSING.search(message)
        if missing:
            return cls(missing.group(1), "This field is required.")
        field, sep, rest = message.partition(": ")
        if sep and field.split(".")[0].isidentifier():
            return cls(field.split(".")[0], rest if "." not in field else message)
        return cls("non_field_errors", message)

    def body(self) -> Any:
        return {self.field: [str(self)]}


class FieldErrors(MalformedBody):
    """A 400 listing every failing field, each with its messages (the product's shape)."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{f}: {' '.join(m)}" for f, m in problems.items()))
        self.problems = problems

    def body(self) -> Any:
        return self.problems


class PlanForbidden(QRStudioError):
    status = 403


class PaymentRequired(QRStudioError):
    status = 402


class NotFound(QRStudioError):
    status = 404


class Conflict(QRStudioError):
    status = 409


class ItemCountError(QRStudioError):
    status = 400

    def body(self) -> msgspec.Struct:
        return ItemsErrorBody(str(self))


class ItemErrors(QRStudioError):
    """Per-item validation failures: the whole batch is refused (422)."""

    status = 422

    def __init__(self, errors: dict[int, str]) -> None:
        super().__init__(f"{len(errors)} item(s) failed validation")
        self.errors = dict(sorted(errors.items()))

    def body(self) -> msgspec.Struct:
        return ItemErrorsBody(
            errors={str(i): m for i, m in self.errors.items()},
            rendered_before_failure=min(self.errors),
        )


class OutputTooLarge(QRStudioError):
    status = 400


class QuotaExceeded(QRStudioError):
    status = 429

    def __init__(self, message: str, retry_after: int, reason: str = "quota") -> None:
        super().__init__(message)
        self.reason = reason
        self.headers = {"Retry-After": str(retry_after)}


class Throttled(QuotaExceeded):
    """Over the plan's requests per second for one key: the product's (DRF's) 429."""

    def __init__(self, retry_after: int) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(
            f"Request was throttled. Expected available in {retry_after} {unit}.",
            retry_after,
            reason="rate",
        )


class Overloaded(QRStudioError):
    status = 503
    reason = "overloaded"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class Unavailable(Overloaded):
    """A dependency (Redis) did not answer in time: nothing was charged."""

    reason = "store_unavailable"


class StreamAborted(QRStudioError):
    """Raised inside a streaming body after the first byte: the stream is cut, not closed."""


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__, *getattr(e, "exceptions", ())]
    return seen


class AbortedStreamFilter(logging.Filter):
    """Drops the server's traceback for a stream we cut on purpose (it is logged as a line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not any(isinstance(e, StreamAborted) for e in _chain(exc))


def _respond(exc: QRStudioError) -> Response[Any]:
    return Response(
        content=exc.body(),
        status_code=exc.status,
        headers=exc.headers,
        media_type="application/json",
    )


def _domain(request: Request[Any, Any, Any], exc: QRStudioError) -> Response[Any]:
    if isinstance(exc, (QuotaExceeded, Overloaded)):
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.refusals.labels(exc.reason).inc()
    return _respond(exc)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    return Response(
        content=DetailBody(detail), status_code=exc.status_code, headers=exc.headers or None
    )


def _decode(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return _respond(MalformedBody(f"Malformed JSON body: {exc}"))


def _store_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("store unavailable: %s: %s", type(exc).__name__, exc)
    return _domain(
        request,
        Unavailable(
            "The service's store is unavailable; nothing was charged. Retry shortly.", retry_after=5
        ),
    )


_reported: set[str] = set()


def _bad_record(request: Request[Any, Any, Any], exc: BadRecord) -> Response[Any]:
    """An account (or key) record another application wrote and we cannot read: 403 for that
    account only (retrying cannot help; other accounts are served), logged once per process
    and problem, not on every request."""
    if str(exc) not in _reported and len(_reported) < 10_000:
        _reported.add(str(exc))
        log.error("unusable record, its requests are refused (403) until it is fixed: %s", exc)
    return Response(content=DetailBody(exc.public()), status_code=403)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return Response(content=DetailBody("Internal error."), status_code=500)


def exception_handlers() -> dict[type[Exception] | int, Any]:
    return {
        QRStudioError: _domain,
        HTTPException: _http,
        **dict.fromkeys(UNREADABLE, _decode),
        redis.RedisError: _store_down,
        BadRecord: _bad_record,
        Exception: _internal,
    }
