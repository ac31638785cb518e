"""The model history: every model with its metrics, and promote / roll back (a live swap)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.training import history, promote
from admissions.training.gate import points
from admissions.training.rasa_api import RasaError
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, USER
from admissions.web.responses import redirect
from admissions.web.views.training.common import id_from, settings_of

MODELS = "staff/training/models.html"


async def _models_context(request: web.Request, error: str | None = None) -> dict[str, Any]:
    settings = settings_of(request)
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
@aiohttp_jinja2.template(MODELS)
async def models_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/training/models: every model with metrics, who trained / promoted it, when."""
    return await _models_context(request)


async def _go_live(request: web.Request, action: str) -> web.StreamResponse:
    model_id = id_from(request.match_info.get("mid"))
    request[AUDIT].detail = {"model": model_id}
    try:
        result = await promote.go_live(
            settings_of(request),
            request.app[APP_DB],
            model_id,
            by=request[USER].username,
            action=action,
        )
    except promote.PromotionError as exc:
        request[AUDIT].detail["error"] = str(exc)[:300]
        status = 502 if "Rasa server" in str(exc) else 400
        context = await _models_context(request, error=str(exc))
        return aiohttp_jinja2.render_template(MODELS, request, context, status=status)
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
