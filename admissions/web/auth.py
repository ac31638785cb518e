"""Staff authentication: Argon2id passwords, server-side sessions, roles (sign-in throttling:
``throttle``)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db.audit import bounded_id
from admissions.db.models import ROLES, SESSIONS, USERS
from admissions.web import audit, throttle
from admissions.web.keys import AUDIT, SETTINGS, USER, AuditContext, CurrentUser
from admissions.web.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

SESSION_COOKIE = "staff_session"
SECURE_SESSION_COOKIE = "__Host-staff_session"  # __Host-: Secure, Path=/, no Domain
LOGIN_PATH = "/staff/login"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_TOUCH_EVERY = timedelta(seconds=30)

# Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
HASHER = PasswordHasher()
_dummy_hash: str | None = None


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def hash_password(password: str) -> str:
    """Hash ``password`` with Argon2id."""
    return HASHER.hash(password)


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable as a new password, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "The password cannot be only spaces."
    return None


def check_roles(roles: list[str]) -> frozenset[str]:
    """Validate role names; raises ValueError naming the bad one."""
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (use {', '.join(ROLES)})")
    if not roles:
        raise ValueError("give at least one role")
    return frozenset(roles)


def _verify(stored_hash: str | None, password: str) -> bool:
    global _dummy_hash
    if stored_hash is None:
        # Unknown user: spend the same time as a real check so timing reveals nothing.
        if _dummy_hash is None:
            _dummy_hash = HASHER.hash(secrets.token_urlsafe(16))
        stored_hash = _dummy_hash
        password = password + "\0"  # never matches
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """What we store for a session token: its SHA-256 (a stolen table grants no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def username_key(username: str) -> str:
    """Usernames compare case-insensitively and trimmed."""
    return username.strip().lower()[:64]


class Account(NamedTuple):
    """A signed-in account as authentication returns it (no password hash)."""

    id: int
    username: str
    roles: frozenset[str]


class Busy(Exception):
    """Too many password checks are running at once: try again in a moment."""


async def argon2(slots: asyncio.Semaphore, wait: float, fn: Callable[..., T], *args: Any) -> T:
    """Run one Argon2 computation in a thread, ``slots`` at a time (``Busy`` after ``wait`` s).

    Each check holds 64 MiB and a core for a while, in the process that also serves ``/chat``:
    a flood of sign-ins must queue here briefly and then be refused, not pile up in threads.
    """
    try:
        await asyncio.wait_for(slots.acquire(), wait)
    except asyncio.TimeoutError:
        raise Busy from None
    try:
        return await asyncio.to_thread(fn, *args)
    finally:
        slots.release()


async def authenticate(
    engine: AsyncEngine,
    username: str,
    password: str,
    *,
    slots: asyncio.Semaphore,
    wait: float = 10.0,
) -> Account | None:
    """The enabled account with this username and password, else None (same cost either way)."""
    t = USERS
    async with engine.connect() as conn:
        row = (
            await conn.execute(sa.select(t).where(t.c.username == username_key(username)))
        ).first()
    stored = row.password_hash if row is not None else None
    ok = await argon2(slots, wait, _verify, stored, password[:MAX_PASSWORD_LENGTH])
    if not ok or row is None or row.disabled:
        return None
    if HASHER.check_needs_rehash(row.password_hash):
        new_hash = await argon2(slots, wait, hash_password, password)
        async with engine.begin() as conn:
            await conn.execute(sa.update(t).where(t.c.id == row.id).values(password_hash=new_hash))
    return Account(row.id, row.username, frozenset(r for r in row.roles.split(",") if r))


async def check_password(
    engine: AsyncEngine,
    username: str,
    password: str,
    address: str,
    settings: Settings,
    slots: asyncio.Semaphore,
) -> Account | None:
    """Throttle, count, then verify one password attempt (sign-in or re-authentication).

    The attempt is stored as a failure *before* the password is checked (``begin_attempt``),
    so simultaneous guesses cannot all slip under the limit: at most the allowed number are
    ever verified. Raises ``Throttled`` or ``Busy``.
    """
    key = username_key(username)
    attempt = await throttle.begin_attempt(engine, key, address, settings)
    try:
        account = await authenticate(
            engine, username, password, slots=slots, wait=settings.password_check_wait_seconds
        )
    except Busy:
        await throttle.drop_attempt(engine, attempt)
        raise
    await throttle.end_attempt(engine, attempt, succeeded=account is not None)
    return account


async def create_session(engine: AsyncEngine, user_id: int) -> str:
    """Start a new session (always a fresh id) and return its token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    async with engine.begin() as conn:
        await conn.execute(
            SESSIONS.insert().values(
                token_hash=token_hash(token),
                user_id=user_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
            )
        )
    return token


async def load_session(engine: AsyncEngine, token: str, settings: Settings) -> CurrentUser | None:
    """The user behind ``token`` if the session is live; expired sessions are deleted."""
    hashed = token_hash(token)
    s, u = SESSIONS, USERS
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(
                    s.c.csrf_token,
                    s.c.created_at,
                    s.c.last_seen_at,
                    u.c.id,
                    u.c.username,
                    u.c.roles,
                    u.c.disabled,
                )
                .join(u, u.c.id == s.c.user_id)
                .where(s.c.token_hash == hashed)
            )
        ).first()
    if row is None:
        return None
    now = now_utc()
    idle = now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
    too_old = now - row.created_at > timedelta(hours=settings.session_max_hours)
    if idle or too_old or row.disabled:
        await end_session(engine, hashed)
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(s).where(s.c.token_hash == hashed).values(last_seen_at=now)
            )
    return CurrentUser(
        id=row.id,
        username=row.username,
        roles=frozenset(r for r in row.roles.split(",") if r),
        session_hash=hashed,
        csrf_token=row.csrf_token,
    )


async def end_session(engine: AsyncEngine, hashed: str) -> None:
    """End one session at once."""
    async with engine.begin() as conn:
        await conn.execute(sa.delete(SESSIONS).where(SESSIONS.c.token_hash == hashed))


async def end_user_sessions(engine: AsyncEngine, user_id: int, *, keep: str | None = None) -> None:
    """End every session of a user (disabling, password change), optionally but one."""
    t = SESSIONS
    query = sa.delete(t).where(t.c.user_id == user_id)
    if keep is not None:
        query = query.where(t.c.token_hash != keep)
    async with engine.begin() as conn:
        await conn.execute(query)


def is_secure(request: web.Request, settings: Settings) -> bool:
    """Whether cookies for this request must be Secure."""
    return request.secure or settings.secure_cookies


def session_cookie_name(request: web.Request, settings: Settings) -> str:
    """The one session cookie name for this request: ``__Host-`` over HTTPS, plain otherwise."""
    return SECURE_SESSION_COOKIE if is_secure(request, settings) else SESSION_COOKIE


def session_token(request: web.Request) -> str | None:
    """The session token the browser sent under this request's cookie name, if any.

    Over HTTPS only the ``__Host-`` name counts: an unprefixed cookie can be planted by a
    sibling subdomain or a plain-HTTP response (session fixation), a ``__Host-`` one cannot.
    """
    return request.cookies.get(session_cookie_name(request, request.app[SETTINGS])) or None


def set_strict_cookie(
    response: web.StreamResponse,
    name: str,
    value: str,
    request: web.Request,
    settings: Settings,
    *,
    path: str = "/",
    max_age: int | None = None,
) -> None:
    """A cookie no script reads and no other site sends: HttpOnly, SameSite=Strict, and
    Secure when served over HTTPS."""
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        samesite="Strict",
        secure=is_secure(request, settings),
        max_age=max_age,
    )


def set_session_cookie(
    response: web.StreamResponse, token: str, request: web.Request, settings: Settings
) -> None:
    """HttpOnly, SameSite=Strict, Secure (and ``__Host-``) when served over HTTPS."""
    set_strict_cookie(response, session_cookie_name(request, settings), token, request, settings)


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Tell the browser to forget both possible session cookies."""
    response.del_cookie(SESSION_COOKIE, path="/")
    response.del_cookie(SECURE_SESSION_COOKIE, path="/", secure=True)


def protected(*roles: str, action: str, audit_success: bool = True) -> Callable[[Handler], Handler]:
    """Require a signed-in user holding one of ``roles`` (any role when none are given).

    Every refusal writes an audit row; with ``audit_success`` every other outcome writes
    exactly one row too (the handler may fill ``request[AUDIT]`` with a conversation id and
    detail, or call ``audit.commit`` itself before streaming).
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            ctx = AuditContext(action=action, conversation_id=request.match_info.get("cid"))
            request[AUDIT] = ctx
            user = request.get(USER)
            if user is None:
                _unvalidated_path_id(ctx, keep=0)  # anyone can send anything: not stored
                await audit.commit(request, "unauthenticated")
                if request.method in ("GET", "HEAD"):
                    raise web.HTTPFound(login_url(request))
                raise web.HTTPUnauthorized(text="Sign in first.")
            if roles and not user.has_role(*roles):
                _unvalidated_path_id(ctx, keep=64)
                await audit.commit(request, "denied")
                raise web.HTTPForbidden(text="Your account's role cannot open this page.")
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if audit_success:
                    await audit.commit(request, audit.result_for_status(exc.status))
                raise
            except Exception:
                if audit_success:
                    await audit.commit(request, "error")
                raise
            if audit_success:
                await audit.commit(request, audit.result_for_status(response.status))
            return response

        wrapper.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        wrapper.audit_action = action  # type: ignore[attr-defined]
        wrapper.audit_success = audit_success  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _unvalidated_path_id(ctx: AuditContext, *, keep: int) -> None:
    """A refused request's conversation id was never checked: keep at most ``keep`` chars."""
    cid = ctx.conversation_id
    if cid is None or len(cid) <= keep:
        return
    ctx.detail["path_id_length"] = len(cid)
    ctx.conversation_id = bounded_id(cid, keep) if keep else None


def login_url(request: web.Request) -> str:
    """The sign-in page, coming back here afterwards."""
    return f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}"


def safe_next(value: str | None) -> str:
    """A local staff path to go to after sign-in (never another site)."""
    if (
        value
        and value.startswith("/staff/")
        and not value.startswith("//")
        and "\\" not in value
        and not any(ord(c) < 32 for c in value)
    ):
        return value
    return "/staff/"
