"""The audit trail: one append-only row per view, search, export or deletion of transcript data,
per failed authorisation, and per change staff make. Rows are only ever inserted."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from admissions.db.models import AUDIT_LOG
from admissions.web.keys import APP_DB, AUDIT, USER, AuditContext

logger = logging.getLogger(__name__)

RESULTS = ("ok", "denied", "unauthenticated", "not_found", "invalid", "throttled", "error")


def result_for_status(status: int) -> str:
    """Map an HTTP status to an audit result."""
    if status < 400:
        return "ok"
    if status == 401:
        return "unauthenticated"
    if status == 403:
        return "denied"
    if status in (404, 410):
        return "not_found"
    if status == 429:
        return "throttled"
    if status < 500:
        return "invalid"
    return "error"


async def insert(
    conn: AsyncConnection,
    *,
    username: str | None,
    action: str,
    result: str,
    conversation_id: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Insert one audit row in the caller's transaction (the only write path there is)."""
    await conn.execute(
        AUDIT_LOG.insert().values(
            at=datetime.now(timezone.utc),
            username=username[:64] if username else None,
            action=action[:40],
            conversation_id=conversation_id,
            address=(address or "")[:64] or None,
            result=result,
            detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
        )
    )


async def write(engine: AsyncEngine, **fields: Any) -> None:
    """Insert one audit row in its own transaction."""
    async with engine.begin() as conn:
        await insert(conn, **fields)


def _username(request: web.Request) -> str | None:
    user = request.get(USER)
    return user.username if user else None


async def record(
    request: web.Request,
    action: str,
    result: str,
    *,
    conversation_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write an audit row about ``request`` outside its own audit context (e.g. a login)."""
    await write(
        request.app[APP_DB],
        username=_username(request),
        action=action,
        result=result,
        conversation_id=conversation_id,
        address=request.remote,
        detail=detail,
    )


async def commit(request: web.Request, result: str) -> None:
    """Write the request's audit record now (once; later calls do nothing).

    Handlers that stream data call this before sending anything, so nothing is disclosed
    unless its audit row is stored first.
    """
    ctx: AuditContext | None = request.get(AUDIT)
    if ctx is None or ctx.written:
        return
    await record(
        request,
        ctx.action,
        result,
        conversation_id=ctx.conversation_id,
        detail=ctx.detail or None,
    )
    ctx.written = True
