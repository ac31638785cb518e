"""Staff account rules, shared by the command line and the admin pages.

Both create accounts, reset passwords, disable/enable accounts and reset second factors
through these functions, so the rules are the same wherever a change comes from: usernames
are trimmed, lower-case and plain; roles are the known ones; passwords pass
``auth.password_problem``; nobody can disable the last active admin account. Each function
works in the caller's transaction and returns the audit detail; the caller writes the audit
row (the CLI as ``cli:<user>``, the app as the signed-in admin). Password hashing (slow) is
the caller's, before the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db import second_factor, staff
from admissions.db.models import USERS
from admissions.web import auth

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


class AccountError(ValueError):
    """A change the account rules refuse; the message is for people."""


def username(raw: str) -> str:
    """The normalised username, or ``AccountError`` when it is not acceptable."""
    key = raw.strip().lower()
    if not _USERNAME.fullmatch(key):
        raise AccountError(
            "Use 1 to 64 letters, digits, dots, dashes, underscores or @ for the username, "
            "starting with a letter or digit."
        )
    return key


def roles(names: Iterable[str]) -> frozenset[str]:
    """The roles, or ``AccountError`` naming an unknown one (or none given)."""
    try:
        return auth.check_roles([n.strip() for n in names if n.strip()])
    except ValueError as exc:
        raise AccountError(str(exc)) from None


def new_password(password: str, again: str | None = None) -> str:
    """The password when it may be used as a new one, else ``AccountError``."""
    if again is not None and password != again:
        raise AccountError("The two passwords differ.")
    problem = auth.password_problem(password)
    if problem:
        raise AccountError(problem)
    return password


async def create(
    conn: AsyncConnection, key: str, role_set: frozenset[str], password_hash: str
) -> dict[str, Any]:
    """Create an account (``key`` from ``username``); ``AccountError`` when the name is taken."""
    if await staff.find_user(conn, key) is not None:
        raise AccountError(f"The username {key!r} is taken.")
    await staff.create_user(conn, key, password_hash, role_set)
    return {"user": key, "roles": sorted(role_set)}


async def _target(conn: AsyncConnection, user_id: int) -> sa.Row[Any]:
    row = await staff.get_user(conn, user_id)
    if row is None:
        raise LookupError(user_id)
    return row


def _is_admin(row: sa.Row[Any]) -> bool:
    return "admin" in str(row.roles).split(",")


async def set_disabled(
    conn: AsyncConnection, user_id: int, disabled: bool, *, by_user_id: int | None = None
) -> dict[str, Any]:
    """Disable (ending its sessions) or enable an account.

    Refused for one's own account and for the last active admin account, so the app always
    keeps someone who can manage it. ``LookupError`` when there is no such account.
    """
    if conn.dialect.name == "postgresql":  # two admins disabling each other at once
        await conn.execute(sa.text(f"LOCK TABLE {USERS.name} IN SHARE ROW EXCLUSIVE MODE"))
    row = await _target(conn, user_id)
    if disabled and by_user_id == user_id:
        raise AccountError("You cannot disable your own account.")
    if disabled and not row.disabled and _is_admin(row):
        others = [
            r
            for r in (await conn.execute(sa.select(USERS).where(~USERS.c.disabled))).all()
            if r.id != user_id and _is_admin(r)
        ]
        if not others:
            raise AccountError(
                f"{row.username!r} is the last active admin account: create or enable "
                "another admin first."
            )
    await staff.set_disabled(conn, user_id, disabled)
    return {"user": row.username}


async def set_password(conn: AsyncConnection, user_id: int, password_hash: str) -> dict[str, Any]:
    """Store a new password (checked by ``new_password``) and end the account's sessions."""
    row = await _target(conn, user_id)
    await staff.set_password(conn, user_id, password_hash)
    return {"user": row.username}


async def reset_second_factor(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    """Remove the account's second factor and recovery codes and end its sessions.

    Its next sign-in sets a new one up when its role needs one (or it may choose to).
    """
    row = await _target(conn, user_id)
    had = await second_factor.reset(conn, user_id)
    return {"user": row.username, "had_second_factor": had}
