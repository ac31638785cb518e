"""Retention: delete conversations idle longer than RETENTION_DAYS and those whose visitor
asked to be forgotten, from Rasa's tracker store and from the app's own tables.

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
from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import staff, transcripts
from admissions.web import audit
from admissions.web.keys import APP_DB, RETENTION_TASK, SETTINGS, SUMMARIES, TRACKER_DB
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
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """Counts for logs and the job table."""
        return {
            "expired": len(self.expired),
            "forgotten": len(self.forgotten),
            "events_deleted": self.events_deleted,
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
) -> PurgeResult:
    """Delete expired and forget-me conversations; one audit row per conversation."""
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
                    detail={"reason": reason, "events": deleted},
                )
            result.events_deleted += deleted
            done.append(conversation_id)
    return result


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
                app[TRACKER_DB], app[APP_DB], settings, actor="system:scheduler", address=None
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
