"""Jinja2 templates: autoescaping always on, strict undefined, the staff pages' shared context."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from admissions.facility import SHORT_NAMES
from admissions.web import audit_words
from admissions.web.keys import FACILITY, USER
from admissions.web.packet_words import completed_moment
from admissions.web.transcript import (
    contact_wishes,
    fit_words,
    payer_text,
    phone_words,
    tel_href,
)


async def staff_context(request: web.Request) -> dict[str, Any]:
    """Template variables every staff page has."""
    user = request.get(USER)
    return {
        "user": user,
        "csrf_token": user.csrf_token if user else "",
        "facility_name": request.app[FACILITY].name,
        "time_zone": request.app[FACILITY].admissions.time_zone.replace("_", " "),
    }


def filters(app: web.Application) -> dict[str, Any]:
    tz = app[FACILITY].admissions.tz

    def localtime(value: float | datetime | None, fmt: str = "%a %b %d %Y, %I:%M %p") -> str:
        if value is None:
            return ""
        moment = (
            value
            if isinstance(value, datetime)
            else datetime.fromtimestamp(float(value), timezone.utc)
        )
        return moment.astimezone(tz).strftime(fmt)

    def utctime(value: datetime | None) -> str:
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""

    def zonedtime(value: datetime | None) -> str:
        """Facility time with its zone and UTC offset: ``2026-12-02 10:48:05 AM EST (-05:00)``."""
        return zoned(value, tz) if value else ""

    def program(value: str | None) -> str:
        if not value:
            return "—"
        return SHORT_NAMES.get(value, value)

    return {"localtime": localtime, "utctime": utctime, "zonedtime": zonedtime, "program": program}


def zoned(moment: datetime, tz: ZoneInfo) -> str:
    """``moment`` in ``tz`` with the zone's abbreviation and UTC offset."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")  # "-0500"
    return f"{local.strftime('%Y-%m-%d %I:%M:%S %p %Z')} ({offset[:3]}:{offset[3:]})"


def path_segment(value: str) -> str:
    """``value`` as one URL path segment: everything quoted, ``/`` and dot-segments too."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def conversation_url(conversation_id: str, suffix: str = "") -> str:
    """URL of a conversation page; Rasa ids may hold any character, ``/`` included."""
    return f"/staff/conversations/{path_segment(conversation_id)}{suffix}"


def callback_status_url(conversation_id: str) -> str:
    """Where the callback queue posts a new status."""
    return f"/staff/callbacks/{path_segment(conversation_id)}/status"


def resend_url(conversation_id: str) -> str:
    """Where an admin posts to send a conversation's handoff packet to the CRM again."""
    return f"/staff/outbox/{path_segment(conversation_id)}/resend"


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the process, for every app made in it.

    One app per process in production compiles each template once either way; the test suite
    makes an app per test, and compiling the templates again each time was a fifth of its CPU.
    Jinja checks each entry against the template source's checksum, so an edited template is
    compiled again.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def setup(app: web.Application) -> jinja2.Environment:
    """Install the template environment (every ``{{ }}`` is HTML-escaped)."""
    from admissions.web.views.overnight import home_context  # the views import this module

    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("admissions.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_COMPILED,
        context_processors=[staff_context, home_context],
    )
    env.filters.update(filters(app))
    env.globals.update(
        conversation_url=conversation_url,
        callback_status_url=callback_status_url,
        resend_url=resend_url,
        completed_moment=completed_moment,
        contact_wishes=contact_wishes,
        tel_href=tel_href,
        phone_words=phone_words,
        payer_text=payer_text,
        fit_words=fit_words,
        audit_action=audit_words.action_words,
        audit_result=audit_words.result_words,
        audit_detail=audit_words.detail_words,
    )
    return env
