"""The handoff packet's downloads (JSON, FHIR R4) and the CRM delivery page with resend.

The packet itself is for the ``admissions`` role only, like transcripts; each download is
audited. The delivery page shows statuses (never packet content) to admissions and admins;
only an admin may send a packet again.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.db import outbox, transcripts
from admissions.handoff import fhir, packet
from admissions.web import auth
from admissions.web import outbox as sender
from admissions.web.export import safe_filename
from admissions.web.keys import APP_DB, AUDIT, SETTINGS, TRACKER_DB, USER
from admissions.web.responses import redirect
from admissions.web.transcript import build
from admissions.web.views.forms import page_number

FORMATS = {"json": "packet", "fhir.json": "packet-fhir"}


async def load_packet(request: web.Request, cid: str) -> dict[str, Any]:
    """The conversation's packet as staff see it now (404 without one, 410 after forget me)."""
    async with request.app[TRACKER_DB].connect() as conn:
        events = await transcripts.conversation_events(conn, cid)
    if not events:
        raise web.HTTPNotFound(text="No conversation with that id (it may have been purged).")
    if build(cid, events).forget_requested:
        raise web.HTTPGone(text="The visitor asked to be forgotten.")
    record = packet.from_events(cid, events)
    if record is None:
        raise web.HTTPNotFound(text="This conversation has no handoff packet.")
    return record


def _download(document: dict[str, Any], name: str, content_type: str) -> web.Response:
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=2),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _file_name(record: dict[str, Any], cid: str, stem: str) -> str:
    code = record.get("reference_code")
    tag = code if code and safe_filename(code) == code else safe_filename(cid)
    return f"{stem}-{tag}.json"


@auth.protected("admissions", action="packet_export")
async def packet_json(request: web.Request) -> web.StreamResponse:
    """GET /staff/conversations/{cid}/packet.json: the packet (schemas/handoff-packet.v1.json)."""
    cid = request.match_info["cid"]
    record = await load_packet(request, cid)
    request[AUDIT].detail = {"format": "json", "packet_id": record["packet_id"]}
    return _download(record, _file_name(record, cid, "packet"), "application/json")


@auth.protected("admissions", action="packet_export")
async def packet_fhir(request: web.Request) -> web.StreamResponse:
    """GET /staff/conversations/{cid}/packet.fhir.json: a FHIR R4 QuestionnaireResponse."""
    cid = request.match_info["cid"]
    record = await load_packet(request, cid)
    request[AUDIT].detail = {"format": "fhir", "packet_id": record["packet_id"]}
    return _download(
        fhir.questionnaire_response(record),
        _file_name(record, cid, "packet-fhir"),
        "application/fhir+json",
    )


@auth.protected("admissions", "admin", action="outbox_view")
@aiohttp_jinja2.template("staff/outbox.html")
async def outbox_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/outbox: each packet's delivery to the CRM (status, attempts, last outcome)."""
    size = request.app[SETTINGS].page_size
    page = page_number(request.query)
    async with request.app[APP_DB].connect() as conn:
        rows, total = await outbox.page(conn, size, (page - 1) * size)
        counts = await outbox.counts(conn)
    request[AUDIT].detail = {"page": page, "results": total}
    webhook = request.app[SETTINGS].webhook
    return {
        "rows": rows,
        "counts": counts,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // size)),
        "configured": webhook.enabled,
        "recipient": sender.recipient(webhook.url) if webhook.enabled else None,
        "resent": request.query.get("resent", ""),
        "can_resend": request[USER].has_role("admin"),
    }


@auth.protected("admin", action="packet_resend")
async def resend(request: web.Request) -> web.StreamResponse:
    """POST /staff/outbox/{cid}/resend: queue a delivered or dead-lettered packet again."""
    cid = request.match_info["cid"]
    async with request.app[APP_DB].begin() as conn:
        row = await outbox.resend(conn, cid, request[USER].username)
    if row is None:
        raise web.HTTPBadRequest(text="Only a delivered or dead-lettered packet can be resent.")
    request[AUDIT].detail = {"packet_id": row.packet_id, "was": row.status}
    sender.wake(request.app)
    return redirect(f"/staff/outbox?resent={row.packet_id}")
