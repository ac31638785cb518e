"""Queries over the staff app's own tables: accounts, notes, reviews, callback work, audit log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.models import (
    AUDIT_LOG,
    CALLBACKS,
    JOB_RUNS,
    LOGIN_ATTEMPTS,
    NOTES,
    PACKET_OUTBOX,
    REVIEWS,
    SESSIONS,
    USERS,
)

_CHUNK = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# ----- accounts ------------------------------------------------------------------------------
async def create_user(
    conn: AsyncConnection, username: str, password_hash: str, roles: Iterable[str]
) -> int:
    """Insert an account; raises ``sqlalchemy.exc.IntegrityError`` when the name is taken."""
    now = _now()
    result = await conn.execute(
        USERS.insert().values(
            username=username,
            password_hash=password_hash,
            roles=",".join(sorted(set(roles))),
            disabled=False,
            created_at=now,
            password_changed_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def find_user(conn: AsyncConnection, username: str) -> sa.Row[Any] | None:
    """The account row with this (normalised) username, if any."""
    t = USERS
    return (await conn.execute(sa.select(t).where(t.c.username == username))).first()


async def get_user(conn: AsyncConnection, user_id: int) -> sa.Row[Any] | None:
    """The account row with this id, if any."""
    t = USERS
    return (await conn.execute(sa.select(t).where(t.c.id == user_id))).first()


async def set_disabled(conn: AsyncConnection, user_id: int, disabled: bool) -> None:
    """Disable or enable an account (disabling also deletes its sessions)."""
    await conn.execute(sa.update(USERS).where(USERS.c.id == user_id).values(disabled=disabled))
    if disabled:
        await conn.execute(sa.delete(SESSIONS).where(SESSIONS.c.user_id == user_id))


async def set_password(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    """Store a new password hash and end every session of the account."""
    await conn.execute(
        sa.update(USERS)
        .where(USERS.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=_now())
    )
    await conn.execute(sa.delete(SESSIONS).where(SESSIONS.c.user_id == user_id))


async def list_users(conn: AsyncConnection) -> list[sa.Row[Any]]:
    """Every account with its number of live sessions."""
    u, s = USERS, SESSIONS
    sessions = (
        sa.select(s.c.user_id, sa.func.count().label("sessions")).group_by(s.c.user_id).subquery()
    )
    query = (
        sa.select(
            u.c.id,
            u.c.username,
            u.c.roles,
            u.c.disabled,
            u.c.created_at,
            sa.func.coalesce(sessions.c.sessions, 0).label("sessions"),
        )
        .outerjoin(sessions, sessions.c.user_id == u.c.id)
        .order_by(u.c.username)
    )
    return list((await conn.execute(query)).all())  # type: ignore[arg-type]


# ----- review status, notes, callback work -------------------------------------------------
async def reviewed_ids(conn: AsyncConnection) -> set[str]:
    """Every conversation id marked reviewed."""
    return set((await conn.execute(sa.select(REVIEWS.c.conversation_id))).scalars())


async def _rows_by_conversation(
    conn: AsyncConnection, table: sa.Table, ids: Sequence[str]
) -> dict[str, sa.Row[Any]]:
    """The row of ``table`` for each of these conversations that has one."""
    out: dict[str, sa.Row[Any]] = {}
    for chunk in _chunks(list(ids)):
        query = sa.select(table).where(table.c.conversation_id.in_(chunk))
        for row in await conn.execute(query):
            out[row.conversation_id] = row
    return out


async def reviews_for(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, sa.Row[Any]]:
    """Review rows for these conversations."""
    return await _rows_by_conversation(conn, REVIEWS, ids)


async def set_reviewed(conn: AsyncConnection, conversation_id: str, username: str | None) -> None:
    """Mark reviewed by ``username`` now, or clear the mark when ``username`` is None."""
    t = REVIEWS
    await conn.execute(sa.delete(t).where(t.c.conversation_id == conversation_id))
    if username is not None:
        await conn.execute(
            t.insert().values(
                conversation_id=conversation_id, reviewed_by=username, reviewed_at=_now()
            )
        )


async def notes_for(conn: AsyncConnection, conversation_id: str) -> list[sa.Row[Any]]:
    """Notes on one conversation, oldest first."""
    t = NOTES
    query = sa.select(t).where(t.c.conversation_id == conversation_id).order_by(t.c.id)
    return list((await conn.execute(query)).all())


async def add_note(conn: AsyncConnection, conversation_id: str, author: str, body: str) -> None:
    """Append a note."""
    await conn.execute(
        NOTES.insert().values(
            conversation_id=conversation_id, author=author, created_at=_now(), body=body
        )
    )


async def callback_work(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, sa.Row[Any]]:
    """Work status rows for these conversations' callback requests."""
    return await _rows_by_conversation(conn, CALLBACKS, ids)


async def set_callback_status(
    conn: AsyncConnection, conversation_id: str, status: str, username: str
) -> None:
    """Record a callback's new status (an ``attempted`` adds one to the attempts)."""
    t = CALLBACKS
    current = (
        await conn.execute(sa.select(t).where(t.c.conversation_id == conversation_id))
    ).first()
    attempts = (current.attempts if current else 0) + (1 if status == "attempted" else 0)
    values = {"status": status, "attempts": attempts, "updated_by": username, "updated_at": _now()}
    if current is None:
        await conn.execute(t.insert().values(conversation_id=conversation_id, **values))
    else:
        await conn.execute(
            sa.update(t).where(t.c.conversation_id == conversation_id).values(values)
        )


async def delete_work(conn: AsyncConnection, conversation_id: str) -> None:
    """Remove notes, review, callback work and the handoff packet's outbox row of a purged
    conversation (not its audit rows)."""
    for table in (NOTES, REVIEWS, CALLBACKS, PACKET_OUTBOX):
        await conn.execute(sa.delete(table).where(table.c.conversation_id == conversation_id))


# ----- audit log (read only) ----------------------------------------------------------------
@dataclass(frozen=True)
class AuditFilters:
    """Filters of the audit log page."""

    username: str | None = None
    action: str | None = None
    conversation_id: str | None = None
    result: str | None = None
    since: datetime | None = None
    before: datetime | None = None


async def audit_page(
    conn: AsyncConnection, filters: AuditFilters, *, limit: int, offset: int
) -> tuple[list[sa.Row[Any]], int]:
    """Audit rows, newest first, and how many match."""
    t = AUDIT_LOG
    conditions = []
    if filters.username:
        conditions.append(t.c.username == filters.username)
    if filters.action:
        conditions.append(t.c.action == filters.action)
    if filters.conversation_id:
        conditions.append(t.c.conversation_id == filters.conversation_id)
    if filters.result:
        conditions.append(t.c.result == filters.result)
    if filters.since:
        conditions.append(t.c.at >= filters.since)
    if filters.before:
        conditions.append(t.c.at < filters.before)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(t).where(*conditions))
    ).scalar_one()
    rows = await conn.execute(
        sa.select(t).where(*conditions).order_by(t.c.id.desc()).limit(limit).offset(offset)
    )
    return list(rows.all()), int(total)


async def audit_actions(conn: AsyncConnection) -> list[str]:
    """Distinct action names seen in the audit log (for the filter menu)."""
    t = AUDIT_LOG
    return list(
        (await conn.execute(sa.select(t.c.action).distinct().order_by(t.c.action))).scalars()
    )


# ----- housekeeping -------------------------------------------------------------------------
async def forget_old_attempts(conn: AsyncConnection, older_than: timedelta) -> None:
    """Drop sign-in attempts older than ``older_than`` (they only serve throttling)."""
    t = LOGIN_ATTEMPTS
    await conn.execute(sa.delete(t).where(t.c.at < _now() - older_than))


async def start_job(conn: AsyncConnection, job: str) -> int:
    """Record that a job started; returns the run id."""
    result = await conn.execute(
        JOB_RUNS.insert().values(job=job, started_at=_now(), outcome="running")
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def finish_job(conn: AsyncConnection, run_id: int, outcome: str, detail: str) -> None:
    """Record how a job run ended."""
    t = JOB_RUNS
    await conn.execute(
        sa.update(t)
        .where(t.c.id == run_id)
        .values(finished_at=_now(), outcome=outcome, detail=detail)
    )


async def recent_jobs(conn: AsyncConnection, job: str, limit: int = 10) -> list[sa.Row[Any]]:
    """The latest runs of a job."""
    t = JOB_RUNS
    query = sa.select(t).where(t.c.job == job).order_by(t.c.id.desc()).limit(limit)
    return list((await conn.execute(query)).all())


async def end_expired_sessions(conn: AsyncConnection, idle: timedelta, max_age: timedelta) -> None:
    """Delete sessions past their idle timeout or maximum age."""
    t = SESSIONS
    now = _now()
    await conn.execute(
        sa.delete(t).where(sa.or_(t.c.last_seen_at < now - idle, t.c.created_at < now - max_age))
    )
