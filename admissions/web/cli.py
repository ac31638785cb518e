"""Command line for the staff app: accounts, the retention purge, migrations, synthetic data.

    python -m admissions.web.cli create-user --username U --role admissions [--role admin]
                                             [--password-stdin]
    python -m admissions.web.cli disable-user --username U
    python -m admissions.web.cli set-password --username U [--password-stdin]
    python -m admissions.web.cli reset-second-factor --username U
    python -m admissions.web.cli purge [--dry-run]
    python -m admissions.web.cli migrate
    python -m admissions.web.cli seed-synthetic --count N [--days D] [--seed S]

Passwords come from a prompt (typed twice) or the first line of standard input; there is no
default password anywhere. The account rules (usernames, roles, passwords, the last admin) are
``accounts.py``'s, shared with the admin pages. Databases: TRACKER_DB_URL and APP_DB_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Sequence

from admissions.db import audit, migrate, staff, synthetic
from admissions.db.engine import create_engine, create_sync_engine, ensure_sqlite_dir
from admissions.training.settings import TrainingSettings
from admissions.web import accounts, auth, retention
from admissions.web.settings import Settings


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Same password again: ") != password:
            raise SystemExit("error: the two passwords differ; nothing changed.")
    try:
        return accounts.new_password(password)
    except accounts.AccountError as exc:
        raise SystemExit(f"error: {exc} Nothing changed.") from None


async def _create_user(
    settings: Settings, username: str, roles: frozenset[str], password: str
) -> None:
    engine = create_engine(settings.app_db_url)
    try:
        key = accounts.username(username)
        password_hash = auth.hash_password(password)
        async with engine.begin() as conn:
            detail = await accounts.create(conn, key, roles, password_hash)
            await audit.insert_for_cli(conn, "user_create", detail)
    except accounts.AccountError as exc:
        raise SystemExit(f"error: {exc} Nothing changed.") from None
    finally:
        await engine.dispose()
    print(f"created {key!r} with role(s) {', '.join(sorted(roles))}")


async def _change_user(settings: Settings, username: str, action: str, password: str = "") -> None:
    """``user_disable``, ``user_enable``, ``password_reset`` or ``totp_reset`` for one account."""
    engine = create_engine(settings.app_db_url)
    key = auth.username_key(username)
    try:
        password_hash = auth.hash_password(password) if action == "password_reset" else ""
        async with engine.begin() as conn:
            row = await staff.find_user(conn, key)
            if row is None:
                raise SystemExit(f"error: no user {key!r}")
            if action in ("user_disable", "user_enable"):
                detail = await accounts.set_disabled(conn, row.id, action == "user_disable")
            elif action == "password_reset":
                detail = await accounts.set_password(conn, row.id, password_hash)
            else:
                detail = await accounts.reset_second_factor(conn, row.id)
            await audit.insert_for_cli(conn, action, detail)
    except accounts.AccountError as exc:
        raise SystemExit(f"error: {exc} Nothing changed.") from None
    finally:
        await engine.dispose()
    print(f"{action.replace('_', ' ').replace('totp', 'second factor')}: {key!r}")


async def _purge(settings: Settings, dry_run: bool, days: int | None) -> None:
    tracker_db = create_engine(settings.tracker_db_url, foreign_keys=False)
    app_db = create_engine(settings.app_db_url)
    try:
        if dry_run:
            result = await retention.purge(
                tracker_db,
                app_db,
                retention_days=days or settings.retention_days,
                actor=audit.cli_actor(),
                address="cli",
                dry_run=True,
            )
            print(
                f"would delete {len(result.expired)} expired and "
                f"{len(result.forgotten)} forget-me conversation(s)"
            )
            return
        if days is not None:
            settings = Settings(**{**settings.__dict__, "retention_days": days})
        result = await retention.run_job(
            tracker_db,
            app_db,
            settings,
            actor=audit.cli_actor(),
            address="cli",
            training=TrainingSettings.from_env(),
        )
        s = result.summary()
        print(
            f"deleted {s['expired']} expired and {s['forgotten']} forget-me conversation(s), "
            f"{s['events_deleted']} events; {s['failed']} failed"
        )
        if result.failed:
            raise SystemExit(1)
    finally:
        await tracker_db.dispose()
        await app_db.dispose()


def _seed(settings: Settings, count: int, days: float, seed: int, allow_mixed: bool) -> None:
    ensure_sqlite_dir(settings.tracker_db_url)
    engine = create_sync_engine(settings.tracker_db_url, foreign_keys=False)
    try:
        with engine.begin() as conn:
            if synthetic.has_real_conversations(conn) and not allow_mixed:
                raise SystemExit(
                    "error: this tracker store holds real conversations; refusing to mix in "
                    "synthetic ones (use another TRACKER_DB_URL, or --allow-mixed)."
                )
            added = synthetic.seed(conn, count, now=time.time(), days=days, seed=seed)
    finally:
        engine.dispose()
    print(f"added {count} synthetic conversations ({added} events) to the tracker store")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    parser = argparse.ArgumentParser(
        prog="python -m admissions.web.cli", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create a staff account")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--role",
        action="append",
        required=True,
        help="admissions, trainer or admin; repeat for several",
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    for name, text in (
        ("disable-user", "disable an account and end its sessions"),
        ("enable-user", "enable an account"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--username", required=True)
    reset = sub.add_parser("set-password", help="set a new password (ends the account's sessions)")
    reset.add_argument("--username", required=True)
    reset.add_argument("--password-stdin", action="store_true")
    factor = sub.add_parser(
        "reset-second-factor",
        help="remove an account's TOTP and recovery codes (lost phone); it sets one up again",
    )
    factor.add_argument("--username", required=True)
    purge = sub.add_parser(
        "purge", help="delete conversations past RETENTION_DAYS and forget-me requests"
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.add_argument("--days", type=int, help="override RETENTION_DAYS for this run")
    sub.add_parser("migrate", help="create or upgrade the app's own tables")
    seed = sub.add_parser("seed-synthetic", help="add synthetic conversations (benchmarks, tests)")
    seed.add_argument("--count", type=int, required=True)
    seed.add_argument("--days", type=float, default=30.0, help="spread over this many past days")
    seed.add_argument("--seed", type=int, default=0)
    seed.add_argument("--allow-mixed", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run one command."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    if args.command == "seed-synthetic":
        if args.count < 1:
            raise SystemExit("error: --count must be at least 1")
        _seed(settings, args.count, args.days, args.seed, args.allow_mixed)
        return
    migrate.upgrade(settings.app_db_url)
    if args.command == "migrate":
        print("the app's tables are up to date")
    elif args.command == "create-user":
        try:
            accounts.username(args.username)
            roles = accounts.roles(args.role)
        except accounts.AccountError as exc:
            raise SystemExit(f"error: {exc}") from None
        password = _read_password(args.password_stdin)
        asyncio.run(_create_user(settings, args.username, roles, password))
    elif args.command in ("disable-user", "enable-user"):
        action = "user_disable" if args.command == "disable-user" else "user_enable"
        asyncio.run(_change_user(settings, args.username, action))
    elif args.command == "set-password":
        password = _read_password(args.password_stdin)
        asyncio.run(_change_user(settings, args.username, "password_reset", password))
    elif args.command == "reset-second-factor":
        asyncio.run(_change_user(settings, args.username, "totp_reset"))
    elif args.command == "purge":
        if args.days is not None and args.days < 1:
            raise SystemExit("error: --days must be at least 1")
        asyncio.run(_purge(settings, args.dry_run, args.days))


if __name__ == "__main__":
    main()
