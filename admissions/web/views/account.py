"""Sign in, sign out, the home page and changing one's own password."""

from __future__ import annotations

import asyncio
import logging
import secrets

import aiohttp_jinja2
from aiohttp import web

from admissions.db import staff
from admissions.web import audit, auth
from admissions.web.keys import APP_DB, SETTINGS, USER
from admissions.web.middlewares import LOGIN_CSRF_COOKIE
from admissions.web.responses import redirect

logger = logging.getLogger(__name__)

SIGN_IN_FAILED = "Wrong username or password."
THROTTLED = "Too many sign-in attempts. Wait 15 minutes and try again."


def _login_form(
    request: web.Request, *, error: str | None, status: int, next_url: str
) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        "staff/login.html",
        request,
        {"error": error, "login_csrf": token, "next": next_url},
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=auth.LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=auth.is_secure(request, request.app[SETTINGS]),
        max_age=3600,
    )
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/login: the sign-in form."""
    next_url = auth.safe_next(request.query.get("next"))
    if request.get(USER) is not None:
        return redirect(next_url, status=302)
    return _login_form(request, error=None, status=200, next_url=next_url)


async def login(request: web.Request) -> web.StreamResponse:
    """POST /staff/login: check throttling, then the password; one answer for every failure."""
    form = await request.post()
    username = str(form.get("username", ""))[:200]
    password = str(form.get("password", ""))
    next_url = auth.safe_next(str(form.get("next", "")))
    settings = request.app[SETTINGS]
    engine = request.app[APP_DB]
    key = auth.username_key(username)
    address = request.remote or "unknown"
    if await auth.throttled(engine, key, address, settings):
        await audit.record(request, "login", "throttled", detail={"username": key})
        logger.info("sign-in throttled")
        return _login_form(request, error=THROTTLED, status=429, next_url=next_url)
    account = await auth.authenticate(engine, username, password)
    await auth.record_attempt(engine, key, address, succeeded=account is not None)
    if account is None:
        await audit.record(request, "login", "denied", detail={"username": key})
        logger.info("sign-in failed")
        return _login_form(request, error=SIGN_IN_FAILED, status=401, next_url=next_url)
    old = auth.session_token(request)
    if old:
        await auth.end_session(engine, auth.token_hash(old))
    token = await auth.create_session(engine, account.id)
    await audit.write(
        engine,
        username=account.username,
        action="login",
        result="ok",
        address=request.remote,
    )
    response = redirect(next_url)
    auth.clear_session_cookie(response)
    auth.set_session_cookie(response, token, request, settings)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=auth.LOGIN_PATH)
    return response


@auth.protected(action="logout", audit_success=True)
async def logout(request: web.Request) -> web.StreamResponse:
    """POST /staff/logout: end the session at once."""
    user = request[USER]
    await auth.end_session(request.app[APP_DB], user.session_hash)
    response = redirect(auth.LOGIN_PATH)
    auth.clear_session_cookie(response)
    return response


@auth.protected(action="home", audit_success=False)
@aiohttp_jinja2.template("staff/home.html")
async def home(request: web.Request) -> dict[str, object]:
    """GET /staff/: where each role goes from here."""
    return {}


@auth.protected(action="password_page", audit_success=False)
@aiohttp_jinja2.template("staff/password.html")
async def password_page(request: web.Request) -> dict[str, object]:
    """GET /staff/password: the change-password form."""
    return {"error": None, "done": request.query.get("done") == "1"}


@auth.protected(action="password_change")
async def password_change(request: web.Request) -> web.StreamResponse:
    """POST /staff/password: check the current password, store the new one, end other sessions."""
    user = request[USER]
    form = await request.post()
    current = str(form.get("current", ""))
    new = str(form.get("new", ""))
    again = str(form.get("again", ""))
    engine = request.app[APP_DB]
    error = None
    if await auth.authenticate(engine, user.username, current) is None:
        error = "Your current password is not right."
    elif new != again:
        error = "The two new passwords differ."
    else:
        error = auth.password_problem(new)
    if error:
        return aiohttp_jinja2.render_template(
            "staff/password.html", request, {"error": error, "done": False}, status=400
        )
    new_hash = await asyncio.to_thread(auth.hash_password, new)
    async with engine.begin() as conn:
        await staff.set_password(conn, user.id, new_hash)
    # Every session ended, this one too: sign in again with the new password.
    response = redirect(auth.LOGIN_PATH)
    auth.clear_session_cookie(response)
    return response
