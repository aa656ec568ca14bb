"""Short ids of dynamic QR codes: 8 URL-safe characters that also name their Redis slot.

A code's keys must sit in its account's Redis Cluster slot (the batch creates codes and
charges credits in one script) and be found from the short id alone (the public redirect has
no account, and gets one round trip). So the first 3 characters of a short id are a token
whose hash slot is the account's; the other 5 are random. Every 3-character prefix is some
slot's token, so a short id looks like, and is as hard to guess as, 8 random characters.
"""

from __future__ import annotations

import binascii
import re
import secrets
from functools import lru_cache

__all__ = ["SHORT_ID_RE", "code_key", "new_short_id", "slot_of"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SHORT_ID_RE = re.compile(r"[A-Za-z0-9_-]{8}")
SLOTS = 16384


def slot_of(tag: str) -> int:
    """Redis Cluster's hash slot of a hash tag (CRC16-XMODEM mod 16384)."""
    return binascii.crc_hqx(tag.encode(), 0) % SLOTS


@lru_cache(maxsize=1)
def _tokens() -> list[list[str]]:
    table: list[list[str]] = [[] for _ in range(SLOTS)]
    for a in ALPHABET:
        for b in ALPHABET:
            for c in ALPHABET:
                token = a + b + c
                table[slot_of(token)].append(token)
    return table


def new_short_id(account: str) -> str:
    tokens = _tokens()[slot_of(account)]
    return secrets.choice(tokens) + "".join(secrets.choice(ALPHABET) for _ in range(5))


def code_key(short_id: str) -> str:
    """The code's hash; its tag (the first 3 characters) puts it in its account's slot."""
    return f"qs:{{{short_id[:3]}}}:q:{short_id}"
