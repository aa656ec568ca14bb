"""The ``qrstudio`` command: run the service, manage accounts and keys.

    qrstudio serve [--host H] [--port P] [--workers N]
    qrstudio accounts set ACCOUNT --plan P [--monthly-quota N] [--overage on|off]
    qrstudio keys create --account A [--plan P] [--name N]
    qrstudio keys list | revoke KEY_OR_PREFIX | rotate KEY_OR_PREFIX

Accounts and keys live in Redis (QRSTUDIO_REDIS_URL). Without it, ``serve`` runs the embedded
store and provisions one demo key per plan, printed at startup.
"""

from __future__ import annotations

import argparse
import sys

from .limits.plans import PLANS
from .limits.store import Admin, AdminError, BadRecord
from .settings import Settings, SettingsError, load_settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qrstudio", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    accounts = sub.add_parser("accounts", help="create or change accounts").add_subparsers(
        dest="action", required=True)
    aset = accounts.add_parser("set", help="create or change an account")
    aset.add_argument("account")
    aset.add_argument("--plan", choices=list(PLANS))
    aset.add_argument("--monthly-quota", type=int)
    aset.add_argument("--overage", choices=["on", "off"])
    accounts.add_parser("list", help="list accounts with their usage this month")
    accounts.add_parser("check", help="check every account and key record; exit 1 if any "
                        "cannot be used")

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action",
                                                                       required=True)
    create = keys.add_parser("create", help="create a key; the raw key is the last line")
    create.add_argument("--account", required=True)
    create.add_argument("--plan", choices=list(PLANS))
    create.add_argument("--name", default="")
    keys.add_parser("list", help="list keys (prefixes only)")
    for action in ("revoke", "rotate"):
        keys.add_parser(action, help=f"{action} a key").add_argument("key")
    return p


def _admin(settings: Settings) -> Admin:
    if not settings.redis_url:
        raise AdminError("accounts and keys live in Redis: set QRSTUDIO_REDIS_URL (the embedded "
                         "store exists only inside a running 'qrstudio serve')")
    from .limits.redis_store import RedisAdmin

    return RedisAdmin(settings.redis_url, cluster=settings.redis_cluster)


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    from .app import create_app

    from .logs import configure_logging

    configure_logging(settings.log_level)
    common = dict(host=host, port=port, log_level=settings.log_level, log_config=None,
                  proxy_headers=True, server_header=False, access_log=False,
                  timeout_graceful_shutdown=settings.shutdown_grace_s)
    if settings.embedded:
        if workers != 1:
            print("qrstudio: the embedded store lives in one process; --workers must be 1 "
                  "without QRSTUDIO_REDIS_URL", file=sys.stderr)
            return 2
        from .limits.memory import MemoryStore

        store = MemoryStore(enterprise_quota=settings.enterprise_monthly_quota)
        print("QR Studio, embedded store (state is lost at exit). Demo keys:")
        for code in PLANS:
            key = store.create_key(f"demo-{code}", plan=code, name="demo")
            print(f"  {code:<10} {key}")
        sys.stdout.flush()
        uvicorn.run(create_app(settings, store), workers=1, **common)  # type: ignore[arg-type]
    else:
        uvicorn.run("service.app:create_served_app", factory=True, workers=workers,
                    **common)  # type: ignore[arg-type]
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    admin = _admin(settings)
    if args.command == "accounts" and args.action == "set":
        overage = None if args.overage is None else args.overage == "on"
        acct = admin.set_account(args.account, plan=args.plan, monthly_quota=args.monthly_quota,
                                 overage=overage)
        print(f"account {acct.id}: plan={acct.plan} monthly_quota={acct.monthly_quota} "
              f"overage={acct.overage}")
    elif args.command == "accounts" and args.action == "check":
        problems = admin.check_records()
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)" if problems else "every account and key record is "
              "usable")
        return 1 if problems else 0
    elif args.command == "accounts":
        for acct_id in sorted({k.account for k in admin.list_keys()}):
            acct = admin.get_account(acct_id)
            print(f"{acct_id}\t{acct.plan if acct else '?'}\tused={admin.usage(acct_id)}")
    elif args.action == "create":
        raw = admin.create_key(args.account, plan=args.plan, name=args.name)
        print(f"created a key for account {args.account}; it is shown only once:")
        print(raw)
    elif args.action == "list":
        for k in admin.list_keys():
            print(f"{k.prefix}…\t{k.account}\t{k.name}\t{k.created_at}")
    elif args.action == "revoke":
        info = admin.revoke_key(args.key)
        print(f"revoked {info.prefix}… of account {info.account}")
    elif args.action == "rotate":
        raw = admin.rotate_key(args.key)
        print("rotated; the old key no longer works. New key, shown only once:")
        print(raw)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args, load_settings())
    except (AdminError, BadRecord, SettingsError) as exc:
        print(f"qrstudio: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
