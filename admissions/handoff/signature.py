"""Signing webhook bodies: HMAC-SHA256 over ``"<timestamp>.<body>"`` with a shared secret.

The header reads ``t=<unix seconds>,v1=<hex digest>``. The receiver recomputes the digest
with the secret, compares in constant time and refuses a timestamp outside its tolerance
(a recorded request replayed later fails). See docs/crm-webhook.md.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Admissions-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: bytes, body: bytes, header: str, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is recent enough."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
