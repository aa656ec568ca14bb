"""The events' ``data``, built the way the Lua scripts build it, for the embedded store.

Redis: ``charge.lua`` (dynamic_qr.created, quota.threshold_75/_100), ``scan.lua``
(scan.created), ``code_update.lua`` (dynamic_qr.updated) put them on the stream themselves.
"""

from __future__ import annotations

import msgspec

from ..limits.store import Scan, utc_z

__all__ = ["code_created", "code_updated", "scan_created", "thresholds"]


def code_created(code: dict[str, str]) -> str:
    return msgspec.json.encode(
        {
            "id": int(code["id"]),
            "short_id": code["short_id"],
            "name": code["name"],
            "destination_url": code["destination_url"],
            "is_active": code["is_active"] == "1",
            "created_at": utc_z(code["created_at"]),
        }
    ).decode()


def code_updated(code: dict[str, str], changes: list[str]) -> str:
    return msgspec.json.encode(
        {
            "id": int(code["id"]),
            "short_id": code["short_id"],
            "name": code["name"],
            "destination_url": code["destination_url"],
            "is_active": code["is_active"] == "1",
            "destination_changes_count": int(code["destination_changes_count"]),
            "updated_at": utc_z(code["updated_at"]),
            "changes": changes,
        }
    ).decode()


def scan_created(code: dict[str, str], scan: Scan) -> str:
    return msgspec.json.encode(
        {
            "short_id": code["short_id"],
            "dynamic_qr_id": int(code["id"]),
            "scanned_at": scan.at,
            "user_agent_family": scan.agent,
            "referrer_host": scan.referrer or None,
            "paused": code["is_active"] != "1",
        }
    ).decode()


def thresholds(
    marks: dict[tuple[str, int], str], account: str, plan: str, quota: int, used: int, month: str
) -> list[tuple[str, str]]:
    """quota.threshold_75 / _100 due now, each once per account and month (``marks`` holds
    the month each was last decided in, like the account hash's wh_t75 / wh_t100)."""
    out = []
    for th in (75, 100):
        if used * 100 >= quota * th and marks.get((account, th)) != month:
            marks[(account, th)] = month
            out.append(
                (
                    f"quota.threshold_{th}",
                    msgspec.json.encode(
                        {
                            "plan": plan,
                            "monthly_quota": quota,
                            "used_this_month": used,
                            "threshold": th,
                            "month": month,
                        }
                    ).decode(),
                )
            )
    return out
