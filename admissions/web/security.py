"""Security headers on every response and the same-origin check for state-changing requests."""

from __future__ import annotations

from aiohttp import web

from admissions.web.keys import SETTINGS

STAFF_PREFIX = "/staff/"
STATIC_PREFIX = "/staff/static/"

# No scripts at all in the staff area; styles only from our own stylesheet.
STAFF_CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# Default for other pages (the public demo may set its own policy): still no inline scripts.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: runs for every response, errors and static files too."""
    headers = response.headers
    headers["Server"] = "admissions"  # no version banner
    staff = request.path.startswith(STAFF_PREFIX) or request.path == STAFF_PREFIX.rstrip("/")
    if staff:
        headers["Content-Security-Policy"] = STAFF_CSP
        for name, value in COMMON_HEADERS.items():
            headers[name] = value
        if not request.path.startswith(STATIC_PREFIX):
            # Pages with transcript data must never be stored by a browser or proxy.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
    else:
        headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        for name, value in COMMON_HEADERS.items():
            headers.setdefault(name, value)
    if request.secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def expected_origins(request: web.Request) -> set[str]:
    """Origins allowed to send state-changing requests: our own and any configured."""
    settings = request.app[SETTINGS]
    return {f"{request.scheme}://{request.host}", *settings.allowed_origins}


def same_origin(request: web.Request) -> bool:
    """False when the browser tells us the request comes from another site.

    ``Sec-Fetch-Site`` is trusted when present. ``Origin`` must match when it names an
    origin; with ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` for our own
    form posts, so ``null`` alone is not a refusal (the CSRF token and SameSite=Strict still
    apply). Clients that send neither header are not browsers and carry no ambient cookies.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        return origin.rstrip("/") in expected_origins(request)
    return True


def setup(app: web.Application) -> None:
    """Install the response headers hook."""
    app.on_response_prepare.append(add_security_headers)
