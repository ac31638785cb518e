"""A promotion or rollback started from the staff page: checked at once, then swapped in the
background of the web app while the page shows its progress (``go_live_status``), its outcome
audited. The swap itself is ``promote.go_live``."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.training import locks, promote
from admissions.training.settings import TrainingSettings

logger = logging.getLogger(__name__)

_jobs: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones
_starting: set[int] = set()  # models whose start is between its checks and its job


def status_file(settings: TrainingSettings) -> Path:
    """The last promotion or rollback started with ``start_go_live``, as JSON."""
    return settings.work_dir / "go-live.json"


def go_live_status(settings: TrainingSettings) -> dict[str, Any] | None:
    """The last background promotion or rollback: ``model``, ``action``, ``by``, ``state``
    (``running`` / ``done`` / ``failed``), ``message``, ``started_at`` / ``finished_at``
    (Unix times) and ``seconds``; None if there was none. A ``running`` state whose promotion
    lock is free belonged to a process that stopped: it shows as failed."""
    try:
        status = json.loads(status_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict):
        return None
    if status.get("state") == "running" and not locks.is_held(promote.lock_path(settings)):
        if time.time() - float(status.get("started_at") or 0) > 5:
            status.update(state="failed", message="The web app stopped during the swap.")
    return status


def _write_status(settings: TrainingSettings, status: dict[str, Any]) -> None:
    path = status_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(status) + "\n", encoding="utf-8")
    tmp.replace(path)


async def start_go_live(
    settings: TrainingSettings,
    engine: AsyncEngine,
    model_id: int,
    *,
    by: str,
    action: str,
    address: str | None = None,
    offline: bool = False,
) -> asyncio.Task[None]:
    """Start a promotion or rollback and return at once (the swap takes 30-120 s).

    What can be checked at once is (``check``; ``PromotionError`` and nothing starts); the
    swap itself (``go_live``) then runs in the background of this process, its progress in
    ``go_live_status`` for the page to show, its outcome audited as ``model_<action>``.
    """
    # The file lock is taken only once the job runs: two clicks at the same moment would both
    # pass it, and the second job's "busy" would overwrite the first one's progress. So this
    # process also counts the starts between their checks and their jobs, and its own jobs.
    loop = asyncio.get_running_loop()
    running = [t for t in _jobs if not t.done() and t.get_loop() is loop]
    if _starting or running or locks.is_held(promote.lock_path(settings)):
        raise promote.PromotionError(
            "Another promotion or rollback is in progress; try again shortly."
        )
    _starting.add(model_id)
    try:
        await promote.check(settings, engine, model_id, action)
    finally:
        _starting.discard(model_id)
    status: dict[str, Any] = {
        "model": model_id,
        "action": action,
        "by": by,
        "state": "running",
        "message": "",
        "started_at": time.time(),
        "finished_at": None,
        "seconds": None,
    }
    _write_status(settings, status)

    async def job() -> None:
        try:
            result = await promote.go_live(
                settings,
                engine,
                model_id,
                by=by,
                action=action,
                audit_as=f"model_{action}",
                address=address,
                offline=offline,
            )
        except Exception as exc:
            if not isinstance(exc, promote.PromotionError):
                logger.exception("%s of model %s failed", action, model_id)
            status.update(state="failed", message=str(exc))
        else:
            status.update(state="done", seconds=round(result.seconds, 1))
        status["finished_at"] = time.time()
        _write_status(settings, status)

    task = asyncio.create_task(job(), name=f"{action}-model-{model_id}")
    _jobs.add(task)
    task.add_done_callback(_jobs.discard)
    return task
