"""Finding last night: when the admissions line last closed, and the home page's counts.

The coordinator's morning starts with three numbers: conversations since the line closed
(empty one- or two-turn chats left out), crisis conversations among them, and callbacks
still waiting. The home page's handler lives with sign-in (``views/account.py``); the counts
reach its template through ``home_context``, a template context processor that does its work
only for the home page and only for the ``admissions`` role. Counts only, never message text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from admissions.db import staff
from admissions.db.transcripts import ListFilters
from admissions.hours import last_closing
from admissions.web.keys import APP_DB, FACILITY, USER
from admissions.web.views.lookup import conversation_summaries

HOME_PATHS = ("/staff/", "/staff")


def now() -> float:
    """The current time (unix seconds); tests move it."""
    return time.time()


def closed_at(app: web.Application) -> datetime | None:
    """When the admissions line last closed (facility time zone), None if it never opens."""
    return last_closing(app[FACILITY], datetime.fromtimestamp(now(), timezone.utc))


@dataclass(frozen=True)
class OvernightCounts:
    """The home page's numbers."""

    closed_at: datetime | None
    new: int  # conversations active since the line closed, empty chats left out
    crisis: int  # crisis conversations active since the line closed
    older_crisis: int  # crisis conversations from before that nobody marked reviewed
    callbacks: int  # callback requests not closed yet


async def overnight_counts(request: web.Request) -> OvernightCounts:
    """Count last night's conversations, crisis conversations and waiting callbacks."""
    closing = closed_at(request.app)
    since = closing.timestamp() if closing else None
    recent, _ = await conversation_summaries(
        request, ListFilters(active_since=since, hide_short=True)
    )
    unreviewed_crisis, _ = await conversation_summaries(request, ListFilters(crisis=True), False)
    callbacks, _ = await conversation_summaries(request, ListFilters(callback=True))
    async with request.app[APP_DB].connect() as conn:
        work = await staff.callback_work(conn, [r.conversation_id for r in callbacks])
    waiting = [
        r
        for r in callbacks
        if work.get(r.conversation_id) is None or work[r.conversation_id].status != "closed"
    ]
    return OvernightCounts(
        closed_at=closing,
        new=len(recent),
        crisis=sum(1 for r in recent if r.crisis),
        older_crisis=sum(1 for r in unreviewed_crisis if since is not None and r.last_at < since),
        callbacks=len(waiting),
    )


async def home_context(request: web.Request) -> dict[str, Any]:
    """Template context processor: ``overnight`` counts on the home page for admissions staff."""
    user = request.get(USER)
    if request.method != "GET" or request.path not in HOME_PATHS or user is None:
        return {}
    if not user.has_role("admissions"):
        return {}
    return {"overnight": await overnight_counts(request)}
