"""The staff second factor: TOTP (RFC 6238, with ``pyotp``) and one-time recovery codes.

A secret is made on enrolment and shown once as a QR code (inline SVG made by ``segno``: no
image request, no script) and as text. A code is accepted for the current 30-second step or
one step either side, and each step only once per account (no replay). Recovery codes are
random (about 79 bits), shown once and stored as SHA-256 hashes. Every check of a code is
counted and throttled like a password (``check_code``), under its own key so a right password
does not reset the count of wrong codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from enum import Enum

import pyotp
import segno
from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import second_factor
from admissions.web import auth, throttle
from admissions.web.settings import Settings

DIGITS = 6
INTERVAL = 30  # seconds
WINDOW = 1  # steps accepted either side of now (clock drift)
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 16


class Method(str, Enum):
    """How a second factor was proved."""

    TOTP = "totp"
    RECOVERY = "recovery_code"


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` (presentation attributes only, no styles)."""
    code = segno.make(uri, error="m", micro=False)
    return str(
        code.svg_inline(
            scale=5,
            dark="#000",
            light="#fff",
            border=4,
            title="QR code for your authenticator app",
            svgclass="qr",
            lineclass=None,
        )
    )


def matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time step ``code`` is valid for (now, or one step either side), else None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now = at or datetime.now(timezone.utc)
    found = None
    for offset in range(-WINDOW, WINDOW + 1):
        moment = now + timedelta(seconds=offset * INTERVAL)
        if hmac.compare_digest(totp.at(moment), code):  # check every step: same time either way
            found = totp.timecode(moment)
    return found


def new_recovery_codes() -> list[str]:
    """Ten fresh recovery codes, ``xxxx-xxxx-xxxx-xxxx``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def recovery_hash(code: str) -> str:
    """What is stored for a recovery code: SHA-256 of its normalised form."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """A typed code that is not six digits is read as a recovery code."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return len(normal) == _RECOVERY_LENGTH


def attempt_key(username: str) -> str:
    """The throttling key of second-factor attempts (apart from password attempts)."""
    return f"2fa:{auth.username_key(username)}"[:64]


async def check_code(
    engine: AsyncEngine,
    user_id: int,
    username: str,
    code: str,
    address: str,
    settings: Settings,
    *,
    enrolling: bool = False,
) -> Method | None:
    """Count, then check one second-factor code: a TOTP code, or (not while enrolling) a
    recovery code. Returns how it was proved, or None. Raises ``throttle.Throttled``.

    The attempt is stored as a failure before the code is checked (as for passwords), so
    simultaneous guesses cannot pass the limit; the accepted step is recorded in the same
    transaction as the check, so a code cannot be used twice.
    """
    attempt = await throttle.begin_attempt(engine, attempt_key(username), address, settings)
    method: Method | None = None
    async with engine.begin() as conn:
        row = await second_factor.factor(conn, user_id)
        if row is not None and (row.confirmed_at is None) == enrolling:
            step = matching_step(row.secret, code)
            if step is not None and await second_factor.use_step(
                conn, user_id, step, confirm=enrolling
            ):
                method = Method.TOTP
            elif not enrolling and looks_like_recovery_code(code):
                if await second_factor.use_recovery_code(conn, user_id, recovery_hash(code)):
                    method = Method.RECOVERY
    await throttle.end_attempt(engine, attempt, succeeded=method is not None)
    return method
