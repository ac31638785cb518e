"""The model history: every model with its metrics, and promote / roll back (a live swap that
runs in the background while the page follows it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.training import go_live_job, history, promote
from admissions.training.gate import points
from admissions.training.rasa_api import RasaError
from admissions.training.settings import TrainingSettings
from admissions.web import audit, auth
from admissions.web.keys import APP_DB, AUDIT, USER
from admissions.web.responses import redirect
from admissions.web.views.training.common import id_from, settings_of

MODELS = "staff/training/models.html"
OUTCOME_SHOWN_SECONDS = 15 * 60  # an old ?switching= link no longer reports "is live now"


async def _models_context(request: web.Request, error: str | None = None) -> dict[str, Any]:
    settings = settings_of(request)
    server_model = None
    server_error = None
    try:
        status = await promote.server_for(settings).status()
        server_model = Path(str(status.get("model_file") or "")).name or None
    except RasaError as exc:
        server_error = str(exc)
    switch = _switch(settings, request.query.get("switching"))
    async with request.app[APP_DB].connect() as conn:
        models = await history.list_models(conn)
        events = await history.model_events(conn, 20)
    return {
        "models": models,
        "events": events,
        "error": error,
        "server_model": server_model,
        "server_error": server_error,
        "switch": switch,
        "running": switch is not None and switch.get("state") == "running",
        "points": points,
        "basename": lambda p: Path(p).name,
    }


def _switch(settings: TrainingSettings, asked: str | None) -> dict[str, Any] | None:
    """The promotion or rollback to show: one running now (whoever started it), else the
    recent outcome of the one this page was sent to follow (``?switching=<model id>``)."""
    status = go_live_job.go_live_status(settings)
    if status is None:
        return None
    if status.get("state") == "running":
        return status
    ended = float(status.get("finished_at") or status.get("started_at") or 0)
    if str(status.get("model")) == asked and time.time() - ended < OUTCOME_SHOWN_SECONDS:
        return status
    return None


@auth.protected("trainer", action="models_view", audit_success=False)
@aiohttp_jinja2.template(MODELS)
async def models_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/training/models: every model with metrics, who trained / promoted it, when;
    with ``?switching=<id>``, the progress and then the outcome of that swap."""
    return await _models_context(request)


async def _go_live(request: web.Request, action: str) -> web.StreamResponse:
    """Start the swap (30-120 s) and send the trainer to the models page, which follows it.

    Refusals (gate failed, never live, already live, file changed, another swap running) come
    at once as a 400 and write this request's audit row. A started swap writes it when it ends
    (``model_<action>``, ok with the previous model and seconds, or error with the reason).
    """
    model_id = id_from(request.match_info.get("mid"))
    request[AUDIT].detail = {"model": model_id}
    try:
        await go_live_job.start_go_live(
            settings_of(request),
            request.app[APP_DB],
            model_id,
            by=request[USER].username,
            action=action,
            address=request.remote,
        )
    except promote.PromotionError as exc:
        request[AUDIT].detail["error"] = str(exc)[:300]
        context = await _models_context(request, error=str(exc))
        return aiohttp_jinja2.render_template(MODELS, request, context, status=400)
    audit.left_to_job(request)
    return redirect(f"/staff/training/models?switching={model_id}")


@auth.protected("trainer", action="model_promote")
async def model_promote(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/models/{mid}/promote: load a gate-passed model into Rasa."""
    return await _go_live(request, "promote")


@auth.protected("trainer", action="model_rollback")
async def model_rollback(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/models/{mid}/rollback: go back to a model that was live before."""
    return await _go_live(request, "rollback")
