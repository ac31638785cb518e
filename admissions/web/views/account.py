"""Sign in, sign out, the home page and changing one's own password."""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web

from admissions.db import second_factor as factors
from admissions.db import staff
from admissions.web import addresses, audit, auth, throttle
from admissions.web.keys import APP_DB, AUDIT_KEY, PASSWORD_SLOTS, SETTINGS, USER
from admissions.web.middlewares import LOGIN_CSRF_COOKIE
from admissions.web.responses import redirect
from admissions.web.views import second_factor

logger = logging.getLogger(__name__)

SIGN_IN_FAILED = "Wrong username or password."
THROTTLED = "Too many sign-in attempts. Wait 15 minutes and try again."
BUSY = "Too many people are signing in right now. Try again in a moment."
BUSY_RETRY_SECONDS = 5


async def _tried(request: web.Request, key: str) -> dict[str, str]:
    """The audit detail naming the account a failed sign-in tried (hashed when unknown)."""
    async with request.app[APP_DB].connect() as conn:
        exists = await staff.find_user(conn, key) is not None
    return audit.username_detail(request.app[AUDIT_KEY], key, exists)


def _login_form(
    request: web.Request, *, error: str | None, status: int, next_url: str
) -> web.Response:
    return second_factor.sign_in_page(
        request, "staff/login.html", {"error": error, "next": next_url}, status=status
    )


async def login_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/login: the sign-in form."""
    next_url = auth.safe_next(request.query.get("next"))
    if request.get(USER) is not None:
        return redirect(next_url, status=302)
    error = second_factor.EXPIRED if request.query.get("expired") == "1" else None
    return _login_form(request, error=error, status=200, next_url=next_url)


async def login(request: web.Request) -> web.StreamResponse:
    """POST /staff/login: count and throttle the attempt, then check the password."""
    form = await request.post()
    username = str(form.get("username", ""))[:200]
    password = str(form.get("password", ""))
    next_url = auth.safe_next(str(form.get("next", "")))
    settings = request.app[SETTINGS]
    engine = request.app[APP_DB]
    key = auth.username_key(username)
    address = addresses.bucket(request.remote)
    try:
        account = await auth.check_password(
            engine, username, password, address, settings, request.app[PASSWORD_SLOTS]
        )
    except throttle.Throttled:
        await audit.record(request, "login", "throttled", detail=await _tried(request, key))
        logger.info("sign-in throttled")
        return _login_form(request, error=THROTTLED, status=429, next_url=next_url)
    except auth.Busy:
        detail = {**(await _tried(request, key)), "busy": True}
        await audit.record(request, "login", "throttled", detail=detail)
        logger.warning("sign-in refused: too many password checks at once")
        response = _login_form(request, error=BUSY, status=503, next_url=next_url)
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    if account is None:
        await audit.record(request, "login", "denied", detail=await _tried(request, key))
        logger.info("sign-in failed")
        return _login_form(request, error=SIGN_IN_FAILED, status=401, next_url=next_url)
    async with engine.connect() as conn:
        enrolled = await factors.is_enrolled(conn, account.id)
    if enrolled or settings.needs_totp(account.roles):
        # No session yet: the code (or, the first time, setting the factor up) comes first.
        return await second_factor.start(
            request, account, "code" if enrolled else "enrol", next_url
        )
    old = auth.session_token(request)
    if old:
        await auth.end_session(engine, auth.token_hash(old))
    token = await auth.create_session(engine, account.id)
    await audit.for_account(request, account.username, "login", "ok")
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
    settings = request.app[SETTINGS]
    slots = request.app[PASSWORD_SLOTS]

    def page(error: str, status: int) -> web.Response:
        return aiohttp_jinja2.render_template(
            "staff/password.html", request, {"error": error, "done": False}, status=status
        )

    error = None
    try:
        # Throttled like a sign-in and counted against the same account and address: a
        # borrowed session cannot be used to guess the password either.
        current_ok = await auth.check_password(
            engine, user.username, current, addresses.bucket(request.remote), settings, slots
        )
        if current_ok is None:
            error = "Your current password is not right."
        elif new != again:
            error = "The two new passwords differ."
        else:
            error = auth.password_problem(new)
        if error:
            return page(error, 400)
        new_hash = await auth.argon2(
            slots, settings.password_check_wait_seconds, auth.hash_password, new
        )
    except throttle.Throttled:
        return page("Too many wrong passwords. Wait 15 minutes and try again.", 429)
    except auth.Busy:
        response = page(BUSY, 503)
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    async with engine.begin() as conn:
        await staff.set_password(conn, user.id, new_hash)
    # Every session ended, this one too: sign in again with the new password.
    response = redirect(auth.LOGIN_PATH)
    auth.clear_session_cookie(response)
    return response
