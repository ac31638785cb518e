"""Queries over the second-factor tables: TOTP secrets, recovery codes, pending sign-ins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.models import PENDING_SIGNINS, RECOVERY_CODES, SESSIONS, TOTP


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def factor(conn: AsyncConnection, user_id: int) -> sa.Row[Any] | None:
    """The account's TOTP row (confirmed or still being set up), if any."""
    t = TOTP
    return (await conn.execute(sa.select(t).where(t.c.user_id == user_id))).first()


async def is_enrolled(conn: AsyncConnection, user_id: int) -> bool:
    """Whether the account has a confirmed second factor."""
    row = await factor(conn, user_id)
    return row is not None and row.confirmed_at is not None


async def start_enrolment(conn: AsyncConnection, user_id: int, secret: str) -> str:
    """The secret being set up for this account: the existing unconfirmed one, else ``secret``.

    Never replaces a confirmed factor (that takes a reset by an administrator).
    """
    row = await factor(conn, user_id)
    if row is not None:
        return str(row.secret)
    await conn.execute(TOTP.insert().values(user_id=user_id, secret=secret, created_at=_now()))
    return secret


async def use_step(conn: AsyncConnection, user_id: int, step: int, *, confirm: bool) -> bool:
    """Record that a code for time step ``step`` was accepted; False when it was used already.

    One conditional UPDATE, so two simultaneous uses of one code cannot both succeed.
    ``confirm`` finishes an enrolment; otherwise the factor must be confirmed already.
    """
    t = TOTP
    query = sa.update(t).where(
        t.c.user_id == user_id, sa.or_(t.c.last_step.is_(None), t.c.last_step < step)
    )
    if confirm:
        query = query.where(t.c.confirmed_at.is_(None)).values(last_step=step, confirmed_at=_now())
    else:
        query = query.where(t.c.confirmed_at.is_not(None)).values(last_step=step)
    return (await conn.execute(query)).rowcount == 1


async def replace_recovery_codes(
    conn: AsyncConnection, user_id: int, hashes: Iterable[str]
) -> None:
    """Drop the account's recovery codes and store these (hashes only)."""
    now = _now()
    await conn.execute(sa.delete(RECOVERY_CODES).where(RECOVERY_CODES.c.user_id == user_id))
    for code_hash in hashes:
        await conn.execute(
            RECOVERY_CODES.insert().values(user_id=user_id, code_hash=code_hash, created_at=now)
        )


async def use_recovery_code(conn: AsyncConnection, user_id: int, code_hash: str) -> bool:
    """Spend one unused recovery code; False when there is no such unused code."""
    t = RECOVERY_CODES
    result = await conn.execute(
        sa.update(t)
        .where(t.c.user_id == user_id, t.c.code_hash == code_hash, t.c.used_at.is_(None))
        .values(used_at=_now())
    )
    return result.rowcount == 1


async def recovery_codes_left(conn: AsyncConnection, user_id: int) -> int:
    """How many unused recovery codes the account has."""
    t = RECOVERY_CODES
    query = sa.select(sa.func.count()).where(t.c.user_id == user_id, t.c.used_at.is_(None))
    return int((await conn.execute(query)).scalar_one())


async def reset(conn: AsyncConnection, user_id: int) -> bool:
    """Remove the account's second factor, recovery codes, pending sign-ins and sessions.

    Returns whether there was a factor. The next sign-in sets one up again where required.
    """
    had = (await conn.execute(sa.delete(TOTP).where(TOTP.c.user_id == user_id))).rowcount > 0
    await conn.execute(sa.delete(RECOVERY_CODES).where(RECOVERY_CODES.c.user_id == user_id))
    await conn.execute(sa.delete(PENDING_SIGNINS).where(PENDING_SIGNINS.c.user_id == user_id))
    await conn.execute(sa.delete(SESSIONS).where(SESSIONS.c.user_id == user_id))
    return bool(had)


async def enrolled_user_ids(conn: AsyncConnection) -> set[int]:
    """Ids of every account with a confirmed second factor (for the accounts page)."""
    t = TOTP
    return set(
        (await conn.execute(sa.select(t.c.user_id).where(t.c.confirmed_at.is_not(None)))).scalars()
    )


# ----- sign-ins waiting for their second factor ----------------------------------------------
async def add_pending(conn: AsyncConnection, token_hash: str, user_id: int, stage: str) -> None:
    """Store a sign-in whose password was right (the browser holds the token)."""
    await conn.execute(sa.delete(PENDING_SIGNINS).where(PENDING_SIGNINS.c.user_id == user_id))
    await conn.execute(
        PENDING_SIGNINS.insert().values(
            token_hash=token_hash, user_id=user_id, stage=stage, created_at=_now()
        )
    )


async def pending(conn: AsyncConnection, token_hash: str, max_age: timedelta) -> sa.Row[Any] | None:
    """The live pending sign-in with this token (expired ones are deleted), if any."""
    t = PENDING_SIGNINS
    await conn.execute(sa.delete(t).where(t.c.created_at < _now() - max_age))
    return (await conn.execute(sa.select(t).where(t.c.token_hash == token_hash))).first()


async def end_pending(conn: AsyncConnection, token_hash: str) -> None:
    """Forget a pending sign-in (finished, or given up)."""
    t = PENDING_SIGNINS
    await conn.execute(sa.delete(t).where(t.c.token_hash == token_hash))
