"""The shapes webhooks share: subscriptions, queued events, delivery jobs, and their names.

Queue layout (Redis; the embedded store keeps the same in memory): events, delivery jobs and
the interest of accounts live under one hash tag per Redis Cluster slot, ``slot_tag()``: the
first 3-character short-id token of the slot, so the redirect (which knows only a short id) and
every account of that slot name the same keys, and each script's keys sit in one slot.

    qs:{T}:events          stream of events (consumer group ``deliver``), entries deleted once
                           fanned out to delivery jobs
    qs:{T}:wh:interest     hash account -> " type type " (event types of its active webhooks)
    qs:{T}:wh:due          zset job id -> when it may next be attempted (ms)
    qs:{T}:wh:jobs         hash job id -> JSON Job
    qs:{acct}:webhooks     hash webhook id -> JSON Subscription (with its signing secret)
    qs:{acct}:wh:<id>:log  list, the last 100 delivery attempts (JSON), newest first
    qs:wh:slots            set of the tags T that hold webhooks (the workers' round)
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final, Literal

import msgspec

from ..limits.shortid import _tokens, slot_of

__all__ = [
    "EVENT_TYPES",
    "TEST_EVENT",
    "WEBHOOK_PLANS",
    "Job",
    "QueuedEvent",
    "Subscription",
    "event_id",
    "payload",
    "sign",
    "signature_header",
    "slot_tag",
]

EVENT_TYPES = (
    "scan.created",
    "dynamic_qr.created",
    "dynamic_qr.updated",
    "quota.threshold_75",
    "quota.threshold_100",
)
TEST_EVENT: Final = "webhook.test"
WEBHOOK_PLANS = ("pro", "agency", "enterprise")  # the plans with webhooks
LOG_SIZE = 100
Status = Literal["active", "disabled"]


class Subscription(msgspec.Struct, kw_only=True):
    id: str
    account: str
    url: str
    description: str = ""
    events: list[str]
    status: Status = "active"
    consecutive_failures: int = 0
    last_delivery_at: str | None = None
    last_response_status: int | None = None
    created_at: str
    secret: str


class QueuedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One stream entry: ``id`` is the entry's id; the public event id derives from it."""

    id: str
    type: str
    at: str
    account: str
    data: str  # JSON object
    only: str = ""  # a test event goes to this webhook only
    attempt: str = ""  # the charge that created the code: delivered once it is settled

    @property
    def event_id(self) -> str:
        return event_id(slot_tag(self.account), self.id)

    def payload(self) -> bytes:
        return payload(self.event_id, self.type, self.at, self.data)


class Job(msgspec.Struct, kw_only=True):
    """One event for one webhook, attempted until delivered or dead-lettered."""

    id: str
    sub: str
    account: str
    event_id: str
    type: str
    body: str  # the exact JSON body, the same on every attempt
    attempts: int = 0
    first: int  # ms of the first enqueue: retries stop after the retry window
    lease: str = ""


def payload(event_id: str, type_: str, at: str, data: str) -> bytes:
    return (
        b'{"id":'
        + msgspec.json.encode(event_id)
        + b',"type":'
        + msgspec.json.encode(type_)
        + b',"created_at":'
        + msgspec.json.encode(at)
        + b',"data":'
        + data.encode()
        + b"}"
    )


def event_id(tag: str, entry: str) -> str:
    """The public id of the event at stream entry ``entry`` of slot ``tag``: unique across
    slots (entry ids are unique within one stream only)."""
    return f"evt_{tag}_{entry.replace('-', '_')}"


def slot_tag(tag: str) -> str:
    """The queue's hash tag for the slot of ``tag`` (an account id or a short id's token)."""
    return _tokens()[slot_of(tag)][0]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"
