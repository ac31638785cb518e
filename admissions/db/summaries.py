"""An in-memory, always-synced index of conversation summaries (figures and flags only).

Rasa's ``events`` table has no index but ``sender_id``, and the app adds none to it, so
aggregating every conversation costs a full scan (~0.3-0.7 s at 10,000 conversations).
This index runs that SQL aggregate once, then on every use re-aggregates — with the same
SQL — only the conversations that gained events since (found by primary key). Deletions
(the purge, or anyone else's) show up as a row-count mismatch and trigger a full rebuild.
Nothing is written anywhere: no message text is held, and nothing survives the process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.tracker import events
from admissions.db.transcripts import (
    ConversationSummary,
    ListFilters,
    matches,
    sort_key,
    summaries,
    tracker_ready,
)


class SummaryIndex:
    """Conversation summaries kept in step with the tracker store.

    Every refresh looks at ``max(id)`` (free, by primary key) and re-aggregates the
    conversations that gained events. Deletions cannot raise ``max(id)``, so the row count
    is compared too, at most every ``count_check_seconds`` (a full ``count(*)`` costs about
    as much as a small page); the app's own purge calls ``invalidate`` so its deletions show
    at once. A count that does not add up (a deletion, or rows committed out of id order by
    PostgreSQL) rebuilds the index from scratch.
    """

    def __init__(self, count_check_seconds: float = 5.0) -> None:
        """Start empty; the first ``refresh`` builds it."""
        self._by_id: dict[str, ConversationSummary] = {}
        self._ordered: list[ConversationSummary] | None = None
        self._max_id = 0
        self._count = 0  # rows the index accounts for
        self._built = False
        self._checked_at = 0.0
        self._lock = asyncio.Lock()
        self.count_check_seconds = count_check_seconds
        self.full_builds = 0
        self.incremental_updates = 0

    def invalidate(self) -> None:
        """Forget everything (the next refresh rebuilds)."""
        self._built = False

    async def refresh(self, conn: AsyncConnection) -> bool:
        """Bring the index up to date; False when the tracker store has no events table."""
        async with self._lock:
            if not self._built:
                if not await tracker_ready(conn):
                    return False
                await self._rebuild(conn)
                return True
            max_id = int((await conn.execute(sa.select(sa.func.max(events.c.id)))).scalar() or 0)
            if max_id > self._max_id:
                window = events.c.id > self._max_id, events.c.id <= max_id
                added = (await conn.execute(sa.select(sa.func.count()).where(*window))).scalar_one()
                changed = (
                    await conn.execute(sa.select(events.c.sender_id).where(*window).distinct())
                ).scalars()
                await self._update(conn, list(changed))
                self._max_id, self._count = max_id, self._count + int(added)
                self.incremental_updates += 1
            elif max_id < self._max_id:
                await self._rebuild(conn)
                return True
            if time.monotonic() - self._checked_at >= self.count_check_seconds:
                count = (
                    await conn.execute(sa.select(sa.func.count()).select_from(events))
                ).scalar_one()
                self._checked_at = time.monotonic()
                if int(count) != self._count:
                    await self._rebuild(conn)
            return True

    async def _update(self, conn: AsyncConnection, sender_ids: Sequence[str]) -> None:
        for sender_id in sender_ids:
            self._by_id.pop(sender_id, None)
        for summary in await summaries(conn, sender_ids):
            self._by_id[summary.conversation_id] = summary
        self._ordered = None

    async def _rebuild(self, conn: AsyncConnection) -> None:
        # max(id) and count(*) first: rows added while aggregating are picked up next time.
        state = (await conn.execute(sa.select(sa.func.max(events.c.id), sa.func.count()))).one()
        rows = await summaries(conn)
        self._by_id = {r.conversation_id: r for r in rows}
        self._ordered = None
        self._max_id, self._count = int(state[0] or 0), int(state[1] or 0)
        self._checked_at = time.monotonic()
        self._built = True
        self.full_builds += 1

    def select(self, filters: ListFilters) -> list[ConversationSummary]:
        """Matching conversations in list order (crisis, callbacks, newest)."""
        if self._ordered is None:
            self._ordered = sorted(self._by_id.values(), key=sort_key)
        if filters == ListFilters():
            return list(self._ordered)
        return [r for r in self._ordered if matches(r, filters)]

    def __len__(self) -> int:
        """Number of conversations listed."""
        return len(self._by_id)
