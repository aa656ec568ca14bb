"""The qrstudio command: run the service, manage accounts and API keys.

Accounts and keys live in Redis (QRSTUDIO_REDIS_URL). Without it, 'serve' runs the embedded
store (state lost at exit) and prints one demo key per plan once it is listening.

Every failure is one line on stderr saying what is wrong and what to do, with exit code 2
(1 for 'accounts check' finding problems).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

import redis

from .limits.plans import PLANS
from .limits.store import Account, Admin, AdminError, BadRecord
from .serve import CliError, redis_down, serve
from .settings import Settings, SettingsError, _env_name, load_settings

__all__ = ["main"]


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {value!r}")
    return int(value)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see '{self.prog} --help'\n")


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.HelpFormatter
    p = _Parser(
        prog="qrstudio",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=fmt,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        formatter_class=fmt,
        help="run the service",
        description="Run the service under uvicorn. With QRSTUDIO_REDIS_URL "
        "it checks that Redis answers and is durable (AOF, noeviction) "
        "before listening; without it, the embedded store.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (Redis mode only; each has its own render pool; "
        "default: %(default)s)",
    )

    accounts = sub.add_parser(
        "accounts",
        help="create, change, list and check accounts",
        description="Accounts: a plan and optional overrides of its "
        "monthly quota and overage rule.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    aset = accounts.add_parser(
        "set",
        formatter_class=fmt,
        help="create or change an account",
        description="Create an account (give --plan) or change one; what is not given is "
        "kept. 'default' puts the quota or the overage rule back to the plan's.",
    )
    aset.add_argument("account", help="account id: 1-64 characters of A-Z a-z 0-9 . _ -")
    aset.add_argument(
        "--plan",
        choices=list(PLANS),
        help="the plan (required for a new account; unchanged if omitted)",
    )
    aset.add_argument(
        "--monthly-quota",
        metavar="N|default",
        help="renders a month instead of the plan's; 'default': the plan's (unchanged if omitted)",
    )
    aset.add_argument(
        "--overage",
        choices=["on", "off", "default"],
        help="allow renders past the quota; 'default': the plan's rule (unchanged if omitted)",
    )
    accounts.add_parser(
        "list", help="every account (with or without keys), its plan, quota and usage this month"
    )
    accounts.add_parser(
        "check", help="check every account and key record; exit 1 if any cannot be used"
    )

    keys = sub.add_parser(
        "keys",
        help="create, list, rotate and revoke API keys",
        description="API keys: only their SHA-256 is stored; the raw key is "
        "printed once, at creation.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    create = keys.add_parser(
        "create", formatter_class=fmt, help="create a key; the raw key is the last line"
    )
    create.add_argument("--account", required=True, help="the key's account")
    create.add_argument(
        "--plan", choices=list(PLANS), help="creates the account on this plan if it does not exist"
    )
    create.add_argument("--name", default="", help="a label shown by 'keys list' (default: none)")
    keys.add_parser("list", help="list keys: prefix, account, name, created, state")
    for action, what in (
        ("revoke", "revoke a key at once (it answers 401)"),
        ("rotate", "a new key for the same account and name; the old one answers 401 at once"),
    ):
        keys.add_parser(action, help=what, description=what).add_argument(
            "key", help="the raw key, or its prefix as 'keys list' prints it (8+ characters)"
        )
    return p


def _admin(settings: Settings) -> Admin:
    if not settings.redis_url:
        raise CliError(
            "accounts and keys live in Redis: set QRSTUDIO_REDIS_URL (e.g. "
            "redis://127.0.0.1:6380/0); the embedded store exists only inside a "
            "running 'qrstudio serve'"
        )
    from .limits.redis_store import RedisAdmin

    return RedisAdmin(settings.redis_url, cluster=settings.redis_cluster)


def _quota(value: str | None) -> int | str | None:
    if value is None or value == "default":
        return value
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise CliError(
            f"--monthly-quota must be a whole number of 0 or more, or 'default' (got {value!r})"
        )
    return int(value)


def _describe(acct: Account, settings: Settings) -> str:
    plan = PLANS[acct.plan]
    default = plan.quota_for(None, settings.enterprise_monthly_quota)
    quota = (
        f"monthly_quota={acct.monthly_quota}"
        if acct.monthly_quota is not None
        else f"monthly_quota={default} (plan default)"
    )
    overage = (
        f"overage={'on' if acct.overage else 'off'}"
        if acct.overage is not None
        else f"overage={'on' if plan.overage else 'off'} (plan default)"
    )
    return f"plan={acct.plan} {quota} {overage}"


def _accounts(admin: Admin, args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "set":
        overage = {"on": True, "off": False}.get(args.overage, args.overage)
        acct = admin.set_account(
            args.account,
            plan=args.plan,
            monthly_quota=_quota(args.monthly_quota),  # type: ignore[arg-type]
            overage=overage,
        )
        print(f"account {acct.id}: {_describe(acct, settings)}")
    elif args.action == "check":
        problems = admin.check_records()
        for line in problems:
            print(line)
        print(
            f"{len(problems)} problem(s)" if problems else "every account and key record is usable"
        )
        return 1 if problems else 0
    else:
        rows = admin.list_accounts()
        if not rows:
            print(
                "no accounts yet; create one with 'qrstudio keys create --account ID --plan "
                "PLAN' or 'qrstudio accounts set ID --plan PLAN'"
            )
            return 0
        keys: dict[str, int] = {}
        for k in admin.list_keys():
            if not k.revoked_at:
                keys[k.account] = keys.get(k.account, 0) + 1
        print(f"{'ACCOUNT':<24} {'KEYS':>4} {'USED':>8}  SETTINGS")
        for account, row in rows:
            if isinstance(row, BadRecord):
                what = f"UNUSABLE: {row} (see 'qrstudio accounts check')"
            else:
                what = _describe(row, settings) if row else "no record (keys answer 401)"
            print(f"{account:<24} {keys.get(account, 0):>4} {admin.usage(account):>8}  {what}")
    return 0


def _keys(admin: Admin, args: argparse.Namespace) -> int:
    if args.action == "create":
        raw = admin.create_key(args.account, plan=args.plan, name=args.name)
        print(f"created a key for account {args.account}; it is shown only once:")
        print(raw)
    elif args.action == "list":
        rows = admin.list_keys()
        if not rows:
            print("no keys yet; create one with 'qrstudio keys create --account ID --plan PLAN'")
            return 0
        print(f"{'PREFIX':<14} {'ACCOUNT':<24} {'NAME':<16} {'CREATED':<21} STATE")
        for k in rows:
            state = (
                "active"
                if not k.revoked_at
                else f"revoked {k.revoked_at}"
                + (f", replaced by {k.replaced_by}" if k.replaced_by else "")
            )
            print(
                f"{k.prefix:<14} {k.account:<24} {k.name or '-':<16} "
                f"{k.created_at or '-':<21} {state}"
            )
    elif args.action == "revoke":
        found = admin.find_key(args.key)
        if found.revoked_at:
            print(
                f"{found.prefix} of account {found.account} was already revoked at "
                f"{found.revoked_at}"
                + (f" (rotated; replaced by {found.replaced_by})" if found.replaced_by else "")
                + "; nothing to do"
            )
            return 0
        info = admin.revoke_key(args.key)
        print(f"revoked {info.prefix} of account {info.account}; it answers 401 from now on")
    elif args.action == "rotate":
        old = admin.find_key(args.key)
        raw = admin.rotate_key(args.key)
        print(
            f"rotated {old.prefix} of account {old.account}; it answers 401 from now on. "
            "New key, shown only once:"
        )
        print(raw)
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return serve(settings, args.host, args.port, args.workers)
    admin = _admin(settings)
    try:
        if args.command == "accounts":
            return _accounts(admin, args, settings)
        return _keys(admin, args)
    except (redis.RedisError, OSError) as exc:
        raise redis_down(settings.redis_url or "", exc) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args, load_settings())
    except SettingsError as exc:  # name the variable, not msgspec's path
        found = re.search(r"(.*) - at `\$\.(\w+)`", str(exc))
        line = (
            f"{_env_name(found.group(2))}: {found.group(1).removeprefix('invalid setting: ')}"
            if found
            else str(exc)
        )
        print(
            f"qrstudio: {line}; fix or unset it (the README's Settings table lists every "
            "variable and its default)",
            file=sys.stderr,
        )
        return 2
    except BadRecord as exc:
        print(
            f"qrstudio: {exc}; rewrite it with 'qrstudio accounts set' (every such record: "
            "'qrstudio accounts check')",
            file=sys.stderr,
        )
        return 2
    except (AdminError, CliError) as exc:
        print(f"qrstudio: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
