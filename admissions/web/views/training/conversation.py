"""A conversation as the NLU read it (trainers), and flagging a message for the inbox.

Staff with the ``admissions`` role see the whole chat. Other trainers see one inbox message and
the assistant's turn before and after it, with personal details masked; never callback-form
answers (``admissions.training.inbox``).
"""

from __future__ import annotations

import dataclasses

import aiohttp_jinja2
from aiohttp import web

from admissions.training import inbox, pii
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, TRACKER_DB, USER
from admissions.web.responses import redirect
from admissions.web.templating import conversation_url
from admissions.web.transcript import Turn
from admissions.web.views.lookup import load_transcript
from admissions.web.views.training.common import (
    id_from,
    in_inbox,
    reads_transcripts,
    training_conversation_url,
)

CONTEXT_TURNS = 1  # assistant turns shown before and after a message to trainers


def masked_context(turns: list[Turn], event_id: int, around: int = CONTEXT_TURNS) -> list[Turn]:
    """The visitor message ``event_id`` and the assistant turns right around it, PII masked."""
    index = next((i for i, t in enumerate(turns) if t.event_id == event_id), None)
    if index is None:
        return []
    shown = [turns[index]]
    for step in (-1, 1):
        position = index + step
        taken = 0
        while 0 <= position < len(turns) and taken < around:
            if turns[position].kind != "assistant":
                break
            shown.insert(0 if step < 0 else len(shown), turns[position])
            taken += 1
            position += step
    return [
        dataclasses.replace(
            turn,
            text=pii.redact(turn.text),
            buttons=[pii.redact(b) for b in turn.buttons],
            entities=[],  # entity values are the visitor's words
        )
        for turn in shown
    ]


@auth.protected("admissions", "trainer", action="nlu_flag")
async def flag(request: web.Request) -> web.StreamResponse:
    """POST /staff/conversations/{cid}/flag: send one visitor message to the NLU inbox."""
    cid = request.match_info["cid"]
    form = await request.post()
    event_id = id_from(str(form.get("event_id", "")))
    async with request.app[TRACKER_DB].connect() as tracker:
        item = await inbox.user_event(tracker, event_id)
    if item is None or item.conversation_id != cid:
        raise web.HTTPNotFound(text="No such visitor message in this conversation.")
    async with request.app[TRACKER_DB].connect() as tracker:
        private = await inbox.is_private(tracker, item)
    if private:
        request[AUDIT].detail = {"event": event_id, "refused": "callback form answer"}
        raise web.HTTPBadRequest(
            text="This is an answer to the callback form or to the handoff packet's questions "
            "(personal details): it never goes to the retraining inbox."
        )
    if not reads_transcripts(request) and not await in_inbox(request, item):
        # Flagging puts a message in front of trainers: only those who may read it choose.
        raise web.HTTPForbidden(text="Only staff who read transcripts can flag this message.")
    async with request.app[APP_DB].begin() as conn:
        new = await inbox.flag(conn, event_id, cid, request[USER].username)
    request[AUDIT].detail = {"event": event_id, "new": new}
    back = str(form.get("back", ""))
    if back == "training" and request[USER].has_role("trainer"):
        return redirect(training_conversation_url(cid) + f"?flagged={event_id}#e{event_id}")
    if request[USER].has_role("admissions"):
        return redirect(conversation_url(cid) + f"?flagged={event_id}#e{event_id}")
    return redirect(training_conversation_url(cid) + f"?flagged={event_id}#e{event_id}")


@auth.protected("trainer", action="nlu_conversation_view")
async def conversation_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/conversations/{cid}?event=N: what the NLU understood.

    Staff with the ``admissions`` role see the whole chat. Other trainers see one inbox
    message and the assistant's turns around it, with personal details masked.
    """
    cid = request.match_info["cid"]
    full = reads_transcripts(request)
    focus = request.query.get("event") or request.query.get("flagged") or ""
    if not full and not focus:
        raise web.HTTPForbidden(
            text="Open a message from the NLU inbox: whole transcripts need the admissions role."
        )
    event_id = id_from(focus) if focus else 0
    if not full:
        async with request.app[TRACKER_DB].connect() as tracker:
            item = await inbox.user_event(tracker, event_id)
        if item is None or item.conversation_id != cid or not await in_inbox(request, item):
            raise web.HTTPNotFound(text="That message is not in the NLU inbox.")
    transcript, _ = await load_transcript(request, cid)
    turns = transcript.turns
    if not full:
        turns = masked_context(turns, event_id)
        request[AUDIT].detail = {"event": event_id, "view": "context"}
    async with request.app[APP_DB].connect() as conn:
        flagged = await inbox.flagged_ids(conn)
    return aiohttp_jinja2.render_template(
        "staff/training/conversation.html",
        request,
        {
            "turns": turns,
            "full": full,
            "cid": cid,
            "flagged": flagged,
            "just_flagged": request.query.get("flagged", ""),
            "can_view_transcript": full,
        },
    )
