"""One retraining run: snapshot the data, validate, train, evaluate, apply the quality gate,
and (when asked and the gate passed) promote. Progress goes to the run's database row.

Only one run at a time (a lock file shared by the web app and the command line). A run never
touches the live model unless it promotes at the very end; any failure before that leaves the
live model as it was and says why in the run's ``explanation``.

This module is the run's frame: the lock, the ``Run`` it sets up, the order of the steps and
which of them overlap (validation and the live model's evaluation run beside the training, and
a run that promotes starts the candidate's Rasa process while the candidate is evaluated),
what a failure tells staff, and the runs whose job died. The steps themselves are in
``steps``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import audit
from admissions.training import (
    evaluate,
    history,
    locks,
    nludata,
    promote,
    rasacli,
    serving,
    steps,
)
from admissions.training.progress import STEPS, Progress
from admissions.training.settings import TrainingSettings
from admissions.training.steps import Run, RunFailed

__all__ = ["STEPS", "Progress", "RunFailed", "busy", "lock_path", "reap_stale", "report_of", "run"]

logger = logging.getLogger(__name__)


def lock_path(settings: TrainingSettings) -> Path:
    """The lock every retraining holds while it runs."""
    return settings.work_dir / "retrain.lock"


def busy(settings: TrainingSettings) -> bool:
    """Whether a retraining is running now."""
    return locks.is_held(lock_path(settings))


# ----- the run ----------------------------------------------------------------------------------
async def run(
    settings: TrainingSettings, engine: AsyncEngine, run_id: int, *, echo: bool = False
) -> str:
    """Carry out run ``run_id`` (a queued row); returns its final status."""
    try:
        with locks.hold(lock_path(settings)):
            return await _run_locked(settings, engine, run_id, echo)
    except locks.Busy:
        async with engine.begin() as conn:
            await history.fail_run(
                conn,
                run_id,
                "Another training is running. Only one runs at a time: wait for it "
                "to finish, then start again.",
                status="refused",
            )
        return "refused"


async def _run_locked(
    settings: TrainingSettings, engine: AsyncEngine, run_id: int, echo: bool
) -> str:
    async with engine.connect() as conn:
        row = await history.get_run(conn, run_id)
    if row is None:
        raise RunFailed(f"no training run {run_id}")
    if row.status != "queued":
        raise RunFailed(f"training run {run_id} is {row.status}, not queued")
    progress = Progress.new(engine, run_id, bool(row.auto_promote), echo)
    await progress.save(status="running", started_at=history.now(), pid=os.getpid())
    ctx = Run(
        settings,
        engine,
        run_id,
        progress,
        settings.work_dir / f"run-{run_id}",
        bool(row.auto_promote),
        row.requested_by,
    )
    await audit.write(
        engine, username=ctx.by, action="retrain_started", result="ok", detail={"run": run_id}
    )
    try:
        return await _steps(ctx)
    except (RunFailed, evaluate.EvaluationError, nludata.DataFileError) as exc:
        await progress.fail(str(exc))
        await ctx.audit("error", error=str(exc)[:300])
    except Exception as exc:
        logger.exception("training run %s failed", run_id)
        await progress.fail(
            f"The training job stopped with an unexpected error ({type(exc).__name__}: {exc}). "
            "The live model was not changed. Details are in the log: "
            f"{ctx.run_dir / 'run.log'}"
        )
        await ctx.audit("error", error=type(exc).__name__)
    return "failed"


async def _steps(ctx: Run) -> str:
    await steps.step_snapshot(ctx)
    t_validate = await ctx.progress.start("validate")
    validation = asyncio.create_task(
        steps.background(rasacli.validate_args(ctx.settings, ctx.snap), ctx, "validate.log")
    )
    await steps.load_baseline(ctx)
    training = asyncio.create_task(steps.train(ctx))
    await steps.finish_validation(ctx, validation, training, t_validate)
    await steps.step_train(ctx, training)
    settings = ctx.settings
    if (
        ctx.auto_promote
        and not settings.promote_offline
        and serving.live_state(settings.serving_file) is not None
    ):
        ctx.prepare_task = promote.prepare_early(settings, ctx.candidate_file)
    try:
        await steps.step_evaluate(ctx)
        verdict, candidate_id = await steps.step_gate(ctx)
        return await steps.step_promote(ctx, verdict, candidate_id)
    finally:
        await promote.drop_prepared(ctx.prepare_task)


# ----- after the run ----------------------------------------------------------------------------
async def reap_stale(settings: TrainingSettings, engine: AsyncEngine) -> None:
    """Mark runs whose job died (machine restart, kill -9) as failed."""
    async with engine.connect() as conn:
        active = await history.active_runs(conn)
    if not active or busy(settings):
        return
    for row in active:
        age = (history.now() - row.requested_at).total_seconds()
        if row.status == "queued" and age < 120:
            continue  # its job may still be starting
        if row.status == "running" and history.process_alive(row.pid):
            continue
        async with engine.begin() as conn:
            await history.fail_run(
                conn,
                row.id,
                "The training job stopped before it finished (the process ended or "
                "the machine restarted). The live model was not changed. Start it again.",
            )


def report_of(row: Any) -> dict[str, Any] | None:
    """A run row's report as a dict."""
    return json.loads(row.report) if row is not None and row.report else None
