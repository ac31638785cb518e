"""Public demo facility page with the chat widget, the widget's files and the chat routes.

``/`` is a calm landing page for the facility in ``facility.yml`` with the widget embedded by
one ``<script>`` tag; ``/widget/`` serves the widget; ``/chat/`` is the proxy to Rasa
(``chat_proxy``). ``DEMO_PAGE=off`` leaves the page out and keeps the widget and chat routes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.facility import Facility
from admissions.profile import WEEKDAYS
from admissions.web import chat_proxy
from admissions.web.chat_config import ChatConfig
from admissions.web.keys import FACILITY
from admissions.wording import clock, short_day_list

WIDGET_DIR = Path(__file__).with_name("static") / "widget"
# The demo page: our own script, stylesheet and calls only; nothing from anywhere else.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
ACCENT = "#1f5f5b"  # deep teal: 7.2:1 against white


def hours_lines(facility: Facility) -> list[str]:
    """Admissions line opening hours, grouped by identical days."""
    groups: list[tuple[tuple[int, int], list[str]]] = []
    for day in WEEKDAYS:
        window = facility.admissions.hours.get(day)
        if window is None:
            continue
        if groups and groups[-1][0] == tuple(window):
            groups[-1][1].append(day)
        else:
            groups.append(((window[0], window[1]), [day]))
    lines = [f"{short_day_list(days)}: {clock(a)}–{clock(b)}" for (a, b), days in groups]
    closed = [d for d in WEEKDAYS if d not in facility.admissions.hours]
    if closed:
        lines.append(f"{short_day_list(closed)}: closed (leave a callback request in the chat)")
    return lines


def page_context(facility: Facility) -> dict[str, Any]:
    """What the demo page shows, all from ``facility.yml``."""
    programs = []
    for program in facility.ordered():
        tracks = [
            f"{t.name.capitalize()}: {short_day_list(t.days)}, {clock(t.start)}–{clock(t.end)}"
            for t in program.tracks
        ]
        programs.append({"name": program.name, "summary": program.summary, "tracks": tracks})
    payers = facility.payers
    paying = []
    if payers.accepted:
        paying.append("We work with many plans, including " + ", ".join(payers.accepted) + ".")
    if payers.self_pay:
        paying.append(
            "Self-pay" + (" with payment plans" if payers.payment_plans else "") + " is available."
        )
    paying.append("Admissions checks your benefits for free before anything starts.")
    return {
        "facility": facility,
        "phone": facility.admissions.phone,
        "tel": facility.admissions.tel_uri,
        "hours": hours_lines(facility),
        "programs": programs,
        "paying": paying,
        "accent": ACCENT,
    }


async def demo_page(request: web.Request) -> web.StreamResponse:
    """GET /: the demo facility page with the widget, under its own stricter CSP."""
    context = page_context(request.app[FACILITY])
    response = aiohttp_jinja2.render_template("demo.html", request, context)
    response.headers["Content-Security-Policy"] = DEMO_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


def setup_demo(app: web.Application, config: ChatConfig | None = None) -> None:
    """Register the public demo page and the widget's static files on ``app``."""
    config = config or ChatConfig.from_env()
    chat_proxy.setup(app, config)
    app.router.add_static("/widget/", WIDGET_DIR, name="widget", append_version=False)
    if config.demo_page:
        app.router.add_get("/", demo_page, name="demo")
