"""Admin pages: the audit trail (read and filter only) and retention (accounts: users.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.db import staff, transcripts
from admissions.db.staff import AuditFilters
from admissions.web import auth, retention
from admissions.web.keys import (
    APP_DB,
    AUDIT,
    FACILITY,
    SETTINGS,
    SUMMARIES,
    TRACKER_DB,
    TRAINING,
    USER,
)
from admissions.web.responses import redirect
from admissions.web.views.forms import local_date, page_number

AUDIT_PAGE_SIZE = 100


@auth.protected("admin", action="audit_view")
@aiohttp_jinja2.template("staff/audit.html")
async def audit_log(request: web.Request) -> dict[str, Any]:
    """GET /staff/audit: the audit trail, newest first, filtered by user/action/conversation."""
    q = request.query
    tz = request.app[FACILITY].admissions.tz
    since_day, before_day = local_date(q.get("from", "")), local_date(q.get("to", ""))

    def at_midnight(day: Any) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)

    filters = AuditFilters(
        username=q.get("user", "").strip().lower() or None,
        action=q.get("action", "").strip() or None,
        conversation_id=q.get("conversation", "").strip() or None,
        result=q.get("result", "").strip() or None,
        since=at_midnight(since_day) if since_day else None,
        before=at_midnight(before_day + timedelta(days=1)) if before_day else None,
    )
    page = page_number(q)
    async with request.app[APP_DB].connect() as conn:
        rows, total = await staff.audit_page(
            conn, filters, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE
        )
        actions = await staff.audit_actions(conn)
    values = {
        "user": filters.username or "",
        "action": filters.action or "",
        "conversation": filters.conversation_id or "",
        "result": filters.result or "",
        "from": since_day.isoformat() if since_day else "",
        "to": before_day.isoformat() if before_day else "",
    }
    request[AUDIT].detail = {"filters": {k: v for k, v in values.items() if v}, "page": page}
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // AUDIT_PAGE_SIZE)),
        "values": values,
        "actions": actions,
        "results": (
            "ok",
            "denied",
            "unauthenticated",
            "not_found",
            "invalid",
            "throttled",
            "error",
        ),
    }


@auth.protected("admin", action="retention_view", audit_success=False)
@aiohttp_jinja2.template("staff/retention.html")
async def retention_page(request: web.Request) -> dict[str, Any]:
    """GET /staff/retention: the policy, what is due for deletion, recent runs."""
    settings = request.app[SETTINGS]
    due_expired = due_forget = 0
    async with request.app[TRACKER_DB].connect() as conn:
        if await transcripts.tracker_ready(conn):
            cutoff = time.time() - settings.retention_days * 86400.0
            expired, forget = await transcripts.purge_candidates(conn, cutoff)
            due_expired, due_forget = len(expired), len(forget)
    async with request.app[APP_DB].connect() as conn:
        runs = await staff.recent_jobs(conn, retention.JOB)
    return {
        "settings": settings,
        "due_expired": due_expired,
        "due_forget": due_forget,
        "runs": runs,
        "summary": lambda text: json.loads(text) if text else {},
    }


@auth.protected("admin", action="retention_run")
async def retention_run(request: web.Request) -> web.StreamResponse:
    """POST /staff/retention/run: purge now (each deleted conversation is audited too)."""
    app = request.app
    result = await retention.run_job(
        app[TRACKER_DB],
        app[APP_DB],
        app[SETTINGS],
        actor=request[USER].username,
        address=request.remote,
        training=app[TRAINING],
    )
    app[SUMMARIES].invalidate()
    request[AUDIT].detail = result.summary()
    return redirect("/staff/retention")
