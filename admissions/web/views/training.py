"""Retraining pages (role ``trainer``): the NLU inbox, annotating, adding examples, intents,
training runs with their report, and the model history with promote / roll back.

Visitor text appears only on the inbox, annotate and conversation pages (audited like
transcripts). A trainer reads only messages that are in the inbox (they fell back, scored low,
were re-asked, read back and changed, corrected later or flagged; never callback-form answers)
and, around one of them, the assistant's turn before and after with
personal details masked; whole transcripts need the ``admissions`` role. Nothing enters the
training data while it holds a phone number, an email address or a name
(``admissions.training.pii``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from admissions.db import transcripts
from admissions.db.models import NLU_DECISIONS
from admissions.training import history, inbox, intents, nludata, pii, pipeline, promote
from admissions.training.gate import points
from admissions.training.rasa_api import RasaError
from admissions.training.settings import TrainingSettings
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, SETTINGS, TRACKER_DB, TRAINING, USER
from admissions.web.responses import redirect
from admissions.web.templating import conversation_url, path_segment
from admissions.web.transcript import Turn, build
from admissions.web.views.forms import page_number

logger = logging.getLogger(__name__)

IGNORE = "__ignore__"
MAX_DIRECT_EXAMPLES = 50
CONTEXT_TURNS = 1  # assistant turns shown before and after a message to trainers
FULL_TRANSCRIPT_ROLE = "admissions"


def _settings(request: web.Request) -> TrainingSettings:
    return request.app[TRAINING]


def _writer(settings: TrainingSettings) -> nludata.DataWriter:
    return nludata.DataWriter(
        settings.nlu_dir, settings.domain, settings.heldout_dir, settings.work_dir / "data.lock"
    )


def _int(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        raise web.HTTPNotFound() from None
    if number < 1:
        raise web.HTTPNotFound()
    return number


def training_conversation_url(conversation_id: str, event_id: int | None = None) -> str:
    """The trainer's view of a conversation, around one visitor message when given."""
    url = f"/staff/training/conversations/{path_segment(conversation_id)}"
    return url if event_id is None else f"{url}?event={event_id}#e{event_id}"


def _reads_transcripts(request: web.Request) -> bool:
    return request[USER].has_role(FULL_TRANSCRIPT_ROLE)


async def _in_inbox(request: web.Request, item: inbox.InboxItem) -> bool:
    """Whether ``item`` is an inbox message (the only visitor text a trainer may read)."""
    async with request.app[APP_DB].connect() as conn:
        flagged = await inbox.flagged_ids(conn)
    async with request.app[TRACKER_DB].connect() as tracker:
        reasons = await inbox.reasons_for(
            tracker, item, _settings(request).inbox_threshold, flagged
        )
    return bool(reasons)


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


def _intent_choices(settings: TrainingSettings) -> list[tuple[str, int]]:
    counts = nludata.intent_counts(settings.nlu_dir)
    return [(name, counts.get(name, 0)) for name in nludata.trainable_intents(settings.domain)]


# ----- inbox ----------------------------------------------------------------------------------
@auth.protected("trainer", action="nlu_inbox")
@aiohttp_jinja2.template("staff/training/inbox.html")
async def inbox_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/training/inbox: messages the model was unsure about, newest first."""
    settings = _settings(request)
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
    full = _reads_transcripts(request)
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
    event_id = _int(request.match_info.get("eid"))
    async with request.app[TRACKER_DB].connect() as tracker:
        item = await inbox.user_event(tracker, event_id)
    if item is None:
        raise web.HTTPNotFound(text="No visitor message with that id (it may have been purged).")
    request[AUDIT].conversation_id = item.conversation_id
    if not _reads_transcripts(request) and not await _in_inbox(request, item):
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
    settings = _settings(request)
    # Staff who do not read transcripts see the message with personal details replaced,
    # and that is also the example text offered to them.
    message = item.text if _reads_transcripts(request) else pii.redact(item.text)
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
    return aiohttp_jinja2.render_template("staff/training/annotate.html", request, context)


@auth.protected("trainer", action="nlu_annotate")
async def item_decide(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/inbox/{eid}: accept with an intent, replace details, or ignore."""
    item = await _item(request)
    settings = _settings(request)
    form = await request.post()
    action = str(form.get("action", "accept"))
    text = str(form.get("text", item.text))[:2000]
    intent = str(form.get("intent", "")).strip()
    user = request[USER]
    ctx = request[AUDIT]
    ctx.detail = {"event": item.event_id, "decision": action}

    async def render(status: int, **kw: Any) -> web.StreamResponse:
        context = await _item_context(request, item, text=text, intent=intent or None, **kw)
        return aiohttp_jinja2.render_template(
            "staff/training/annotate.html", request, context, status=status
        )

    if action == "ignore" or intent == IGNORE:
        async with request.app[APP_DB].begin() as conn:
            await inbox.record_decision(
                conn,
                text=item.text,
                decision="ignore",
                by=user.username,
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
    if not intent:
        ctx.detail.update(decision="accept", refused="no intent")
        return await render(
            400, error="Choose what the visitor meant (one of the intents below) first."
        )
    findings = pii.find(text)
    if findings:
        ctx.detail.update(
            decision="accept", refused="personal details", found=sorted({f.kind for f in findings})
        )
        return await render(
            400,
            error=f"This example still contains {pii.describe(findings)}. Remove or replace "
            "them (the button below does it) before it can become training data.",
        )
    try:
        result = await asyncio.to_thread(_writer(settings).append, intent, [text])
    except nludata.ExampleProblem as exc:
        ctx.detail.update(decision="accept", refused="invalid", intent=intent)
        return await render(400, error=str(exc))
    cleaned = result.added[0] if result.added else result.present[0]
    file = result.file.name if result.file else None
    async with request.app[APP_DB].begin() as conn:
        await inbox.record_decision(
            conn,
            text=item.text,
            decision="out_of_scope" if intent == "out_of_scope" else "intent",
            by=user.username,
            source="inbox",
            intent=intent,
            example=cleaned,
            data_file=file,
            event_id=item.event_id,
            conversation_id=item.conversation_id,
        )
    ctx.detail.update(
        decision="accept",
        intent=intent,
        file=file,
        added=len(result.added),
        edited=nludata.normalise(cleaned) != nludata.normalise(item.text),
    )
    return redirect("/staff/training/inbox?done=" + ("added" if result.added else "present"))


# ----- flag from a transcript / the trainer's conversation view --------------------------------
@auth.protected("admissions", "trainer", action="nlu_flag")
async def flag(request: web.Request) -> web.StreamResponse:
    """POST /staff/conversations/{cid}/flag: send one visitor message to the NLU inbox."""
    cid = request.match_info["cid"]
    form = await request.post()
    event_id = _int(str(form.get("event_id", "")))
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
    if not _reads_transcripts(request) and not await _in_inbox(request, item):
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
    full = _reads_transcripts(request)
    focus = request.query.get("event") or request.query.get("flagged") or ""
    if not full and not focus:
        raise web.HTTPForbidden(
            text="Open a message from the NLU inbox: whole transcripts need the admissions role."
        )
    event_id = _int(focus) if focus else 0
    if not full:
        async with request.app[TRACKER_DB].connect() as tracker:
            item = await inbox.user_event(tracker, event_id)
        if item is None or item.conversation_id != cid or not await _in_inbox(request, item):
            raise web.HTTPNotFound(text="That message is not in the NLU inbox.")
    async with request.app[TRACKER_DB].connect() as conn:
        events = await transcripts.conversation_events(conn, cid)
    if not events:
        raise web.HTTPNotFound(text="No conversation with that id (it may have been purged).")
    transcript = build(cid, events)
    if transcript.forget_requested:
        raise web.HTTPGone(text="The visitor asked to be forgotten.")
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


# ----- intents and direct examples ------------------------------------------------------------
async def _intents_context(
    request: web.Request, *, error: str | None = None, lines: str = "", intent: str = ""
) -> dict[str, Any]:
    settings = _settings(request)
    blocks = nludata.load_blocks(settings.nlu_dir)
    files: dict[str, list[str]] = {}
    for block in blocks:
        files.setdefault(block.intent, [])
        if block.file.name not in files[block.intent]:
            files[block.intent].append(block.file.name)
    shown = request.query.get("intent", "") or intent
    examples = [t for b in blocks if b.intent == shown for t in b.examples]
    findings = {i: pii.find(line) for i, line in enumerate(lines.splitlines()) if line.strip()}
    return {
        "intents": _intent_choices(settings),
        "files": files,
        "shown": shown,
        "examples": examples,
        "error": error,
        "lines": lines,
        "line_findings": [
            (line, pii.segments(line, findings.get(i, [])))
            for i, line in enumerate(lines.splitlines())
            if findings.get(i)
        ],
        "selected": intent or shown,
        "added": request.query.get("added", ""),
    }


@auth.protected("trainer", action="nlu_intents_view", audit_success=False)
async def intents_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/intents: every intent with its example count; add examples."""
    context = await _intents_context(request)
    return aiohttp_jinja2.render_template("staff/training/intents.html", request, context)


@auth.protected("trainer", action="nlu_example_add")
async def examples_add(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/examples: add examples (one per line) to an intent."""
    settings = _settings(request)
    form = await request.post()
    intent = str(form.get("intent", "")).strip()
    lines = str(form.get("examples", ""))[:20000]
    texts = [line.strip() for line in lines.splitlines() if line.strip()]
    ctx = request[AUDIT]
    ctx.detail = {"intent": intent, "examples": len(texts)}

    async def refuse(message: str) -> web.StreamResponse:
        context = await _intents_context(request, error=message, lines=lines, intent=intent)
        return aiohttp_jinja2.render_template(
            "staff/training/intents.html", request, context, status=400
        )

    if not texts:
        return await refuse("Write at least one example (one per line).")
    if len(texts) > MAX_DIRECT_EXAMPLES:
        return await refuse(f"Add at most {MAX_DIRECT_EXAMPLES} examples at a time.")
    found = [pii.find(t) for t in texts]
    if any(found):
        kinds = sorted({f.kind for fs in found for f in fs})
        ctx.detail.update(refused="personal details", found=kinds)
        return await refuse(
            "Some examples contain personal details (highlighted below). Replace them, e.g. "
            "a name with NAME and a phone number with 555-0100, then add them again."
        )
    try:
        result = await asyncio.to_thread(_writer(settings).append, intent, texts)
    except nludata.ExampleProblem as exc:
        ctx.detail.update(refused="invalid")
        return await refuse(str(exc))
    async with request.app[APP_DB].begin() as conn:
        for text in result.added:
            await inbox.record_decision(
                conn,
                text=text,
                decision="out_of_scope" if intent == "out_of_scope" else "intent",
                by=request[USER].username,
                source="direct",
                intent=intent,
                example=text,
                data_file=result.file.name if result.file else None,
            )
    ctx.detail.update(
        added=len(result.added),
        present=len(result.present),
        file=result.file.name if result.file else None,
    )
    query = urlencode({"intent": intent, "added": str(len(result.added))})
    return redirect(f"/staff/training/intents?{query}")


# ----- training runs --------------------------------------------------------------------------
def _spawn(settings: TrainingSettings, run_id: int) -> None:
    """Start the background job that carries out run ``run_id`` (same code as the CLI)."""
    log = settings.work_dir / f"run-{run_id}" / "run.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.to_env()}
    with log.open("ab") as handle:
        popen = subprocess.Popen(
            [sys.executable, "-m", "admissions.training", "retrain", "--run-id", str(run_id)],
            cwd=settings.project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    threading.Thread(target=popen.wait, name=f"training-run-{run_id}", daemon=True).start()


async def _runs_context(request: web.Request, error: str | None = None) -> dict[str, Any]:
    settings = _settings(request)
    engine = request.app[APP_DB]
    await pipeline.reap_stale(settings, engine)
    async with engine.connect() as conn:
        runs = await history.list_runs(conn, 30)
        live = await history.live(conn)
        since = await _examples_since(conn, live)
    return {
        "runs": runs,
        "busy": pipeline.busy(settings) or any(r.status in history.ACTIVE_STATUSES for r in runs),
        "live": live,
        "since": since,
        "error": error,
        "live_file_exists": settings.live_model.exists(),
    }


async def _examples_since(conn: Any, live: history.LiveModel | None) -> int:
    d = NLU_DECISIONS
    query = sa.select(sa.func.count()).where(d.c.decision != "ignore")
    if live is not None:
        query = query.where(d.c.decided_at > live.event_at)
    return int((await conn.execute(query)).scalar_one())


@auth.protected("trainer", action="training_runs_view", audit_success=False)
async def runs_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/runs: start a retraining; recent runs."""
    context = await _runs_context(request)
    return aiohttp_jinja2.render_template("staff/training/runs.html", request, context)


@auth.protected("trainer", action="retrain")
async def runs_start(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/runs: queue a retraining and start its background job."""
    settings = _settings(request)
    engine = request.app[APP_DB]
    form = await request.post()
    auto = str(form.get("promote", "")) == "yes"
    await pipeline.reap_stale(settings, engine)
    async with engine.connect() as conn:
        active = await history.active_runs(conn)
    if active or pipeline.busy(settings):
        request[AUDIT].detail = {"refused": "busy"}
        context = await _runs_context(
            request, error="A training is already running. Only one runs at a time."
        )
        return aiohttp_jinja2.render_template(
            "staff/training/runs.html", request, context, status=409
        )
    if not settings.rasa_bin.exists():
        request[AUDIT].detail = {"refused": "no rasa"}
        context = await _runs_context(
            request,
            error=f"The Rasa command is missing ({settings.rasa_bin}): the assistant's "
            "environment is not installed here (make setup). Nothing was started.",
        )
        return aiohttp_jinja2.render_template(
            "staff/training/runs.html", request, context, status=400
        )
    async with engine.begin() as conn:
        run_id = await history.create_run(conn, request[USER].username, auto)
    try:
        await asyncio.to_thread(_spawn, settings, run_id)
    except OSError as exc:
        async with engine.begin() as conn:
            await history.update_run(
                conn,
                run_id,
                status="failed",
                finished_at=history.now(),
                explanation=f"The training job could not be started ({exc}).",
            )
    request[AUDIT].detail = {"run": run_id, "promote": auto}
    return redirect(f"/staff/training/runs/{run_id}")


@auth.protected("trainer", action="training_run_view", audit_success=False)
async def run_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/runs/{rid}: progress while it runs, then the report."""
    settings = _settings(request)
    run_id = _int(request.match_info.get("rid"))
    await pipeline.reap_stale(settings, request.app[APP_DB])
    async with request.app[APP_DB].connect() as conn:
        row = await history.get_run(conn, run_id)
        if row is None:
            raise web.HTTPNotFound()
        candidate = await history.get_model(conn, row.candidate_id) if row.candidate_id else None
        live = await history.live(conn)
    report = pipeline.report_of(row)
    return aiohttp_jinja2.render_template(
        "staff/training/run.html",
        request,
        {
            "run": row,
            "steps": history.loads(row.steps) or [],
            "report": report,
            "candidate": candidate,
            "live": live,
            "active": row.status in history.ACTIVE_STATUSES,
            "points": points,
            "has_matrix": {
                which: _matrix_path(settings, row, which) is not None
                for which in ("candidate", "live")
            },
        },
    )


def _matrix_path(settings: TrainingSettings, row: Any, which: str) -> Path | None:
    report = pipeline.report_of(row)
    key = {"candidate": "candidate", "live": "baseline"}.get(which)
    if not report or key is None or not report.get(key):
        return None
    raw = report[key].get("heldout", {}).get("confusion_matrix")
    if not raw:
        return None
    path = Path(raw).resolve()
    root = settings.work_dir.resolve()
    if root not in path.parents or path.suffix != ".png" or not path.is_file():
        return None
    return path


@auth.protected("trainer", action="training_matrix_view", audit_success=False)
async def run_matrix(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/runs/{rid}/confusion-{which}.png: the confusion-matrix image."""
    run_id = _int(request.match_info.get("rid"))
    async with request.app[APP_DB].connect() as conn:
        row = await history.get_run(conn, run_id)
    path = _matrix_path(_settings(request), row, request.match_info.get("which", ""))
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


# ----- model history, promote, roll back ------------------------------------------------------
async def _models_context(request: web.Request, error: str | None = None) -> dict[str, Any]:
    settings = _settings(request)
    server_model = None
    server_error = None
    try:
        status = await promote.server_for(settings).status()
        server_model = Path(str(status.get("model_file") or "")).name or None
    except RasaError as exc:
        server_error = str(exc)
    async with request.app[APP_DB].connect() as conn:
        models = await history.list_models(conn)
        events = await history.model_events(conn, 20)
    return {
        "models": models,
        "events": events,
        "error": error,
        "server_model": server_model,
        "server_error": server_error,
        "points": points,
        "basename": lambda p: Path(p).name,
    }


@auth.protected("trainer", action="models_view", audit_success=False)
async def models_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/models: every model with metrics, who trained / promoted it, when."""
    context = await _models_context(request)
    return aiohttp_jinja2.render_template("staff/training/models.html", request, context)


async def _go_live(request: web.Request, action: str) -> web.StreamResponse:
    model_id = _int(request.match_info.get("mid"))
    request[AUDIT].detail = {"model": model_id}
    try:
        result = await promote.go_live(
            _settings(request),
            request.app[APP_DB],
            model_id,
            by=request[USER].username,
            action=action,
        )
    except promote.PromotionError as exc:
        request[AUDIT].detail["error"] = str(exc)[:300]
        status = 502 if "Rasa server" in str(exc) else 400
        context = await _models_context(request, error=str(exc))
        return aiohttp_jinja2.render_template(
            "staff/training/models.html", request, context, status=status
        )
    request[AUDIT].detail.update(previous=result.previous_id, seconds=round(result.seconds, 1))
    return redirect(f"/staff/training/models?live={model_id}")


@auth.protected("trainer", action="model_promote")
async def model_promote(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/models/{mid}/promote: load a gate-passed model into Rasa."""
    return await _go_live(request, "promote")


@auth.protected("trainer", action="model_rollback")
async def model_rollback(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/models/{mid}/rollback: go back to a model that was live before."""
    return await _go_live(request, "rollback")


def setup_routes(app: web.Application) -> None:
    """Register the retraining routes."""
    r = app.router
    r.add_get("/staff/training/inbox", inbox_page, name="staff.training_inbox")
    r.add_get("/staff/training/inbox/{eid}", item_page, name="staff.training_item")
    r.add_post("/staff/training/inbox/{eid}", item_decide)
    r.add_post("/staff/conversations/{cid}/flag", flag, name="staff.flag")
    r.add_get(
        "/staff/training/conversations/{cid}", conversation_page, name="staff.training_conversation"
    )
    r.add_get("/staff/training/intents", intents_page, name="staff.training_intents")
    r.add_post("/staff/training/examples", examples_add, name="staff.training_examples")
    r.add_get("/staff/training/runs", runs_page, name="staff.training_runs")
    r.add_post("/staff/training/runs", runs_start)
    r.add_get("/staff/training/runs/{rid}", run_page, name="staff.training_run")
    r.add_get(
        "/staff/training/runs/{rid}/confusion-{which}.png", run_matrix, name="staff.training_matrix"
    )
    r.add_get("/staff/training/models", models_page, name="staff.training_models")
    r.add_post("/staff/training/models/{mid}/promote", model_promote)
    r.add_post("/staff/training/models/{mid}/rollback", model_rollback)
