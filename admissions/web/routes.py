"""Every URL of the staff app, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from admissions.web.responses import redirect
from admissions.web.views import (
    account,
    admin,
    callbacks,
    conversations,
    dashboard,
    packets,
    second_factor,
    training,
    users,
)

STATIC_DIR = Path(__file__).with_name("static") / "staff"


async def health(request: web.Request) -> web.StreamResponse:
    """GET /staff/health: the process answers (says nothing about data)."""
    return web.Response(text="ok")


async def to_home(request: web.Request) -> web.StreamResponse:
    """GET /staff: to /staff/."""
    return redirect("/staff/", status=302)


def setup_routes(app: web.Application) -> None:
    """Register the staff app's routes (all under /staff/)."""
    r = app.router
    r.add_get("/staff", to_home)
    r.add_get("/staff/", account.home, name="staff.home")
    r.add_get("/staff/health", health, name="staff.health")
    r.add_get("/staff/login", account.login_page, name="staff.login")
    r.add_post("/staff/login", account.login)
    r.add_get(second_factor.CODE_PATH, second_factor.code_page, name="staff.login_code")
    r.add_post(second_factor.CODE_PATH, second_factor.code_submit)
    r.add_get(second_factor.ENROL_PATH, second_factor.enrol_page, name="staff.login_enrol")
    r.add_post(second_factor.ENROL_PATH, second_factor.enrol_submit)
    r.add_get("/staff/second-factor", second_factor.settings_page, name="staff.second_factor")
    r.add_post("/staff/second-factor", second_factor.settings_enrol)
    r.add_post("/staff/logout", account.logout, name="staff.logout")
    r.add_get("/staff/password", account.password_page, name="staff.password")
    r.add_post("/staff/password", account.password_change)

    r.add_get("/staff/conversations", conversations.conversation_list, name="staff.conversations")
    r.add_get("/staff/conversations/{cid}", conversations.transcript_page, name="staff.transcript")
    r.add_post("/staff/conversations/{cid}/notes", conversations.add_note, name="staff.notes")
    r.add_post("/staff/conversations/{cid}/review", conversations.set_review, name="staff.review")
    r.add_get(
        "/staff/conversations/{cid}/export.{fmt}", conversations.export_one, name="staff.export_one"
    )
    r.add_get("/staff/export.{fmt}", conversations.export_set, name="staff.export_set")
    r.add_get("/staff/conversations/{cid}/packet.json", packets.packet_json, name="staff.packet")
    r.add_get(
        "/staff/conversations/{cid}/packet.fhir.json", packets.packet_fhir, name="staff.packet_fhir"
    )
    r.add_get("/staff/outbox", packets.outbox_page, name="staff.outbox")
    r.add_post("/staff/outbox/{cid}/resend", packets.resend, name="staff.packet_resend")

    r.add_get("/staff/callbacks", callbacks.callback_queue, name="staff.callbacks")
    r.add_post(
        "/staff/callbacks/{cid}/status", callbacks.callback_status, name="staff.callback_status"
    )
    r.add_get("/staff/dashboard", dashboard.dashboard, name="staff.dashboard")

    r.add_get("/staff/audit", admin.audit_log, name="staff.audit")
    r.add_get("/staff/users", users.users, name="staff.users")
    r.add_post("/staff/users", users.user_create, name="staff.user_create")
    r.add_post("/staff/users/{uid}/password", users.user_password, name="staff.user_password")
    r.add_post("/staff/users/{uid}/disable", users.user_disable, name="staff.user_disable")
    r.add_post("/staff/users/{uid}/enable", users.user_enable, name="staff.user_enable")
    r.add_post(
        "/staff/users/{uid}/second-factor/reset",
        users.user_second_factor_reset,
        name="staff.user_second_factor_reset",
    )
    r.add_get("/staff/retention", admin.retention_page, name="staff.retention")
    r.add_post("/staff/retention/run", admin.retention_run, name="staff.retention_run")

    training.setup_routes(app)

    r.add_static("/staff/static/", STATIC_DIR, name="staff.static", append_version=False)
