"""A small client for the running Rasa server's HTTP API (``rasa run --enable-api``).

Authentication: a JWT signed with HS256 (``RASA_JWT_SECRET``, matching
``rasa run --jwt-secret ... --jwt-method HS256``) sent as ``Authorization: Bearer``, with the
``admin`` role Rasa requires for model endpoints; or, for servers still started with
``--auth-token``, that token (``RASA_AUTH_TOKEN``) as the ``token`` query parameter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp

USERNAME = "admissions-staff-app"


class RasaError(RuntimeError):
    """The Rasa server refused or failed; the message says why in plain words."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(secret: str, payload: dict[str, Any]) -> str:
    """A compact JWS (RFC 7515/7519) signed with HMAC-SHA256."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{header}.{body}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def admin_token(secret: str, lifetime: int = 300) -> str:
    """A short-lived admin JWT in the shape Rasa checks (``user.username``, ``user.role``)."""
    now = int(time.time())
    return jwt_hs256(
        secret,
        {"user": {"username": USERNAME, "role": "admin"}, "iat": now, "exp": now + lifetime},
    )


class RasaServer:
    """The Rasa server at ``url``."""

    def __init__(
        self,
        url: str,
        *,
        jwt_secret: str | None = None,
        auth_token: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        """Where the server is and how to authenticate."""
        self.url = url.rstrip("/")
        self.jwt_secret = jwt_secret
        self.auth_token = auth_token
        self.timeout = timeout

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        if self.jwt_secret:
            return {"Authorization": f"Bearer {admin_token(self.jwt_secret)}"}, {}
        if self.auth_token:
            return {}, {"token": self.auth_token}
        return {}, {}

    async def _request(
        self, method: str, path: str, *, json_body: Any = None, timeout: float | None = None
    ) -> tuple[int, Any]:
        headers, params = self._auth()
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=client_timeout) as session:
                async with session.request(
                    method, self.url + path, json=json_body, headers=headers, params=params
                ) as response:
                    raw = await response.read()
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        body = raw.decode(errors="replace")[:500]
                    return response.status, body
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RasaError(
                f"The Rasa server at {self.url} did not answer ({type(exc).__name__}). "
                "Is it running (make run)?"
            ) from None

    @staticmethod
    def _why(status: int, body: Any) -> str:
        if status in (401, 403):
            return (
                "the Rasa server refused our credentials: check that RASA_JWT_SECRET matches "
                "its --jwt-secret (or RASA_AUTH_TOKEN its --auth-token)"
            )
        message = body.get("message") if isinstance(body, dict) else body
        return f"the Rasa server answered {status}: {str(message)[:300]}"

    async def status(self) -> dict[str, Any]:
        """``GET /status``: the loaded model's file name and id."""
        status, body = await self._request("GET", "/status", timeout=30)
        if status != 200 or not isinstance(body, dict):
            raise RasaError(self._why(status, body))
        return body

    async def load_model(self, model_file: str) -> None:
        """``PUT /model``: load the model archive at ``model_file`` (a path the server can read)."""
        status, body = await self._request("PUT", "/model", json_body={"model_file": model_file})
        if status not in (200, 204):
            raise RasaError(self._why(status, body))

    async def parse(self, text: str) -> dict[str, Any]:
        """``POST /model/parse``: what the loaded model understands from ``text``."""
        status, body = await self._request(
            "POST", "/model/parse", json_body={"text": text}, timeout=60
        )
        if status != 200 or not isinstance(body, dict):
            raise RasaError(self._why(status, body))
        return body
