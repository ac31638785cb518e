"""Shared look-ups for the views: conversation summaries and the review filter."""

from __future__ import annotations

from aiohttp import web

from admissions.db import staff
from admissions.db.transcripts import ConversationSummary, ListFilters
from admissions.web.keys import APP_DB, SUMMARIES, TRACKER_DB


async def conversation_summaries(
    request: web.Request, filters: ListFilters, reviewed: bool | None = None
) -> tuple[list[ConversationSummary], bool]:
    """Matching conversations in list order, and whether the tracker store exists yet.

    ``reviewed`` keeps only conversations marked (True) or not marked (False) reviewed;
    review marks live in the app's database, so that filter is applied here.
    """
    index = request.app[SUMMARIES]
    async with request.app[TRACKER_DB].connect() as conn:
        ready = await index.refresh(conn)
    if not ready:
        return [], False
    rows = index.select(filters)
    if reviewed is not None:
        async with request.app[APP_DB].connect() as conn:
            marked = await staff.reviewed_ids(conn)
        rows = [r for r in rows if (r.conversation_id in marked) == reviewed]
    return rows, True
