"""Trainers' decisions and staff flags, kept in the app database: a decided text leaves the
inbox, a flagged message enters it; forget-me and retention delete both for a conversation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.models import NLU_DECISIONS, NLU_FLAGS
from admissions.training.nludata import text_key


async def flagged_ids(app: AsyncConnection) -> set[int]:
    """Event ids staff flagged for the inbox."""
    return set((await app.execute(sa.select(NLU_FLAGS.c.event_id))).scalars())


async def decided_keys(app: AsyncConnection, keys: Iterable[str] | None = None) -> set[str]:
    """Text hashes a trainer has already decided on (annotated, out of scope or ignored)."""
    query = sa.select(NLU_DECISIONS.c.text_key).distinct()
    if keys is not None:
        wanted = list(set(keys))
        if not wanted:
            return set()
        query = query.where(NLU_DECISIONS.c.text_key.in_(wanted))
    return set((await app.execute(query)).scalars())


async def flag(app: AsyncConnection, event_id: int, conversation_id: str, by: str) -> bool:
    """Flag a visitor message for the inbox; False when it already was."""
    exists = (
        await app.execute(sa.select(NLU_FLAGS.c.event_id).where(NLU_FLAGS.c.event_id == event_id))
    ).first()
    if exists is not None:
        return False
    await app.execute(
        NLU_FLAGS.insert().values(
            event_id=event_id,
            conversation_id=conversation_id,
            flagged_by=by,
            flagged_at=datetime.now(timezone.utc),
        )
    )
    return True


async def record_decision(
    app: AsyncConnection,
    *,
    text: str,
    decision: str,
    by: str,
    source: str,
    intent: str | None = None,
    example: str | None = None,
    data_file: str | None = None,
    event_id: int | None = None,
    conversation_id: str | None = None,
) -> int:
    """Remember a decision so the same text leaves the inbox (and what was written, if any)."""
    result = await app.execute(
        NLU_DECISIONS.insert().values(
            text_key=text_key(text),
            decision=decision,
            intent=intent,
            example=example,
            data_file=data_file,
            event_id=event_id,
            conversation_id=conversation_id,
            source=source,
            decided_by=by,
            decided_at=datetime.now(timezone.utc),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def recent_decisions(app: AsyncConnection, limit: int = 20) -> list[Any]:
    """The latest decisions (for the inbox page's "recently done" list)."""
    t = NLU_DECISIONS
    rows = await app.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit))
    return list(rows)


@dataclass(frozen=True)
class WrittenExample:
    """An example a trainer accepted from a visitor's message into the training data."""

    intent: str
    example: str
    decided_at: datetime


async def forget_conversation(app: AsyncConnection, conversation_id: str) -> list[WrittenExample]:
    """Delete the flags and decisions that came from one conversation (forget-me, retention).

    Returns the examples those decisions wrote into ``data/nlu`` for the caller to remove
    there too (an example that was already in the data before is not returned).
    """
    d = NLU_DECISIONS
    rows = await app.execute(
        sa.select(d.c.intent, d.c.example, d.c.decided_at).where(
            d.c.conversation_id == conversation_id,
            d.c.data_file.is_not(None),
            d.c.example.is_not(None),
            d.c.intent.is_not(None),
        )
    )
    written = [WrittenExample(str(r.intent), str(r.example), r.decided_at) for r in rows]
    await app.execute(sa.delete(d).where(d.c.conversation_id == conversation_id))
    await app.execute(sa.delete(NLU_FLAGS).where(NLU_FLAGS.c.conversation_id == conversation_id))
    return written
