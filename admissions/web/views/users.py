"""Staff accounts, for admins: create, reset a password, disable or enable, reset a second
factor. The rules are the command line's (``accounts.py``); every change is audited."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admissions.db import second_factor, staff
from admissions.db.models import ROLES
from admissions.web import accounts, auth
from admissions.web.keys import APP_DB, AUDIT, PASSWORD_SLOTS, SETTINGS, USER
from admissions.web.responses import redirect

DONE = {
    "created": "Account created. Give the person the password in person or by phone; "
    "they can change it under their name.",
    "password": "Password reset. The account's sessions have ended.",
    "disabled": "Account disabled. Its sessions have ended.",
    "enabled": "Account enabled.",
    "second_factor": "Second factor reset. The account sets up a new one at its next sign-in.",
}


async def _page(request: web.Request, *, error: str | None = None, status: int = 200,
                form: dict[str, Any] | None = None) -> web.Response:  # fmt: skip
    async with request.app[APP_DB].connect() as conn:
        rows = await staff.list_users(conn)
        enrolled = await second_factor.enrolled_user_ids(conn)
    context = {
        "rows": rows,
        "enrolled": enrolled,
        "roles": ROLES,
        "totp_roles": request.app[SETTINGS].totp_roles,
        "error": error,
        "done": DONE.get(request.query.get("done", "")) if error is None else None,
        "form": form or {"username": "", "roles": []},
        "min_length": auth.MIN_PASSWORD_LENGTH,
    }
    return aiohttp_jinja2.render_template("staff/users.html", request, context, status=status)


@auth.protected("admin", action="users_view", audit_success=False)
async def users(request: web.Request) -> web.StreamResponse:
    """GET /staff/users: accounts, roles, second factor, live sessions, and the changes."""
    return await _page(request)


async def _hash(request: web.Request, password: str) -> str:
    settings = request.app[SETTINGS]
    try:
        return await auth.argon2(
            request.app[PASSWORD_SLOTS],
            settings.password_check_wait_seconds,
            auth.hash_password,
            password,
        )
    except auth.Busy:
        raise web.HTTPServiceUnavailable(
            text="The server is busy. Try again in a moment."
        ) from None


@auth.protected("admin", action="user_create")
async def user_create(request: web.Request) -> web.StreamResponse:
    """POST /staff/users: create an account (username, roles, first password)."""
    form = await request.post()
    raw_name = str(form.get("username", ""))[:200]
    chosen = [str(r) for r in form.getall("role", [])][: len(ROLES)]
    kept = {"username": raw_name, "roles": chosen}
    try:
        key = accounts.username(raw_name)
        role_set = accounts.roles(chosen)
        password = accounts.new_password(str(form.get("password", "")), str(form.get("again", "")))
    except accounts.AccountError as exc:
        request[AUDIT].detail = {"refused": str(exc)[:200]}
        return await _page(request, error=str(exc), status=400, form=kept)
    password_hash = await _hash(request, password)
    try:
        async with request.app[APP_DB].begin() as conn:
            detail = await accounts.create(conn, key, role_set, password_hash)
    except accounts.AccountError as exc:
        request[AUDIT].detail = {"user": key, "refused": str(exc)[:200]}
        return await _page(request, error=str(exc), status=400, form=kept)
    request[AUDIT].detail = detail
    return redirect("/staff/users?done=created")


def _user_id(request: web.Request) -> int:
    try:
        return int(request.match_info["uid"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _change(request: web.Request, change: Any, done: str) -> web.StreamResponse:
    """Run one account change in a transaction; refusals re-show the page with the reason."""
    try:
        async with request.app[APP_DB].begin() as conn:
            detail = await change(conn)
    except LookupError:
        raise web.HTTPNotFound() from None
    except accounts.AccountError as exc:
        request[AUDIT].detail = {"user_id": request.match_info["uid"], "refused": str(exc)}
        return await _page(request, error=str(exc), status=400)
    request[AUDIT].detail = detail
    return redirect(f"/staff/users?done={done}")


@auth.protected("admin", action="password_reset")
async def user_password(request: web.Request) -> web.StreamResponse:
    """POST /staff/users/{uid}/password: set a new password and end the account's sessions."""
    user_id = _user_id(request)
    form = await request.post()
    try:
        password = accounts.new_password(str(form.get("password", "")), str(form.get("again", "")))
    except accounts.AccountError as exc:
        request[AUDIT].detail = {"user_id": user_id, "refused": str(exc)}
        return await _page(request, error=str(exc), status=400)
    password_hash = await _hash(request, password)
    return await _change(
        request, lambda conn: accounts.set_password(conn, user_id, password_hash), "password"
    )


async def _set_disabled(request: web.Request, disabled: bool) -> web.StreamResponse:
    user_id = _user_id(request)
    me = request[USER].id
    return await _change(
        request,
        lambda conn: accounts.set_disabled(conn, user_id, disabled, by_user_id=me),
        "disabled" if disabled else "enabled",
    )


@auth.protected("admin", action="user_disable")
async def user_disable(request: web.Request) -> web.StreamResponse:
    """POST /staff/users/{uid}/disable: disable the account and end its sessions at once."""
    return await _set_disabled(request, True)


@auth.protected("admin", action="user_enable")
async def user_enable(request: web.Request) -> web.StreamResponse:
    """POST /staff/users/{uid}/enable: let the account sign in again."""
    return await _set_disabled(request, False)


@auth.protected("admin", action="totp_reset")
async def user_second_factor_reset(request: web.Request) -> web.StreamResponse:
    """POST /staff/users/{uid}/second-factor/reset: a lost phone; sets up anew at sign-in."""
    user_id = _user_id(request)
    return await _change(
        request, lambda conn: accounts.reset_second_factor(conn, user_id), "second_factor"
    )
