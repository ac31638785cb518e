"""Talking to one Rasa server over its REST channel and tracker API (the simulator, the load
benchmark and the turn profiler), signing requests as ``rasa run --jwt-secret`` expects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.request
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def admin_jwt(secret: str) -> str:
    """A short-lived HS256 admin token in the shape ``rasa run --jwt-secret`` checks."""
    now = int(time.time())
    claims = {"user": {"username": "simulate", "role": "admin"}, "iat": now, "exp": now + 3600}
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


class Rasa:
    """The REST channel and tracker API of one Rasa server."""

    def __init__(self, url: str, jwt_secret: str | None = None) -> None:
        """Target ``url``; sign tracker requests when the server has a JWT secret."""
        self.url = url.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if jwt_secret:
            self.headers["Authorization"] = f"Bearer {admin_jwt(jwt_secret)}"

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=self.headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send one message; the bot's replies."""
        return list(self._call("/webhooks/rest/webhook", {"sender": sender, "message": text}))

    def slots(self, sender: str) -> dict[str, Any]:
        """The conversation's current slots."""
        return dict(self._call(f"/conversations/{sender}/tracker")["slots"])
