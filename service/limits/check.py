"""``qrstudio accounts check``: every account and key record, and what is wrong with each.

The gateway's own application may write these records (the README's key schema); the service
refuses a request whose account it cannot read, and this lists every such record at once, with
what to change.
"""

from __future__ import annotations

from .store import BadRecord, RawRecords, account_problems, parse_key

__all__ = ["check_records"]


def check_records(raw: RawRecords) -> list[str]:
    """One line per problem, sorted by record; empty when every record is usable."""
    problems: list[str] = []
    for account in sorted(raw.accounts):
        problems += [str(p) for p in account_problems(account, raw.accounts[account])]
        if account not in raw.registered:
            problems.append(
                f"account {account!r}: not in the set qs:accounts, so listings miss "
                f"it (SADD qs:accounts {account})"
            )
    for account in sorted(raw.registered - set(raw.accounts)):
        problems.append(
            f"account {account!r}: in qs:accounts but has no record "
            f"(qs:{{{account}}}:account): its keys answer 401"
        )
    for sha, blob in sorted(raw.index.items()):
        try:
            info = parse_key(sha, blob)
        except BadRecord as exc:
            problems.append(str(exc))
            continue
        where = f"key {info.prefix} (sha256 {sha[:12]}, account {info.account!r})"
        if info.account not in raw.accounts:
            problems.append(f"{where}: its account has no record: the key answers 401")
        elif sha not in raw.listed.get(info.account, {}):
            problems.append(
                f"{where}: missing from qs:{{{info.account}}}:keys, so 'keys list', "
                "'revoke' and 'rotate' cannot see it"
            )
    for account, keys in sorted(raw.listed.items()):
        for sha, blob in sorted(keys.items()):
            try:
                info = parse_key(sha, blob)
            except BadRecord as exc:
                problems.append(f"{exc} (in qs:{{{account}}}:keys)")
                continue
            if info.account != account:
                problems.append(
                    f"key {info.prefix} (sha256 {sha[:12]}): listed under account "
                    f"{account!r} but its record names {info.account!r}"
                )
            elif sha not in raw.index and not info.revoked_at:
                problems.append(
                    f"key {info.prefix} (sha256 {sha[:12]}, account {account!r}): "
                    "listed but revoked (no qs:apikey record); "
                    f"HDEL qs:{{{account}}}:keys {sha}"
                )
    return problems
