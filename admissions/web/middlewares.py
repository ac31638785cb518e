"""Request middlewares: proxy headers, error pages, sessions, CSRF / cross-origin refusal."""

from __future__ import annotations

import hmac
import logging

import aiohttp_jinja2
from aiohttp import web

from admissions.training.nludata import DataFileError
from admissions.web import addresses, audit, auth, security, templating
from admissions.web.auth import Handler
from admissions.web.keys import APP_DB, SETTINGS, STALE_SESSION, USER

logger = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_CSRF_COOKIE = "staff_login_csrf"
_warned_untrusted = False
_MESSAGES = {
    400: "That request was not understood.",
    401: "Sign in first.",
    403: "You cannot do that.",
    404: "There is nothing here.",
    405: "That action is not allowed here.",
    410: "This conversation is no longer available.",
    413: "That was too large.",
    429: "Too many attempts. Wait a while and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


def _is_staff(request: web.Request) -> bool:
    return request.path.startswith(security.STAFF_PREFIX) and not request.path.startswith(
        security.STATIC_PREFIX
    )


@web.middleware
async def proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """From a proxy on the allow-list, take the scheme and client address from its headers."""
    global _warned_untrusted
    trusted = request.app[SETTINGS].proxy_networks()
    peer = request.remote
    if not addresses.is_trusted_peer(peer, trusted):
        if "X-Forwarded-For" in request.headers and not _warned_untrusted:
            _warned_untrusted = True
            logger.warning(
                "X-Forwarded-For from a peer that is not a trusted proxy is ignored (every "
                "visitor behind that proxy shares one address): set "
                "ADMISSIONS_WEB_TRUSTED_PROXIES to the proxy's address"
            )
        return await handler(request)
    changes: dict[str, str] = {}
    protos = addresses.forwarded_hops(request.headers.getall("X-Forwarded-Proto", []))
    proto = protos[-1].lower() if protos else ""  # the value our nearest proxy set
    if proto in ("http", "https"):
        changes["scheme"] = proto
    client = addresses.client_address(peer, request.headers.getall("X-Forwarded-For", []), trusted)
    if client and client != peer:
        changes["remote"] = client
    return await handler(request.clone(**changes) if changes else request)  # type: ignore[arg-type]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Staff-area errors as plain pages; unexpected exceptions logged without request data."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not _is_staff(request):
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
        page = await _error_page(request, exc.status, message)
        if "Allow" in exc.headers:
            page.headers["Allow"] = exc.headers["Allow"]
        return page
    except DataFileError as exc:  # a hand-edited data/nlu file broke: say which and where
        if not _is_staff(request):
            raise
        logger.warning("training data file problem on %s %s", request.method, request.path)
        return await _error_page(request, 500, str(exc))
    except Exception:
        if not _is_staff(request):
            raise
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return await _error_page(request, 500, None)


async def _error_page(request: web.Request, status: int, message: str | None) -> web.Response:
    # Rendered outside aiohttp-jinja2's context-processor middleware: add the context here.
    context = {
        **(await templating.staff_context(request)),
        "status": status,
        "message": message or _MESSAGES.get(status, "Error."),
    }
    return aiohttp_jinja2.render_template("staff/error.html", request, context, status=status)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the signed-in user (``request[USER]``) when the session cookie is live."""
    if not _is_staff(request):
        return await handler(request)
    token = auth.session_token(request)
    if token:
        user = await auth.load_session(request.app[APP_DB], token, request.app[SETTINGS])
        if user is not None:
            request[USER] = user
        else:
            request[STALE_SESSION] = True
    response = await handler(request)
    new_session = {auth.SESSION_COOKIE, auth.SECURE_SESSION_COOKIE} & set(response.cookies)
    if request.get(STALE_SESSION) and not response.prepared and not new_session:
        auth.clear_session_cookie(response)
    return response


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing staff requests from other sites or without the CSRF token."""
    if request.method not in UNSAFE_METHODS or not _is_staff(request):
        return await handler(request)
    if not security.same_origin(request):
        await audit.record(request, "csrf_check", "denied", detail={"reason": "cross-origin"})
        raise web.HTTPForbidden(text="Requests from other sites are refused.")
    form = await request.post()
    sent = form.get("csrf_token")
    if request.path == auth.LOGIN_PATH or request.path.startswith(auth.LOGIN_PATH + "/"):
        # the sign-in steps (password, then code or enrolment) run before any session exists
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        user = request.get(USER)
        expected = user.csrf_token if user else None
    if not (
        isinstance(sent, str) and expected and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        reason = "no session" if expected is None else "bad token"
        await audit.record(request, "csrf_check", "denied", detail={"reason": reason})
        raise web.HTTPForbidden(
            text="This form has expired or did not come from this site. Reload and try again."
        )
    return await handler(request)
