"""The audit trail as requests write it: one append-only row per view, search, export or
deletion of transcript data, per failed authorisation, and per change staff make.

Rows are written by ``admissions.db.audit`` (also used by command lines and background jobs);
this module adds what a request knows: who is signed in, the address, the refusal caps."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web

from admissions.db import audit as rows
from admissions.web import addresses
from admissions.web.keys import APP_DB, AUDIT, DENIALS, USER, AuditContext

logger = logging.getLogger(__name__)


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
    await rows.write(
        request.app[APP_DB],
        username=_username(request),
        action=action,
        result=result,
        conversation_id=conversation_id,
        address=request.remote,
        detail=detail,
    )


async def for_account(
    request: web.Request,
    username: str,
    action: str,
    result: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write an audit row about a sign-in step of ``username`` (who has no session yet)."""
    await rows.write(
        request.app[APP_DB],
        username=username,
        action=action,
        result=result,
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


def left_to_job(request: web.Request) -> None:
    """The background job this request started writes the request's one row when it ends
    (same action, with its outcome): the request writes none itself."""
    ctx: AuditContext | None = request.get(AUDIT)
    if ctx is not None:
        ctx.written = True
