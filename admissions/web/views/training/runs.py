"""Training runs: start a retraining (a background job), follow it, read its report."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from admissions.db.models import NLU_DECISIONS
from admissions.training import history, pipeline
from admissions.training.gate import points
from admissions.training.settings import TrainingSettings
from admissions.web import auth
from admissions.web.keys import APP_DB, AUDIT, USER
from admissions.web.responses import redirect
from admissions.web.views.training.common import id_from, settings_of

RUNS = "staff/training/runs.html"


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
    settings = settings_of(request)
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
@aiohttp_jinja2.template(RUNS)
async def runs_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/training/runs: start a retraining; recent runs."""
    return await _runs_context(request)


@auth.protected("trainer", action="retrain")
async def runs_start(request: web.Request) -> web.StreamResponse:
    """POST /staff/training/runs: queue a retraining and start its background job."""
    settings = settings_of(request)
    engine = request.app[APP_DB]
    form = await request.post()
    auto = str(form.get("promote", "")) == "yes"

    async def refuse(reason: str, error: str, status: int) -> web.StreamResponse:
        request[AUDIT].detail = {"refused": reason}
        context = await _runs_context(request, error=error)
        return aiohttp_jinja2.render_template(RUNS, request, context, status=status)

    await pipeline.reap_stale(settings, engine)
    async with engine.connect() as conn:
        active = await history.active_runs(conn)
    if active or pipeline.busy(settings):
        return await refuse("busy", "A training is already running. Only one runs at a time.", 409)
    if not settings.rasa_bin.exists():
        return await refuse(
            "no rasa",
            f"The Rasa command is missing ({settings.rasa_bin}): the assistant's "
            "environment is not installed here (make setup). Nothing was started.",
            400,
        )
    async with engine.begin() as conn:
        run_id = await history.create_run(conn, request[USER].username, auto)
    try:
        await asyncio.to_thread(_spawn, settings, run_id)
    except OSError as exc:
        async with engine.begin() as conn:
            await history.fail_run(conn, run_id, f"The training job could not be started ({exc}).")
    request[AUDIT].detail = {"run": run_id, "promote": auto}
    return redirect(f"/staff/training/runs/{run_id}")


@auth.protected("trainer", action="training_run_view", audit_success=False)
async def run_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/training/runs/{rid}: progress while it runs, then the report."""
    settings = settings_of(request)
    run_id = id_from(request.match_info.get("rid"))
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
    run_id = id_from(request.match_info.get("rid"))
    async with request.app[APP_DB].connect() as conn:
        row = await history.get_run(conn, run_id)
    path = _matrix_path(settings_of(request), row, request.match_info.get("which", ""))
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/png"})
