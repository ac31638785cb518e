"""Intents with their example counts, and adding examples to one directly (one per line)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admissions.training import inbox, nludata, pii
from admissions.training.settings import TrainingSettings
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, USER
from admissions.web.responses import redirect
from admissions.web.views.training.common import settings_of, writer

MAX_DIRECT_EXAMPLES = 50
INTENTS = "staff/training/intents.html"


def intent_choices(settings: TrainingSettings) -> list[tuple[str, int]]:
    """Every intent a trainer may choose, with its number of training examples."""
    counts = nludata.intent_counts(settings.nlu_dir)
    return [(name, counts.get(name, 0)) for name in nludata.trainable_intents(settings.domain)]


async def _intents_context(
    request: web.Request, *, error: str | None = None, lines: str = "", intent: str = ""
) -> dict[str, Any]:
    settings = settings_of(request)
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
        "intents": intent_choices(settings),
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
@aiohttp_jinja2.template(INTENTS)
async def intents_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/training/intents: every intent with its example count; add examples."""
    return await _intents_context(request)


@auth.protected("trainer", action="nlu_example_add")
async def examples_add(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/examples: add examples (one per line) to an intent."""
    form = await request.post()
    intent = str(form.get("intent", "")).strip()
    lines = str(form.get("examples", ""))[:20000]
    texts = [line.strip() for line in lines.splitlines() if line.strip()]
    ctx = request[AUDIT]
    ctx.detail = {"intent": intent, "examples": len(texts)}

    async def refuse(message: str) -> web.StreamResponse:
        context = await _intents_context(request, error=message, lines=lines, intent=intent)
        return aiohttp_jinja2.render_template(INTENTS, request, context, status=400)

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
        result = await asyncio.to_thread(writer(settings_of(request)).append, intent, texts)
    except nludata.ExampleProblem as exc:
        ctx.detail.update(refused="invalid")
        return await refuse(str(exc))
    file = result.file.name if result.file else None
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
                data_file=file,
            )
    ctx.detail.update(added=len(result.added), present=len(result.present), file=file)
    query = urlencode({"intent": intent, "added": str(len(result.added))})
    return redirect(f"/staff/training/intents?{query}")
