"""Sign-in throttling: every password or code attempt is counted *before* it is checked, and
refused once its account or address failed too often in the window (``login_*`` settings)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from admissions.db.models import LOGIN_ATTEMPTS
from admissions.web.settings import Settings


class Throttled(Exception):
    """This account or address failed too often lately: no password was checked."""


async def _too_many(
    conn: AsyncConnection, key: str, address: str, settings: Settings, *, pending: int = 0
) -> bool:
    """Whether this account's or address's failures, less ``pending`` own ones, reach a limit."""
    since = datetime.now(timezone.utc) - timedelta(minutes=settings.login_window_minutes)
    t = LOGIN_ATTEMPTS
    last_ok = (
        await conn.execute(
            sa.select(sa.func.max(t.c.at)).where(t.c.username_key == key, t.c.succeeded)
        )
    ).scalar()
    account_since = max(since, last_ok) if last_ok else since
    account_failures = (
        await conn.execute(
            sa.select(sa.func.count()).where(
                t.c.username_key == key, ~t.c.succeeded, t.c.at > account_since
            )
        )
    ).scalar_one()
    address_failures = (
        await conn.execute(
            sa.select(sa.func.count()).where(
                t.c.address == address[:64], ~t.c.succeeded, t.c.at > since
            )
        )
    ).scalar_one()
    return (
        account_failures - pending >= settings.login_max_failures_account
        or address_failures - pending >= settings.login_max_failures_address
    )


async def begin_attempt(engine: AsyncEngine, key: str, address: str, settings: Settings) -> int:
    """Count an attempt *before* its password is checked: stored as a failure until it succeeds.

    The insert comes first and the limit check reads in the same transaction, which holds the
    table's write lock until it ends (SQLite's single writer; an explicit lock on PostgreSQL),
    so simultaneous attempts are counted one after another and at most the allowed number get
    through, in every process. Raises ``Throttled`` (and stores nothing) at the limit.
    """
    async with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            await conn.execute(
                sa.text(f"LOCK TABLE {LOGIN_ATTEMPTS.name} IN SHARE ROW EXCLUSIVE MODE")
            )
        result = await conn.execute(
            LOGIN_ATTEMPTS.insert().values(
                username_key=key,
                address=address[:64],
                at=datetime.now(timezone.utc),
                succeeded=False,
            )
        )
        if await _too_many(conn, key, address, settings, pending=1):
            raise Throttled  # rolls the insert back: a refused attempt is not counted
    new_id = result.inserted_primary_key
    if new_id is None:  # pragma: no cover - every supported database returns the new id
        raise RuntimeError("the database did not return the new attempt's id")
    return int(new_id[0])


async def end_attempt(engine: AsyncEngine, attempt_id: int, *, succeeded: bool) -> None:
    """Settle a pending attempt: mark it succeeded (a failure stays counted as it is)."""
    if succeeded:
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(LOGIN_ATTEMPTS)
                .where(LOGIN_ATTEMPTS.c.id == attempt_id)
                .values(succeeded=True)
            )


async def drop_attempt(engine: AsyncEngine, attempt_id: int) -> None:
    """Forget a pending attempt whose password was never checked (the server was busy)."""
    async with engine.begin() as conn:
        await conn.execute(sa.delete(LOGIN_ATTEMPTS).where(LOGIN_ATTEMPTS.c.id == attempt_id))
