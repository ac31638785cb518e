"""The dashboard: conversations per day, the assessment funnel, recommendations, callbacks."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.db import transcripts
from admissions.db.transcripts import ConversationSummary, ListFilters
from admissions.fit.results import UNDETERMINED
from admissions.profile import PROGRAM_SHORT_NAMES
from admissions.web import auth, charts
from admissions.web.keys import AUDIT, FACILITY
from admissions.web.views.forms import day_start
from admissions.web.views.lookup import conversation_summaries

RANGES = (7, 14, 30, 90)


@auth.protected("admissions", "admin", action="dashboard")
@aiohttp_jinja2.template("staff/dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    """GET /staff/dashboard: counts only, drawn as server-side SVG."""
    try:
        days = int(request.query.get("days", "14"))
    except ValueError:
        days = 14
    days = days if days in RANGES else 14
    tz = request.app[FACILITY].admissions.tz
    today = datetime.fromtimestamp(time.time(), tz).date()
    first_day = today - timedelta(days=days - 1)
    rows, ready = await conversation_summaries(
        request, ListFilters(started_from=day_start(first_day, tz))
    )
    per_day = Counter(datetime.fromtimestamp(r.started_at, tz).date() for r in rows)
    every = 1 if days <= 14 else (3 if days <= 31 else 7)  # label spacing that stays legible
    points = []
    for i in range(days):
        day = first_day + timedelta(days=i)
        label = day.strftime("%m/%d") if i % every == 0 or i == days - 1 else ""
        points.append((label, per_day.get(day, 0)))
    total = len(rows)

    def recommended(r: ConversationSummary) -> bool:
        return bool(r.recommendation) and r.recommendation != UNDETERMINED

    # A true funnel: each stage counts conversations that also passed every earlier stage.
    complete = [r for r in rows if r.complete]
    with_rec = [r for r in complete if recommended(r)]
    shown = [r for r in with_rec if r.handoff]
    called = [r for r in shown if r.callback]
    funnel = [
        ("Conversations", total),
        ("Finished the assessment", len(complete)),
        ("… and got a program recommendation", len(with_rec)),
        ("… and were shown the admissions line", len(shown)),
        ("… and asked for a callback", len(called)),
    ]
    overall = [
        ("Finished the assessment", len(complete)),
        ("Got a program recommendation", sum(recommended(r) for r in rows)),
        ("Shown the admissions line (handoff)", sum(r.handoff for r in rows)),
        ("Asked for a callback", sum(r.callback for r in rows)),
        ("Sent a crisis message", sum(r.crisis for r in rows)),
    ]
    recs = Counter(r.recommendation or "none" for r in rows)
    rec_points = [
        (PROGRAM_SHORT_NAMES.get(k, k), recs.get(k, 0)) for k in transcripts.PROGRAM_VALUES
    ]
    rec_points.append(("none yet", recs.get("none", 0)))
    request[AUDIT].detail = {"days": days, "conversations": total}
    return {
        "days": days,
        "ranges": RANGES,
        "ready": ready,
        "per_day": charts.column_chart(points, title=f"Conversations per day, last {days} days"),
        "funnel": charts.funnel_chart(funnel, title="From first message to callback"),
        "recommendations": charts.column_chart(rec_points, title="Recommendations", height=200),
        "stages": [(label, value, charts.percent(value, total)) for label, value in overall],
        "crisis": sum(r.crisis for r in rows),
        "total": total,
    }
