"""The second factor: the code step of signing in, enrolment (at sign-in or by choice), and
the recovery codes shown once.

After a right password, an account with a second factor (or whose role needs one) gets no
session yet: it gets a *pending sign-in* (its own short-lived cookie) that opens only
``/staff/login/code`` or ``/staff/login/enrol``. The session starts when the code is right.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from admissions.db import second_factor, staff
from admissions.web import addresses, audit, auth, throttle, totp
from admissions.web.keys import APP_DB, AUDIT, FACILITY, SETTINGS, USER
from admissions.web.middlewares import LOGIN_CSRF_COOKIE
from admissions.web.responses import redirect
from admissions.web.settings import Settings

logger = logging.getLogger(__name__)

PENDING_COOKIE = "staff_pending"
SECURE_PENDING_COOKIE = "__Host-staff_pending"
CODE_PATH = "/staff/login/code"
ENROL_PATH = "/staff/login/enrol"
WRONG_CODE = "That code is not right. Check the time on your phone and try the newest code."
THROTTLED = "Too many wrong codes. Wait 15 minutes and sign in again."
EXPIRED = "That sign-in took too long. Sign in again."


# ----- the pending sign-in -------------------------------------------------------------------
def _pending_name(request: web.Request, settings: Settings) -> str:
    return SECURE_PENDING_COOKIE if auth.is_secure(request, settings) else PENDING_COOKIE


def _clear_pending(response: web.StreamResponse, request: web.Request) -> None:
    secure = auth.is_secure(request, request.app[SETTINGS])
    response.del_cookie(_pending_name(request, request.app[SETTINGS]), path="/", secure=secure)


async def start(
    request: web.Request, account: auth.Account, stage: str, next_url: str
) -> web.StreamResponse:
    """After a right password: store a pending sign-in and send the browser to its step."""
    settings = request.app[SETTINGS]
    engine = request.app[APP_DB]
    token = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await second_factor.add_pending(conn, auth.token_hash(token), account.id, stage)
    await audit.for_account(
        request, account.username, "login_password", "ok", {"second_factor": stage}
    )
    path = CODE_PATH if stage == "code" else ENROL_PATH
    response = redirect(f"{path}?next={quote(next_url, safe='')}")
    auth.set_strict_cookie(
        response,
        _pending_name(request, settings),
        token,
        request,
        settings,
        max_age=settings.second_factor_minutes * 60,
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path=auth.LOGIN_PATH)
    return response


async def _pending(request: web.Request, stage: str) -> tuple[str, Any] | None:
    """The (token hash, account row) of this browser's live pending sign-in at ``stage``."""
    settings = request.app[SETTINGS]
    token = request.cookies.get(_pending_name(request, settings))
    if not token:
        return None
    hashed = auth.token_hash(token)
    async with request.app[APP_DB].begin() as conn:
        row = await second_factor.pending(
            conn, hashed, timedelta(minutes=settings.second_factor_minutes)
        )
        if row is None or row.stage != stage:
            return None
        user = await staff.get_user(conn, row.user_id)
        if user is None or user.disabled:
            await second_factor.end_pending(conn, hashed)
            return None
    return hashed, user


def _expired(request: web.Request) -> web.StreamResponse:
    response = redirect(f"{auth.LOGIN_PATH}?expired=1", status=302)
    _clear_pending(response, request)
    return response


def sign_in_page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A page of the sign-in flow: its forms carry the sign-in CSRF token (no session yet)."""
    token = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        template, request, {**context, "login_csrf": token}, status=status
    )
    settings = request.app[SETTINGS]
    auth.set_strict_cookie(
        response, LOGIN_CSRF_COOKIE, token, request, settings, path=auth.LOGIN_PATH, max_age=3600
    )
    return response


async def _finish(
    request: web.Request, hashed: str, user: Any, detail: dict[str, Any], response: web.Response
) -> web.Response:
    """End the pending sign-in and start the session (a fresh id) on ``response``."""
    settings = request.app[SETTINGS]
    engine = request.app[APP_DB]
    async with engine.begin() as conn:
        await second_factor.end_pending(conn, hashed)
    old = auth.session_token(request)
    if old:
        await auth.end_session(engine, auth.token_hash(old))
    token = await auth.create_session(engine, user.id)
    await audit.for_account(request, user.username, "login", "ok", detail)
    auth.clear_session_cookie(response)
    auth.set_session_cookie(response, token, request, settings)
    _clear_pending(response, request)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=auth.LOGIN_PATH)
    return response


def _next(request: web.Request, form: Any = None) -> str:
    raw = form.get("next", "") if form is not None else request.query.get("next", "")
    return auth.safe_next(str(raw))


# ----- the code step ---------------------------------------------------------------------------
async def code_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/login/code: ask for the authenticator code (or a recovery code)."""
    found = await _pending(request, "code")
    if found is None:
        return _expired(request)
    return sign_in_page(request, "staff/login_code.html", {"error": None, "next": _next(request)})


async def code_submit(request: web.Request) -> web.StreamResponse:
    """POST /staff/login/code: count and throttle the attempt, then check the code."""
    form = await request.post()
    next_url = _next(request, form)
    found = await _pending(request, "code")
    if found is None:
        return _expired(request)
    hashed, user = found
    engine = request.app[APP_DB]
    code = str(form.get("code", ""))[:64]
    try:
        method = await totp.check_code(
            engine,
            user.id,
            user.username,
            code,
            addresses.bucket(request.remote),
            request.app[SETTINGS],
        )
    except throttle.Throttled:
        async with engine.begin() as conn:
            await second_factor.end_pending(conn, hashed)
        await audit.for_account(request, user.username, "login_second_factor", "throttled")
        logger.info("second-factor step throttled")
        context = {"error": THROTTLED, "next": next_url}
        return sign_in_page(request, "staff/login_code.html", context, status=429)
    if method is None:
        await audit.for_account(request, user.username, "login_second_factor", "denied")
        logger.info("second-factor code refused")
        context = {"error": WRONG_CODE, "next": next_url}
        return sign_in_page(request, "staff/login_code.html", context, status=401)
    detail: dict[str, Any] = {"second_factor": method.value}
    if method is totp.Method.RECOVERY:
        async with engine.connect() as conn:
            detail["recovery_codes_left"] = await second_factor.recovery_codes_left(conn, user.id)
    return await _finish(request, hashed, user, detail, redirect(next_url))


# ----- enrolment -------------------------------------------------------------------------------
async def _enrol_context(request: web.Request, user_id: int, username: str) -> dict[str, Any]:
    """The secret being set up (made now or kept from a reload) as a QR code and as text."""
    async with request.app[APP_DB].begin() as conn:
        secret = await second_factor.start_enrolment(conn, user_id, totp.new_secret())
    issuer = request.app[FACILITY].name
    return {
        "qr_svg": totp.qr_svg(totp.provisioning_uri(secret, username, issuer)),
        "secret": totp.grouped(secret),
        "issuer": issuer,
        "account": username,
    }


async def _confirm(request: web.Request, user_id: int, username: str, code: str) -> list[str]:
    """Check the first code of an enrolment; on success store and return new recovery codes.

    Raises ``throttle.Throttled``; returns ``[]`` when the code is wrong. Audited either way.
    """
    engine = request.app[APP_DB]
    method = await totp.check_code(
        engine,
        user_id,
        username,
        code,
        addresses.bucket(request.remote),
        request.app[SETTINGS],
        enrolling=True,
    )
    if method is None:
        return []
    codes = totp.new_recovery_codes()
    async with engine.begin() as conn:
        await second_factor.replace_recovery_codes(conn, user_id, map(totp.recovery_hash, codes))
    return codes


async def enrol_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/login/enrol: set up the second factor before the first session starts."""
    found = await _pending(request, "enrol")
    if found is None:
        return _expired(request)
    _, user = found
    context = {
        **(await _enrol_context(request, user.id, user.username)),
        "error": None,
        "next": _next(request),
        "action": ENROL_PATH,
        "at_sign_in": True,
    }
    return sign_in_page(request, "staff/enrol.html", context)


async def enrol_submit(request: web.Request) -> web.StreamResponse:
    """POST /staff/login/enrol: the first code proves the app is set up; show recovery codes."""
    form = await request.post()
    next_url = _next(request, form)
    found = await _pending(request, "enrol")
    if found is None:
        return _expired(request)
    hashed, user = found

    async def again(error: str, status: int) -> web.Response:
        context = {
            **(await _enrol_context(request, user.id, user.username)),
            "error": error,
            "next": next_url,
            "action": ENROL_PATH,
            "at_sign_in": True,
        }
        return sign_in_page(request, "staff/enrol.html", context, status=status)

    try:
        codes = await _confirm(request, user.id, user.username, str(form.get("code", ""))[:64])
    except throttle.Throttled:
        await audit.for_account(request, user.username, "totp_enrol", "throttled")
        return await again(THROTTLED, 429)
    if not codes:
        await audit.for_account(request, user.username, "totp_enrol", "denied")
        return await again(WRONG_CODE, 400)
    await audit.for_account(
        request, user.username, "totp_enrol", "ok", {"at": "sign-in", "recovery_codes": len(codes)}
    )
    page = aiohttp_jinja2.render_template(
        "staff/recovery_codes.html", request, {"codes": codes, "next": next_url}
    )
    return await _finish(request, hashed, user, {"second_factor": "enrolled"}, page)


@auth.protected(action="second_factor_view", audit_success=False)
async def settings_page(request: web.Request) -> web.StreamResponse:
    """GET /staff/second-factor: whether it is on; if not, set it up here."""
    user = request[USER]
    async with request.app[APP_DB].connect() as conn:
        row = await second_factor.factor(conn, user.id)
        left = await second_factor.recovery_codes_left(conn, user.id)
    enrolled = row is not None and row.confirmed_at is not None
    context: dict[str, Any] = {
        "enrolled": enrolled,
        "since": row.confirmed_at if enrolled and row is not None else None,
        "left": left,
        "required": request.app[SETTINGS].needs_totp(user.roles),
        "error": None,
        "action": "/staff/second-factor",
        "at_sign_in": False,
        "next": "/staff/",
    }
    if not enrolled:
        context.update(await _enrol_context(request, user.id, user.username))
    return aiohttp_jinja2.render_template("staff/second_factor.html", request, context)


@auth.protected(action="totp_enrol")
async def settings_enrol(request: web.Request) -> web.StreamResponse:
    """POST /staff/second-factor: turn the second factor on from a signed-in session."""
    user = request[USER]
    form = await request.post()
    async with request.app[APP_DB].connect() as conn:
        if await second_factor.is_enrolled(conn, user.id):
            return redirect("/staff/second-factor")
    try:
        codes = await _confirm(request, user.id, user.username, str(form.get("code", ""))[:64])
    except throttle.Throttled:
        raise web.HTTPTooManyRequests(text=THROTTLED) from None
    if not codes:
        context = {
            **(await _enrol_context(request, user.id, user.username)),
            "enrolled": False,
            "required": request.app[SETTINGS].needs_totp(user.roles),
            "left": 0,
            "since": None,
            "error": WRONG_CODE,
            "action": "/staff/second-factor",
            "at_sign_in": False,
            "next": "/staff/",
        }
        return aiohttp_jinja2.render_template(
            "staff/second_factor.html", request, context, status=400
        )
    request[AUDIT].detail = {"at": "settings", "recovery_codes": len(codes)}
    return aiohttp_jinja2.render_template(
        "staff/recovery_codes.html", request, {"codes": codes, "next": "/staff/"}
    )
