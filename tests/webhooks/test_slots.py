"""Every script that touches the webhook queue gets keys of one Redis Cluster slot."""

from __future__ import annotations

import uuid

from service.limits.redis_store import account_key, attempt_key, codes_key, usage_key
from service.limits.shortid import code_key, new_short_id, slot_of
from service.webhooks.model import slot_tag
from service.webhooks.queue import (
    _due,
    _jobs,
    event_keys,
    hooks_key,
    interest_key,
    log_key,
    stream_key,
)


def slot(key: str) -> int:
    return slot_of(key[key.index("{") + 1 : key.index("}")])


def test_scripts_keys_share_a_slot() -> None:
    for _ in range(200):
        account = f"acct-{uuid.uuid4().hex[:12]}"
        short_id = new_short_id(account)
        tag = slot_tag(account)
        assert slot_tag(short_id[:3]) == tag  # the redirect finds the account's queue
        scripts = {
            "charge.lua": [
                account_key(account),
                usage_key(account),
                attempt_key(account, "a"),
                codes_key(account),
                *event_keys(account),
                code_key(short_id),
            ],
            "scan.lua": [
                code_key(short_id),
                f"{code_key(short_id)}:ref",
                f"{code_key(short_id)}:recent",
                *event_keys(short_id[:3]),
            ],
            "code_update.lua": [code_key(short_id), account_key(account), *event_keys(account)],
            "wh_save.lua": [hooks_key(account), interest_key(tag)],
            "wh_fanout.lua": [
                stream_key(tag),
                hooks_key(account),
                _due(tag),
                _jobs(tag),
                account_key(account),
                attempt_key(account, "a"),
            ],
            "wh_claim.lua": [_due(tag), _jobs(tag)],
            "wh_result.lua": [
                _due(tag),
                _jobs(tag),
                hooks_key(account),
                log_key(account, "wh_0"),
                interest_key(tag),
            ],
        }
        for name, keys in scripts.items():
            assert len({slot(k) for k in keys}) == 1, (name, keys)
