"""Queries of the handoff packet outbox (``staff_packet_outbox``) and of the tracker events
that fill it (``handoff_packet_complete`` set to true).

Delivery is in order of completion: only the oldest pending packet may be sent, so a packet
never overtakes an earlier one that is still being retried. A row is claimed with a short
lease before it is sent, so two app processes never send the same packet at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.models import PACKET_OUTBOX
from admissions.db.tracker import events

COMPLETE_SLOT = "handoff_packet_complete"
OUTCOME_CHARS = 100
T = PACKET_OUTBOX


@dataclass(frozen=True)
class CompletionEvent:
    """A ``handoff_packet_complete = true`` event in the tracker store."""

    event_id: int
    conversation_id: str
    timestamp: float


@dataclass(frozen=True)
class NewPacket:
    """A packet to enqueue: its conversation, completion and the exact body to send."""

    conversation_id: str
    packet_id: str
    completion_event_id: int
    completed_at: datetime
    body: str


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _is_true(dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.cast(events.c.data, JSONB)["value"].astext == "true"
    return sa.func.json_type(events.c.data, "$.value") == "true"


async def completions(tracker: AsyncConnection, after_id: int) -> list[CompletionEvent]:
    """Completion events with an id above ``after_id``, in order of completion."""
    rows = await tracker.execute(
        sa.select(events.c.id, events.c.sender_id, events.c.timestamp)
        .where(
            events.c.id > after_id,
            events.c.type_name == "slot",
            events.c.action_name == COMPLETE_SLOT,
            _is_true(tracker.dialect.name),
        )
        .order_by(events.c.id)
    )
    found = [CompletionEvent(int(r.id), str(r.sender_id), float(r.timestamp or 0)) for r in rows]
    return sorted(found, key=lambda c: (c.timestamp, c.event_id))


async def max_event_id(tracker: AsyncConnection) -> int:
    """The tracker store's highest event id (0 when empty)."""
    return int((await tracker.execute(sa.select(sa.func.max(events.c.id)))).scalar() or 0)


async def forgotten(tracker: AsyncConnection, conversation_ids: Sequence[str]) -> set[str]:
    """Those of ``conversation_ids`` whose visitor asked to be forgotten."""
    if not conversation_ids:
        return set()
    rows = await tracker.execute(
        sa.select(events.c.sender_id)
        .where(
            events.c.sender_id.in_(list(conversation_ids)),
            events.c.type_name == "slot",
            events.c.action_name == "forget_requested",
            _is_true(tracker.dialect.name),
        )
        .distinct()
    )
    return {str(r.sender_id) for r in rows}


async def known(conn: AsyncConnection, conversation_ids: Sequence[str]) -> set[str]:
    """Those of ``conversation_ids`` already in the outbox."""
    if not conversation_ids:
        return set()
    rows = await conn.execute(
        sa.select(T.c.conversation_id).where(T.c.conversation_id.in_(list(conversation_ids)))
    )
    return {str(r.conversation_id) for r in rows}


async def enqueue(conn: AsyncConnection, packet: NewPacket) -> None:
    """Add a packet, due at once (the caller checked it is not there yet)."""
    now = _now()
    await conn.execute(
        T.insert().values(
            conversation_id=packet.conversation_id,
            packet_id=packet.packet_id,
            completion_event_id=packet.completion_event_id,
            completed_at=packet.completed_at,
            enqueued_at=now,
            body=packet.body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )


async def head(conn: AsyncConnection) -> sa.Row[Any] | None:
    """The oldest pending packet (by completion): the only one that may be sent next."""
    query = (
        sa.select(T)
        .where(T.c.status == "pending")
        .order_by(T.c.completed_at, T.c.completion_event_id, T.c.id)
        .limit(1)
    )
    return (await conn.execute(query)).first()


async def claim(conn: AsyncConnection, row_id: int, lease: timedelta) -> bool:
    """Take a pending row for one attempt; False when another sender holds it."""
    now = _now()
    result = await conn.execute(
        sa.update(T)
        .where(
            T.c.id == row_id,
            T.c.status == "pending",
            sa.or_(T.c.lease_until.is_(None), T.c.lease_until < now),
        )
        .values(lease_until=now + lease, attempts=T.c.attempts + 1, last_attempt_at=now)
    )
    return bool(result.rowcount)


async def delivered(conn: AsyncConnection, row_id: int, outcome: str) -> None:
    """A 2xx came back: never sent again (unless an admin resends it)."""
    now = _now()
    await conn.execute(
        sa.update(T)
        .where(T.c.id == row_id)
        .values(
            status="delivered",
            delivered_at=now,
            lease_until=None,
            next_attempt_at=None,
            last_outcome=outcome[:OUTCOME_CHARS],
        )
    )


async def failed(
    conn: AsyncConnection, row_id: int, outcome: str, retry_at: datetime | None
) -> None:
    """An attempt failed: retry at ``retry_at``, or dead-letter the row when None."""
    await conn.execute(
        sa.update(T)
        .where(T.c.id == row_id)
        .values(
            status="pending" if retry_at is not None else "dead",
            next_attempt_at=retry_at,
            lease_until=None,
            last_outcome=outcome[:OUTCOME_CHARS],
        )
    )


async def withdraw(conn: AsyncConnection, row_id: int) -> None:
    """The visitor asked to be forgotten before delivery: never send it; drop the body."""
    await conn.execute(
        sa.update(T)
        .where(T.c.id == row_id, T.c.status.in_(("pending", "dead")))
        .values(
            status="withdrawn",
            body=None,
            next_attempt_at=None,
            lease_until=None,
            last_outcome="withdrawn: the visitor asked to be forgotten",
        )
    )


async def resend(conn: AsyncConnection, conversation_id: str, by: str) -> sa.Row[Any] | None:
    """Put a delivered or dead packet back in the queue, due now; the row, or None."""
    row = (await conn.execute(sa.select(T).where(T.c.conversation_id == conversation_id))).first()
    if row is None or row.status not in ("delivered", "dead") or not row.body:
        return None
    now = _now()
    await conn.execute(
        sa.update(T)
        .where(T.c.id == row.id)
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            resent_by=by,
            resent_at=now,
        )
    )
    return row


async def for_conversations(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, sa.Row[Any]]:
    """Delivery rows (without bodies) of these conversations."""
    if not ids:
        return {}
    columns = [c for c in T.c if c.name != "body"]
    rows = await conn.execute(sa.select(*columns).where(T.c.conversation_id.in_(list(ids))))
    return {str(r.conversation_id): r for r in rows}


async def page(conn: AsyncConnection, limit: int, offset: int) -> tuple[list[sa.Row[Any]], int]:
    """Delivery rows without bodies, newest completion first, and how many there are."""
    columns = [c for c in T.c if c.name != "body"]
    rows = await conn.execute(
        sa.select(*columns)
        .order_by(T.c.completed_at.desc(), T.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = (await conn.execute(sa.select(sa.func.count()).select_from(T))).scalar_one()
    return list(rows), int(total)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """How many packets are in each status."""
    rows = await conn.execute(sa.select(T.c.status, sa.func.count()).group_by(T.c.status))
    return {str(status): int(n) for status, n in rows}


async def delete_conversation(conn: AsyncConnection, conversation_id: str) -> None:
    """Retention and forget-me: the packet's row goes with its conversation."""
    await conn.execute(sa.delete(T).where(T.c.conversation_id == conversation_id))
