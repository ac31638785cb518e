"""Retention: delete conversations idle longer than RETENTION_DAYS and those whose visitor
asked to be forgotten, from Rasa's tracker store and from the app's own tables, with what the
retraining loop kept of them: NLU flags, trainers' decisions and the examples those decisions
wrote into ``data/nlu`` (``staff_nlu_decisions`` records each example's conversation).

Each deleted conversation writes one audit row (action ``purge``). Runs from the CLI
(``python -m admissions.web.cli purge``) and as an in-app job every
RETENTION_INTERVAL_MINUTES.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import audit, staff, transcripts
from admissions.training import history, inbox, nludata
from admissions.training.settings import TrainingSettings
from admissions.web.keys import (
    APP_DB,
    RETENTION_TASK,
    SETTINGS,
    SUMMARIES,
    TRACKER_DB,
    TRAINING,
)
from admissions.web.settings import Settings

logger = logging.getLogger(__name__)
JOB = "retention_purge"
FIRST_RUN_DELAY_SECONDS = 30.0


@dataclass
class PurgeResult:
    """What a purge did (counts only)."""

    expired: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    events_deleted: int = 0
    examples_removed: int = 0
    models_pruned: int = 0
    failed: list[str] = field(default_factory=list)
    # the earliest decision among the removed examples: models trained since may hold them
    forgotten_since: datetime | None = None

    def summary(self) -> dict[str, int]:
        """Counts for logs and the job table."""
        return {
            "expired": len(self.expired),
            "forgotten": len(self.forgotten),
            "events_deleted": self.events_deleted,
            "examples_removed": self.examples_removed,
            "models_pruned": self.models_pruned,
            "failed": len(self.failed),
        }


async def purge(
    tracker_db: AsyncEngine,
    app_db: AsyncEngine,
    *,
    retention_days: int,
    actor: str,
    address: str | None,
    now: float | None = None,
    dry_run: bool = False,
    training: TrainingSettings | None = None,
) -> PurgeResult:
    """Delete expired and forget-me conversations; one audit row per conversation.

    With ``training``, the examples trainers accepted from a conversation leave the training
    data first; if that fails the conversation stays and the next run tries again.
    """
    cutoff = (time.time() if now is None else now) - retention_days * 86400.0
    result = PurgeResult()
    async with tracker_db.connect() as conn:
        if not await transcripts.tracker_ready(conn):
            return result
        expired, forgotten = await transcripts.purge_candidates(conn, cutoff)
    if dry_run:
        result.expired, result.forgotten = expired, forgotten
        return result
    for reason, ids, done in (
        ("forget_me", forgotten, result.forgotten),
        ("retention", expired, result.expired),
    ):
        for conversation_id in ids:
            try:
                examples, since = await forget_training_data(app_db, training, conversation_id)
                if since is not None:
                    result.forgotten_since = min(since, result.forgotten_since or since)
                async with tracker_db.begin() as conn:
                    deleted = await transcripts.delete_conversation(conn, conversation_id)
            except Exception:
                logger.exception("purge: deleting one conversation failed")
                await audit.write(
                    app_db,
                    username=actor,
                    action="purge",
                    result="error",
                    conversation_id=conversation_id,
                    address=address,
                    detail={"reason": reason},
                )
                result.failed.append(conversation_id)
                continue
            async with app_db.begin() as conn:
                await staff.delete_work(conn, conversation_id)
                await audit.insert(
                    conn,
                    username=actor,
                    action="purge",
                    result="ok",
                    conversation_id=conversation_id,
                    address=address,
                    detail={"reason": reason, "events": deleted, "examples": examples},
                )
            result.events_deleted += deleted
            result.examples_removed += examples
            done.append(conversation_id)
    await prune_models(
        app_db,
        training,
        result,
        retention_days=retention_days,
        actor=actor,
        address=address,
    )
    return result


async def forget_training_data(
    app_db: AsyncEngine, training: TrainingSettings | None, conversation_id: str
) -> tuple[int, datetime | None]:
    """Remove a conversation's NLU flags, decisions and accepted examples.

    Returns how many examples left ``data/nlu`` and when the earliest of them was accepted.
    """
    removed = 0
    since: datetime | None = None
    async with app_db.begin() as conn:
        written = await inbox.forget_conversation(conn, conversation_id)
        if written and training is not None:
            writer = nludata.DataWriter(
                training.nlu_dir,
                training.domain,
                training.heldout_dir,
                training.work_dir / "data.lock",
            )
            for example in written:
                removed += await asyncio.to_thread(writer.remove, example.intent, [example.example])
                since = min(example.decided_at, since or example.decided_at)
    return removed, since


async def prune_models(
    app_db: AsyncEngine,
    training: TrainingSettings | None,
    result: PurgeResult,
    *,
    retention_days: int,
    actor: str,
    address: str | None,
) -> None:
    """Delete model files that may hold purged sentences (never the live one); audited."""
    if training is None:
        return
    older_than = datetime.now(timezone.utc) - timedelta(days=retention_days)
    async with app_db.begin() as conn:
        deleted = await history.prune_files(
            conn, older_than=older_than, trained_since=result.forgotten_since
        )
        if deleted:
            await audit.insert(
                conn,
                username=actor,
                action="model_prune",
                result="ok",
                address=address,
                detail={"files": deleted},
            )
    result.models_pruned = len(deleted)


async def housekeeping(app_db: AsyncEngine, settings: Settings) -> None:
    """Drop old sign-in attempts and expired sessions."""
    async with app_db.begin() as conn:
        await staff.forget_old_attempts(conn, timedelta(days=1))
        await staff.end_expired_sessions(
            conn,
            timedelta(minutes=settings.session_idle_minutes),
            timedelta(hours=settings.session_max_hours),
        )


async def run_job(
    tracker_db: AsyncEngine,
    app_db: AsyncEngine,
    settings: Settings,
    *,
    actor: str,
    address: str | None,
    training: TrainingSettings | None = None,
) -> PurgeResult:
    """One recorded run: purge, housekeeping, and a row in the job table."""
    async with app_db.begin() as conn:
        run_id = await staff.start_job(conn, JOB)
    outcome = "error"
    result = PurgeResult()
    try:
        result = await purge(
            tracker_db,
            app_db,
            retention_days=settings.retention_days,
            actor=actor,
            address=address,
            training=training,
        )
        await housekeeping(app_db, settings)
        outcome = "ok" if not result.failed else "partial"
    finally:
        async with app_db.begin() as conn:
            await staff.finish_job(conn, run_id, outcome, json.dumps(result.summary()))
    logger.info("retention purge %s: %s", outcome, result.summary())
    return result


async def _loop(app: web.Application, stop: asyncio.Event) -> None:
    settings = app[SETTINGS]
    delay = FIRST_RUN_DELAY_SECONDS
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            return
        try:
            await run_job(
                app[TRACKER_DB],
                app[APP_DB],
                settings,
                actor="system:scheduler",
                address=None,
                training=app[TRAINING],
            )
            app[SUMMARIES].invalidate()
        except Exception:
            logger.exception("retention purge failed")
        delay = settings.retention_interval_minutes * 60.0


async def retention_job(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: run the purge every RETENTION_INTERVAL_MINUTES (0 = off).

    At shutdown a run in progress finishes first (its deletions and audit rows stay paired).
    """
    if app[SETTINGS].retention_interval_minutes <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(app, stop), name="retention-purge")
    app[RETENTION_TASK] = task
    yield
    stop.set()
    await task
