"""Is a newly started Rasa server healthy? It has loaded the right model, answers a greeting
and gives the crisis reply to a crisis message (the smoke conversation, whose rows are then
deleted from the tracker database). Split out of ``serving`` (the swap), which re-exports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from admissions.training.rasa_api import admin_token
from admissions.training.rasa_process import alive

logger = logging.getLogger(__name__)

SMOKE_PREFIX = "smoke-check-"
SMOKE_GREETING = "/greet"
SMOKE_CRISIS = "I want to kill myself"


class SwapError(RuntimeError):
    """Why the new Rasa process could not take over (nothing was changed)."""


async def _call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    secret: str | None,
    body: Any = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    if secret:
        headers["Authorization"] = f"Bearer {admin_token(secret)}"
    async with session.request(
        method, url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as response:
        raw = await response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None


async def wait_ready(
    url: str, model: str, pid: int, secret: str | None, timeout: float, log: str = ""
) -> None:
    """Wait until the server at ``url`` reports ``model`` loaded; ``SwapError`` otherwise."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if not alive(pid):
                raise SwapError(f"the new Rasa server exited while starting. {log}")
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, OSError):
                status, body = await _call(session, "GET", url + "/status", secret, timeout=5)
                if status in (401, 403):
                    raise SwapError("the new Rasa server refused our credentials (JWT secret)")
                if status == 200 and isinstance(body, dict):
                    loaded = Path(str(body.get("model_file") or "")).name
                    if loaded == Path(model).name:
                        return
                    if loaded:
                        raise SwapError(f"the new Rasa server loaded {loaded}, not the model")
            await asyncio.sleep(0.5)
    raise SwapError(f"the new Rasa server was not ready within {timeout:.0f} s")


def _norm(text: str) -> str:
    return " ".join(text.split())


async def smoke_test(url: str, secret: str | None, timeout: float = 60.0) -> str:
    """A short conversation on the new server: the greeting is answered and a crisis message
    gets the crisis reply (``utter_crisis`` of the server's own domain). Returns its id."""
    sender = SMOKE_PREFIX + uuid.uuid4().hex[:16]
    async with aiohttp.ClientSession() as session:
        status, domain = await _call(session, "GET", url + "/domain", secret, timeout=timeout)
        crisis = []
        if status == 200 and isinstance(domain, dict):
            variants = (domain.get("responses") or {}).get("utter_crisis") or []
            crisis = [_norm(str(v.get("text") or ""))[:60] for v in variants if isinstance(v, dict)]
        if not crisis:
            raise SwapError("the new Rasa server's domain has no utter_crisis response")
        webhook = url + "/webhooks/rest/webhook"
        for text, check in ((SMOKE_GREETING, None), (SMOKE_CRISIS, crisis)):
            status, replies = await _call(
                session, "POST", webhook, None, {"sender": sender, "message": text}, timeout
            )
            texts = [_norm(str(r.get("text") or "")) for r in replies or [] if isinstance(r, dict)]
            if status != 200 or not any(texts):
                raise SwapError(f"the new Rasa server did not answer {text!r} (status {status})")
            if check and not any(t.startswith(c) for t in texts for c in check):
                raise SwapError(
                    "the new Rasa server did not give the crisis reply to a crisis message"
                )
    return sender


def delete_conversation(tracker_db_url: str, sender: str) -> None:
    """Remove a smoke conversation's rows from the tracker database (best effort)."""
    import sqlalchemy as sa

    from admissions.db.engine import create_sync_engine

    if not sender.startswith(SMOKE_PREFIX) or not tracker_db_url:
        return
    try:
        engine = create_sync_engine(tracker_db_url, foreign_keys=False)
    except Exception:  # noqa: BLE001 - best effort
        logger.warning("could not open the tracker database to delete the smoke conversation")
        return
    try:
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
                return
            except sa.exc.OperationalError:  # busy: try again shortly
                time.sleep(0.2 * (attempt + 1))
        logger.warning("could not delete the smoke-test conversation from the tracker database")
    finally:
        engine.dispose()
