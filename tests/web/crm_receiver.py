"""A real CRM webhook receiver on loopback for the outbox tests, written from
docs/crm-webhook.md alone (it does not use the app's signing code).

``mode`` decides each answer: ``ok`` (store once per idempotency key, answer 200; a key seen
before is answered 200 and not stored again), ``fail`` (500), ``hang`` (answer nothing until
long after the sender's timeout), ``late`` (store, then answer only after the sender's
timeout: the sender must retry, the receiver must not store twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from scripts.stack import free_port

TOLERANCE = 300


@dataclass
class Receiver:
    """The receiving side: what arrived, in order."""

    secret: bytes
    port: int = field(default_factory=free_port)
    mode: str = "ok"
    hang_seconds: float = 2.0
    stored: list[dict[str, Any]] = field(default_factory=list)  # first arrival of each key
    requests: list[tuple[str, str]] = field(default_factory=list)  # (key, mode) of every POST
    bad_signatures: int = 0
    duplicates: int = 0
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/crm/hook"

    def verified(self, request_body: bytes, header: str) -> bool:
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if abs(time.time() - int(parts.get("t", "0"))) > TOLERANCE:
            return False
        signed = parts.get("t", "").encode() + b"." + request_body
        expected = hmac.new(self.secret, signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        self.requests.append((key, self.mode))
        if not self.verified(body, request.headers.get("X-Admissions-Signature", "")):
            self.bad_signatures += 1
            return web.Response(status=401)
        mode = self.mode
        if mode == "fail":
            return web.Response(status=500)
        if mode == "hang":
            await asyncio.sleep(self.hang_seconds)
            return web.Response(status=503)
        document = json.loads(body)
        assert document["idempotency_key"] == key
        if any(d["idempotency_key"] == key for d in self.stored):
            self.duplicates += 1
        else:
            self.stored.append(document)
        if mode == "late":
            await asyncio.sleep(self.hang_seconds)
        return web.Response(status=200, text="stored")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/crm/hook", self.handle)
        self.runner = web.AppRunner(app, handler_cancellation=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def keys(self) -> list[str]:
        """Idempotency keys stored, in arrival order."""
        return [d["idempotency_key"] for d in self.stored]
