"""API keys: ``smk_`` + 36 URL-safe characters, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["ACCOUNT_RE", "KEY_RE", "generate_key", "hash_key", "key_prefix", "looks_like_key"]

KEY_RE = re.compile(r"smk_[A-Za-z0-9_-]{36}")
ACCOUNT_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
PREFIX_LEN = 12  # "smk_" and the first 8 random characters: enough to name a key, useless to use it


def generate_key() -> str:
    return "smk_" + secrets.token_urlsafe(27)  # 27 random bytes -> 36 characters


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def key_prefix(raw: str) -> str:
    return raw[:PREFIX_LEN]


def looks_like_key(raw: str | None) -> bool:
    return raw is not None and KEY_RE.fullmatch(raw) is not None
