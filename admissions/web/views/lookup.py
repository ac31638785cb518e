"""Shared look-ups for the views: conversation summaries, the review filter, one transcript."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admissions.db import staff, transcripts
from admissions.db.transcripts import ConversationSummary, ListFilters
from admissions.web.keys import APP_DB, SUMMARIES, TRACKER_DB
from admissions.web.transcript import Transcript, build


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


async def load_transcript(
    request: web.Request, conversation_id: str
) -> tuple[Transcript, list[dict[str, Any]]]:
    """One conversation's transcript and events: 404 when missing, 410 once forget-me asked."""
    async with request.app[TRACKER_DB].connect() as conn:
        events = await transcripts.conversation_events(conn, conversation_id)
    if not events:
        raise web.HTTPNotFound(text="No conversation with that id (it may have been purged).")
    transcript = build(conversation_id, events)
    if transcript.forget_requested:
        raise web.HTTPGone(
            text="The visitor asked to be forgotten; this conversation is waiting for deletion."
        )
    return transcript, events
