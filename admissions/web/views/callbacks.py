"""The callback queue: who asked for a call, how to reach them, and where the work stands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from admissions.db import staff, transcripts
from admissions.db.models import CALLBACK_STATUSES, NOTES
from admissions.db.transcripts import ConversationSummary, ListFilters
from admissions.handoff import packet
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, FACILITY, SETTINGS, TRACKER_DB, USER
from admissions.web.packet_words import packet_sections
from admissions.web.responses import redirect
from admissions.web.views.forms import page_number
from admissions.web.views.lookup import conversation_summaries

VIEWS = ("open", "all", *CALLBACK_STATUSES)
# The queue also shows how the visitor would pay (the insurer gets its own column), and the
# handoff packet (what the packet is built from).
QUEUE_SLOTS: tuple[str, ...] = (
    *transcripts.CALLBACK_SLOTS,
    "payer",
    "payment",
    packet.PACKET_SLOT,
    packet.COMPLETE_SLOT,
    "severe_withdrawal",
    "visitor_role",
)
MAX_ATTEMPT_NOTE = 500


def row_anchor(conversation_id: str) -> str:
    """A stable HTML id for a conversation's row (ids may hold any character)."""
    return "cb-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


@dataclass
class CallbackItem:
    """One callback request as the queue shows it."""

    summary: ConversationSummary
    slots: dict[str, Any]
    status: str
    attempts: int
    updated_by: str | None
    updated_at: Any
    last_note: Any = None  # the conversation's latest note (an attempt's note, usually)
    packet_sections: list[Any] | None = None  # the handoff packet in words, when there is one

    @property
    def anchor(self) -> str:
        """The row's HTML id: saving comes back to it."""
        return row_anchor(self.summary.conversation_id)


@auth.protected("admissions", action="callbacks_view")
@aiohttp_jinja2.template("staff/callbacks.html")
async def callback_queue(request: web.Request) -> dict[str, Any]:
    """GET /staff/callbacks: pending requests (crisis first, oldest waiting first)."""
    view = request.query.get("status", "open")
    view = view if view in VIEWS else "open"
    saved = request.query.get("saved", "")  # the row just saved stays, whatever its status
    rows, ready = await conversation_summaries(request, ListFilters(callback=True))
    async with request.app[APP_DB].connect() as conn:
        work = await staff.callback_work(conn, [r.conversation_id for r in rows])
    items = []
    for row in rows:
        w = work.get(row.conversation_id)
        item = CallbackItem(
            summary=row,
            slots={},
            status=w.status if w else "new",
            attempts=w.attempts if w else 0,
            updated_by=w.updated_by if w else None,
            updated_at=w.updated_at if w else None,
        )
        wanted = (
            view == "all" or item.status == view or (view == "open" and item.status != "closed")
        )
        if wanted or item.anchor == saved:
            items.append(item)
    # Crisis first, then oldest first. The status is not part of the order, so saving a new
    # status never moves a row away from where the coordinator is working.
    items.sort(key=lambda i: (not i.summary.crisis, i.summary.last_at))
    page_size = request.app[SETTINGS].page_size
    page = page_number(request.query)
    shown = items[(page - 1) * page_size : page * page_size]
    # Names and numbers are read from the tracker only for the requests on this page.
    async with request.app[TRACKER_DB].connect() as conn:
        slots = await transcripts.latest_slots(
            conn, [i.summary.conversation_id for i in shown], QUEUE_SLOTS
        )
    async with request.app[APP_DB].connect() as conn:
        notes = await _last_notes(conn, [i.summary.conversation_id for i in shown])
    today = datetime.now(request.app[FACILITY].admissions.tz).date()
    for item in shown:
        item.slots = slots.get(item.summary.conversation_id, {})
        item.last_note = notes.get(item.summary.conversation_id)
        if packet.has_packet(item.slots):
            record = packet.build(item.summary.conversation_id, item.slots, None)
            item.packet_sections = packet_sections(record, today)
    # whose names and phone numbers were on screen, as exports record it (issue 15 #8)
    request[AUDIT].detail = {
        "status": view,
        "page": page,
        "results": len(items),
        "ids": sorted(i.summary.conversation_id for i in shown),
        "packets": sum(1 for i in shown if i.packet_sections),
    }
    return {
        "items": shown,
        "view": view,
        "views": VIEWS,
        "statuses": CALLBACK_STATUSES,
        "total": len(items),
        "page": page,
        "pages": max(1, -(-len(items) // page_size)),
        "ready": ready,
        "saved": saved,
    }


async def _last_notes(conn: Any, ids: list[str]) -> dict[str, Any]:
    """The newest note of each of these conversations."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(NOTES).where(NOTES.c.conversation_id.in_(ids)).order_by(NOTES.c.id)
    )
    return {row.conversation_id: row for row in rows}


@auth.protected("admissions", action="callback_status")
async def callback_status(request: web.Request) -> web.StreamResponse:
    """POST /staff/callbacks/{cid}/status: record new / attempted / reached / closed."""
    cid = request.match_info["cid"]
    form = await request.post()
    status = str(form.get("status", ""))
    if status not in CALLBACK_STATUSES:
        raise web.HTTPBadRequest(text="Unknown status.")
    note = " ".join(str(form.get("note", "")).split())
    if len(note) > MAX_ATTEMPT_NOTE:
        raise web.HTTPBadRequest(text=f"A note has at most {MAX_ATTEMPT_NOTE} characters.")
    async with request.app[TRACKER_DB].connect() as conn:
        exists = (
            await conn.execute(
                sa.select(transcripts.events.c.id)
                .where(transcripts.events.c.sender_id == cid)
                .limit(1)
            )
        ).first()
    if exists is None:
        raise web.HTTPNotFound(text="No conversation with that id (it may have been purged).")
    async with request.app[APP_DB].begin() as conn:
        await staff.set_callback_status(conn, cid, status, request[USER].username)
        if note:  # one note per attempt, kept with the conversation's notes
            await staff.add_note(conn, cid, request[USER].username, f"Callback {status}: {note}")
    request[AUDIT].detail = {"status": status, "note": bool(note)}
    back = str(form.get("back", ""))
    target = auth.safe_next(back) if back else "/staff/callbacks"
    if target.startswith("/staff/callbacks"):
        # back to the same row, which says it was saved
        anchor = row_anchor(cid)
        target = f"{target}{'&' if '?' in target else '?'}saved={anchor}#{anchor}"
    return redirect(target)
