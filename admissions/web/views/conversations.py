"""The overnight list, the transcript page, notes, review marks and exports."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from admissions.db import outbox, staff, transcripts
from admissions.db.models import NLU_FLAGS
from admissions.handoff import packet
from admissions.web import audit, auth, export
from admissions.web.keys import APP_DB, AUDIT, FACILITY, SETTINGS, TRACKER_DB, USER
from admissions.web.packet_words import packet_sections
from admissions.web.responses import redirect
from admissions.web.templating import conversation_url
from admissions.web.transcript import Transcript, build
from admissions.web.views.forms import parse_list_form
from admissions.web.views.lookup import conversation_summaries, load_transcript
from admissions.web.views.overnight import closed_at

MAX_NOTE_LENGTH = 4000


async def _load(request: web.Request, conversation_id: str) -> Transcript:
    return (await load_transcript(request, conversation_id))[0]


@auth.protected("admissions", action="list")
@aiohttp_jinja2.template("staff/conversations.html")
async def conversation_list(request: web.Request) -> dict[str, Any]:
    """GET /staff/conversations: who chatted, crisis and callbacks first; no message text.

    Opened without filters it shows last night: conversations since the line closed, empty
    one- or two-turn chats hidden (the form's "Show" and "Short chats" change both).
    """
    tz = request.app[FACILITY].admissions.tz
    closing = closed_at(request.app)
    form = parse_list_form(request.query, tz, closing.timestamp() if closing else None)
    page_size = request.app[SETTINGS].page_size
    matching, ready = await conversation_summaries(request, form.filters, form.reviewed)
    total = len(matching)
    hidden_short = 0
    if form.filters.hide_short:
        every, _ = await conversation_summaries(
            request, dataclasses.replace(form.filters, hide_short=False), form.reviewed
        )
        hidden_short = len(every) - total
    rows = matching[(form.page - 1) * page_size : form.page * page_size]
    ids = [r.conversation_id for r in rows]
    async with request.app[APP_DB].connect() as conn:
        reviews = await staff.reviews_for(conn, ids)
        work = await staff.callback_work(conn, ids)
    ctx = request[AUDIT]
    if form.filters.reference_code:
        ctx.action = "search"
    # which conversations were listed on screen, as exports record it (issue 15 #8)
    ctx.detail = {
        "filters": form.audit_detail(),
        "page": form.page,
        "results": total,
        "ids": sorted(ids),
    }
    pages = max(1, -(-total // page_size))
    return {
        "form": form,
        "rows": rows,
        "total": total,
        "page": form.page,
        "pages": pages,
        "reviews": reviews,
        "work": work,
        "ready": ready,
        "programs": transcripts.PROGRAM_VALUES,
        "closed_at": closing,
        "hidden_short": hidden_short,
    }


@auth.protected("admissions", action="view")
async def transcript_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/conversations/{cid}: the chat, NLU details, slots, fit, notes, review."""
    cid = request.match_info["cid"]
    transcript, events = await load_transcript(request, cid)
    # the handoff packet heads the page (this page is for the admissions role only)
    record = packet.from_events(cid, events)
    async with request.app[APP_DB].connect() as conn:
        delivery = (await outbox.for_conversations(conn, [cid])).get(cid)
        notes = await staff.notes_for(conn, cid)
        review = (await staff.reviews_for(conn, [cid])).get(cid)
        work = (await staff.callback_work(conn, [cid])).get(cid)
        flagged_ids = set(
            (
                await conn.execute(
                    sa.select(NLU_FLAGS.c.event_id).where(NLU_FLAGS.c.conversation_id == cid)
                )
            ).scalars()
        )
    request[AUDIT].detail = {"reference_code": transcript.reference_code}
    if record is not None:
        request[AUDIT].detail["packet_id"] = record["packet_id"]
    just_flagged = _int_or_none(request.query.get("flagged", ""))
    return aiohttp_jinja2.render_template(
        "staff/transcript.html",
        request,
        {
            "t": transcript,
            "notes": notes,
            "review": review,
            "work": work,
            "cid": cid,
            "flagged_ids": flagged_ids,
            # the flag view sends staff back here with ?flagged=<event id>: say it was recorded
            "flagged": just_flagged if just_flagged in flagged_ids else None,
            # the NLU's workings are for the people who retrain it
            "details_open": request[USER].has_role("trainer", "admin"),
            "packet": record,
            "packet_sections": packet_sections(record, _today(request)) if record else [],
            "delivery": delivery,
        },
    )


def _today(request: web.Request) -> date:
    """The facility's date today (ages in the packet are counted on it)."""
    return datetime.now(request.app[FACILITY].admissions.tz).date()


def _set_name(tz: ZoneInfo, fmt: str) -> str:
    """A filtered export's file name: the facility's date of the export."""
    return f"conversations-{datetime.now(tz).date().isoformat()}.{fmt}"


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@auth.protected("admissions", action="note_add")
async def add_note(request: web.Request) -> web.StreamResponse:
    """POST /staff/conversations/{cid}/notes: append a note."""
    cid = request.match_info["cid"]
    await _load(request, cid)
    body = str((await request.post()).get("body", "")).strip()
    if not body or len(body) > MAX_NOTE_LENGTH:
        raise web.HTTPBadRequest(text=f"A note needs 1 to {MAX_NOTE_LENGTH} characters.")
    async with request.app[APP_DB].begin() as conn:
        await staff.add_note(conn, cid, request[USER].username, body)
    return redirect(conversation_url(cid, "#notes"))


@auth.protected("admissions", action="review")
async def set_review(request: web.Request) -> web.StreamResponse:
    """POST /staff/conversations/{cid}/review: mark or unmark as reviewed."""
    cid = request.match_info["cid"]
    await _load(request, cid)
    mark = str((await request.post()).get("reviewed", "yes")) == "yes"
    async with request.app[APP_DB].begin() as conn:
        await staff.set_reviewed(conn, cid, request[USER].username if mark else None)
    request[AUDIT].detail = {"reviewed": mark}
    return redirect(conversation_url(cid))


def _format(request: web.Request) -> str:
    fmt = request.match_info.get("fmt", "csv")
    if fmt not in ("csv", "json"):
        raise web.HTTPNotFound()
    return fmt


@auth.protected("admissions", action="export")
async def export_one(request: web.Request) -> web.StreamResponse:
    """GET /staff/conversations/{cid}/export.{fmt}: one transcript as CSV or JSON."""
    cid = request.match_info["cid"]
    fmt = _format(request)
    transcript = await _load(request, cid)
    tz = request.app[FACILITY].admissions.tz
    request[AUDIT].detail = {"format": fmt, "conversations": 1}
    name = export.file_name(transcript, fmt)
    if fmt == "csv":
        body = export.csv_text(export.csv_rows(transcript, tz), header=True)
        content_type = "text/csv"
    else:
        body = json.dumps(export.json_document(transcript, tz), ensure_ascii=False, indent=2)
        content_type = "application/json"
    return web.Response(
        text=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@auth.protected("admissions", action="export")
async def export_set(request: web.Request) -> web.StreamResponse:
    """GET /staff/export.{fmt}?filters: every matching transcript, streamed.

    The audit row (with every exported conversation id) is stored before anything is sent.
    """
    fmt = _format(request)
    tz = request.app[FACILITY].admissions.tz
    closing = closed_at(request.app)
    form = parse_list_form(request.query, tz, closing.timestamp() if closing else None)
    rows, _ = await conversation_summaries(request, form.filters, form.reviewed)
    ids = [r.conversation_id for r in rows]
    request[AUDIT].detail = {
        "format": fmt,
        "filters": form.audit_detail(),
        "conversations": len(ids),
        "ids": ids,
    }
    await audit.commit(request, "ok")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8" if fmt == "csv" else "application/json",
            "Content-Disposition": f'attachment; filename="{_set_name(tz, fmt)}"',
        }
    )
    await response.prepare(request)
    if fmt == "csv":
        await response.write(export.csv_text([], header=True).encode())
    else:
        await response.write(b"[\n")
    first = True
    for cid in ids:
        async with request.app[TRACKER_DB].connect() as conn:
            events = await transcripts.conversation_events(conn, cid)
        if not events:
            continue
        transcript = build(cid, events)
        if fmt == "csv":
            chunk = export.csv_text(export.csv_rows(transcript, tz))
        else:
            chunk = ("" if first else ",\n") + json.dumps(
                export.json_document(transcript, tz), ensure_ascii=False
            )
        first = False
        await response.write(chunk.encode())
    if fmt == "json":
        await response.write(b"\n]\n")
    await response.write_eof()
    return response
