"""The NLU inbox and annotating one message: accept it into an intent (after its personal
details are replaced), or ignore it.

A trainer reads only messages that are in the inbox; staff with the ``admissions`` role read
them as said, others with personal details masked. Nothing enters the training data while it
holds a phone number, an email address or a name (``admissions.training.pii``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.training import inbox, intents, nludata, pii
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, SETTINGS, TRACKER_DB, USER
from admissions.web.responses import redirect
from admissions.web.views.forms import page_number
from admissions.web.views.training.common import (
    id_from,
    in_inbox,
    reads_transcripts,
    settings_of,
    training_conversation_url,
    writer,
)

IGNORE = "__ignore__"
ANNOTATE = "staff/training/annotate.html"


@auth.protected("trainer", action="nlu_inbox")
@aiohttp_jinja2.template("staff/training/inbox.html")
async def inbox_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/training/inbox: messages the model was unsure about, newest first."""
    settings = settings_of(request)
    page = page_number(request.query)
    size = request.app[SETTINGS].page_size
    async with request.app[TRACKER_DB].connect() as tracker, request.app[APP_DB].connect() as app:
        items = await inbox.inbox(tracker, app, settings.inbox_threshold, settings.inbox_scan_limit)
        recent = await inbox.recent_decisions(app, 10)
    total = len(items)
    rows = items[(page - 1) * size : page * size]
    # which visitors' words were on screen, as exports record it (issue 15 #8)
    ids = sorted({r.conversation_id for r in rows})
    request[AUDIT].detail = {"page": page, "items": total, "ids": ids}
    full = reads_transcripts(request)
    return {
        "rows": rows,
        "shown": {r.event_id: r.text if full else pii.redact(r.text) for r in rows},
        "pii_found": {r.event_id: bool(pii.find(r.text)) for r in rows},
        "total": total,
        "page": page,
        "pages": max(1, -(-total // size)),
        "threshold": settings.inbox_threshold,
        "reasons": list(inbox.REASONS.items()),
        "reason_words": inbox.REASONS,
        "recent": recent,
        "done": request.query.get("done", ""),
        "training_conversation_url": training_conversation_url,
    }


async def _item(request: web.Request) -> inbox.InboxItem:
    event_id = id_from(request.match_info.get("eid"))
    async with request.app[TRACKER_DB].connect() as tracker:
        item = await inbox.user_event(tracker, event_id)
    if item is None:
        raise web.HTTPNotFound(text="No visitor message with that id (it may have been purged).")
    request[AUDIT].conversation_id = item.conversation_id
    if not reads_transcripts(request) and not await in_inbox(request, item):
        raise web.HTTPNotFound(text="That message is not in the NLU inbox.")
    return item


async def _item_context(
    request: web.Request,
    item: inbox.InboxItem,
    *,
    text: str | None = None,
    intent: str | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    settings = settings_of(request)
    # Staff who do not read transcripts see the message with personal details replaced,
    # and that is also the example text offered to them.
    message = item.text if reads_transcripts(request) else pii.redact(item.text)
    text = message if text is None else text
    findings = pii.find(text)
    async with request.app[TRACKER_DB].connect() as tracker:
        count = await inbox.occurrences(tracker, item.text)
    async with request.app[APP_DB].connect() as app:
        decided = await inbox.decided_keys(app, [item.key])
    known = nludata.known_texts(settings.nlu_dir).get(nludata.normalise(text))
    async with request.app[APP_DB].connect() as app:
        flagged = await inbox.flagged_ids(app)
    async with request.app[TRACKER_DB].connect() as tracker:
        reasons = await inbox.reasons_for(tracker, item, settings.inbox_threshold, flagged)
    return {
        "item": item,
        "message": message,
        "text": text,
        "findings": findings,
        "segments": pii.segments(text, findings),
        "pii_summary": pii.describe(findings),
        "guide": intents.guide(settings.nlu_dir, settings.domain),
        # Never the model's guess: one click on Accept must not teach its mistake (issue 13).
        # Only what this trainer chose before the page came back (an error, a replacement).
        "selected": intent or "",
        "reasons": [(r, inbox.REASONS.get(r, "")) for r in reasons],
        "occurrences": count,
        "decided": bool(decided),
        "known_as": known,
        "error": error,
        "notice": notice,
        "can_view_transcript": request[USER].has_role("admissions"),
        "training_conversation_url": training_conversation_url,
    }


@auth.protected("trainer", action="nlu_item_view")
async def item_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/inbox/{eid}: annotate one message."""
    item = await _item(request)
    request[AUDIT].detail = {"event": item.event_id}
    context = await _item_context(request, item)
    return aiohttp_jinja2.render_template(ANNOTATE, request, context)


@auth.protected("trainer", action="nlu_annotate")
async def item_decide(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/inbox/{eid}: accept with an intent, replace details, or ignore."""
    item = await _item(request)
    form = await request.post()
    action = str(form.get("action", "accept"))
    text = str(form.get("text", item.text))[:2000]
    intent = str(form.get("intent", "")).strip()
    ctx = request[AUDIT]
    ctx.detail = {"event": item.event_id, "decision": action}

    async def render(status: int, **kw: Any) -> web.StreamResponse:
        context = await _item_context(request, item, text=text, intent=intent or None, **kw)
        return aiohttp_jinja2.render_template(ANNOTATE, request, context, status=status)

    if action == "ignore" or intent == IGNORE:
        async with request.app[APP_DB].begin() as conn:
            await inbox.record_decision(
                conn,
                text=item.text,
                decision="ignore",
                by=request[USER].username,
                source="inbox",
                event_id=item.event_id,
                conversation_id=item.conversation_id,
            )
        ctx.detail["decision"] = "ignore"
        return redirect("/staff/training/inbox?done=ignored")
    if action == "redact":
        findings = pii.find(text)
        ctx.detail.update(decision="redact", replaced=sorted({f.kind for f in findings}))
        text = pii.redact(text, findings)
        return await render(
            200,
            notice="Personal details were replaced. Read the sentence again, then accept it."
            if findings
            else "No personal details were found.",
        )
    if action != "accept":
        raise web.HTTPBadRequest(text="Unknown action.")
    ctx.detail["decision"] = "accept"
    refusal = _refusal(text, intent, ctx.detail)
    if refusal:
        return await render(400, error=refusal)
    return await _accept(request, item, text, intent, render)


def _refusal(text: str, intent: str, detail: dict[str, Any]) -> str | None:
    """Why ``text`` cannot be accepted as an example yet (noted in the audit ``detail``)."""
    if not intent:
        detail["refused"] = "no intent"
        return "Choose what the visitor meant (one of the intents below) first."
    findings = pii.find(text)
    if findings:
        detail.update(refused="personal details", found=sorted({f.kind for f in findings}))
        return (
            f"This example still contains {pii.describe(findings)}. Remove or replace "
            "them (the button below does it) before it can become training data."
        )
    return None


async def _accept(
    request: web.Request,
    item: inbox.InboxItem,
    text: str,
    intent: str,
    render: Callable[..., Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Write ``text`` as an example of ``intent`` and remember the decision."""
    ctx = request[AUDIT]
    try:
        result = await asyncio.to_thread(writer(settings_of(request)).append, intent, [text])
    except nludata.ExampleProblem as exc:
        ctx.detail.update(refused="invalid", intent=intent)
        return await render(400, error=str(exc))
    cleaned = result.added[0] if result.added else result.present[0]
    file = result.file.name if result.file else None
    async with request.app[APP_DB].begin() as conn:
        await inbox.record_decision(
            conn,
            text=item.text,
            decision="out_of_scope" if intent == "out_of_scope" else "intent",
            by=request[USER].username,
            source="inbox",
            intent=intent,
            example=cleaned,
            data_file=file,
            event_id=item.event_id,
            conversation_id=item.conversation_id,
        )
    ctx.detail.update(
        intent=intent,
        file=file,
        added=len(result.added),
        edited=nludata.normalise(cleaned) != nludata.normalise(item.text),
    )
    return redirect("/staff/training/inbox?done=" + ("added" if result.added else "present"))
