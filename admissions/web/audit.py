"""The audit trail: one append-only row per view, search, export or deletion of transcript data,
per failed authorisation, and per change staff make. Rows are only ever inserted."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from admissions.db.models import AUDIT_LOG
from admissions.web import addresses
from admissions.web.keys import APP_DB, AUDIT, DENIALS, USER, AuditContext

logger = logging.getLogger(__name__)

RESULTS = ("ok", "denied", "unauthenticated", "not_found", "invalid", "throttled", "error")
# Column sizes of staff_audit_log: longer values are cut so the row is always written.
USERNAME_CHARS, ACTION_CHARS, CONVERSATION_CHARS, ADDRESS_CHARS, RESULT_CHARS = 64, 40, 255, 64, 20


def bounded_id(value: str | None, limit: int = CONVERSATION_CHARS) -> str | None:
    """A path value cut to ``limit`` characters (marked with "…" when cut)."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def username_detail(key: bytes, username: str, exists: bool) -> dict[str, str]:
    """How a failed sign-in names its account: the username of an existing account, else a
    keyed hash (what was typed may be a password: it must not stay in the log for ever)."""
    if exists:
        return {"username": username}
    digest = hmac.new(key, username.encode(), hashlib.sha256).hexdigest()[:16]
    return {"unknown_username": f"hmac-{digest}"}


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
            username=username[:USERNAME_CHARS] if username else None,
            action=action[:ACTION_CHARS],
            conversation_id=bounded_id(conversation_id),
            address=(address or "")[:ADDRESS_CHARS] or None,
            result=result[:RESULT_CHARS],
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
    """Write an audit row about ``request`` outside its own audit context (e.g. a login).

    Refusals of anonymous requests pass the app's ``DenialLimiter`` first: past its limits
    they are only counted.
    """
    if result != "ok" and request.get(USER) is None:
        suppressed = request.app[DENIALS].admit(addresses.bucket(request.remote))
        if suppressed is None:
            return
        if suppressed:
            detail = {**(detail or {}), "suppressed_before": suppressed}
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
