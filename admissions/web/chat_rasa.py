"""The chat proxy's side of Rasa: the REST channel, the tracker API, and what the widget sees.

Only visitor and bot texts, the bot's buttons and a date field's label and bounds ever leave
this module for the browser: no intents, entities, slots or metadata.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from admissions.web.rereading import Rereading

TEL_RE = re.compile(r"tel:\+?[0-9][0-9-]{1,19}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_TITLE = 200
MAX_BOT_TEXT = 8000
GREET = "/greet"
REQUEST_HUMAN = "/request_human"
TALK_TO_A_PERSON = "Talk to a person"
JWT_LIFETIME = 60


class RasaUnavailable(Exception):
    """Rasa did not answer in time, refused the connection or answered with an error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "timeout" | "connection" | "status <n>" | "bad response"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(secret: str, claims: dict[str, Any]) -> str:
    """A compact HS256 JSON Web Token (RFC 7519) for ``claims``; stdlib only."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def conversation_token(secret: str, conversation_id: str) -> str:
    """A short-lived token that lets Rasa's API read this one conversation only.

    Rasa (``--jwt-secret``, HS256) grants ``role: user`` access to the conversation whose id
    equals ``username``; nothing else.
    """
    now = int(time.time())
    claims = {
        "user": {"username": conversation_id, "role": "user"},
        "iat": now,
        "exp": now + JWT_LIFETIME,
    }
    return jwt_hs256(secret, claims)


def clean_buttons(raw: Any) -> list[dict[str, str]]:
    """The bot's buttons as the widget renders them: ``tel`` call links or reply payloads."""
    buttons: list[dict[str, str]] = []
    if not isinstance(raw, list):
        return buttons
    for item in raw:
        if not isinstance(item, dict):
            continue
        title, payload = item.get("title"), item.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str) or not title.strip():
            continue
        title = title.strip()[:MAX_TITLE]
        if payload.startswith("tel:"):
            if TEL_RE.fullmatch(payload):
                buttons.append({"title": title, "tel": payload})
        elif payload.strip() and not re.match(r"[a-z][a-z0-9+.-]*:", payload, re.I):
            buttons.append({"title": title, "payload": payload[: MAX_TITLE * 5]})
        # anything else (web links, other schemes) is dropped: no third-party destinations
    return buttons


def input_hint(custom: Any) -> dict[str, str] | None:
    """A native input the widget may offer with a question (only a date field: its label and
    ``min``/``max`` as YYYY-MM-DD), from the bot's custom payload ``{"input": {...}}``."""
    hint = custom.get("input") if isinstance(custom, dict) else None
    if not isinstance(hint, dict) or hint.get("type") != "date":
        return None
    label = hint.get("label")
    shown: dict[str, str] = {
        "type": "date",
        "label": label.strip()[:60] if isinstance(label, str) and label.strip() else "Date",
    }
    for key in ("min", "max"):
        value = hint.get(key)
        if isinstance(value, str) and DATE_RE.fullmatch(value):
            shown[key] = value
    return shown


def bot_message(text: Any, buttons: Any, custom: Any = None) -> dict[str, Any] | None:
    """One bot message for the widget, or None when it has nothing to show."""
    shown = text[:MAX_BOT_TEXT] if isinstance(text, str) else ""
    cleaned = clean_buttons(buttons)
    if not shown and not cleaned:
        return None
    message: dict[str, Any] = {"from": "bot", "text": shown, "buttons": cleaned}
    hint = input_hint(custom)
    if hint:
        message["input"] = hint
    return message


def replies_from_webhook(data: Any) -> list[dict[str, Any]]:
    """The REST channel's answer (a list of messages) as widget messages."""
    if not isinstance(data, list):
        raise RasaUnavailable("bad response")
    messages: list[dict[str, Any]] = []
    for item in data:
        if isinstance(item, dict):
            hint = input_hint(item.get("custom"))
            if hint and messages and not item.get("text"):
                messages[-1]["input"] = hint  # the REST channel sends it after its question
                continue
            message = bot_message(item.get("text"), item.get("buttons"), item.get("custom"))
            if message:
                messages.append(message)
    return messages


def offered_payloads(messages: list[dict[str, Any]]) -> frozenset[str]:
    """Slash payloads the visitor may press after ``messages`` (the bot's latest batch)."""
    return frozenset(
        b["payload"]
        for m in messages
        if m.get("from") == "bot"
        for b in m.get("buttons", [])
        if b.get("payload", "").startswith("/")
    )


def history_from_tracker(tracker: Any) -> tuple[list[dict[str, Any]], frozenset[str]]:
    """The conversation as the visitor saw it, and the payloads its last bot turn offers.

    A visitor message that is a button payload shows as that button's title; the greeting
    trigger the app sent itself is left out. After a ``rewind`` right after a visitor message
    (the two-stage fallback's UserUtteranceReverted) Rasa reads that message again: it is shown
    once.
    """
    events = tracker.get("events") if isinstance(tracker, dict) else None
    messages: list[dict[str, Any]] = []
    titles: dict[str, str] = {}  # payload -> title, from the bot's most recent buttons
    last_batch: list[dict[str, Any]] = []
    rereading = Rereading()
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        if kind == "rewind":
            rereading.rewind()
        elif kind == "bot":
            data = event.get("data")
            message = bot_message(
                event.get("text"),
                data.get("buttons") if isinstance(data, dict) else None,
                data.get("custom") if isinstance(data, dict) else None,
            )
            if message is None:
                continue
            rereading.assistant()
            if not last_batch or last_batch[-1].get("from") != "bot":
                last_batch = []
                titles = {}
            last_batch.append(message)
            for b in message["buttons"]:
                if "payload" in b:
                    titles[b["payload"]] = b["title"]
            messages.append(message)
        elif kind == "user":
            text = event.get("text")
            if not isinstance(text, str):
                continue
            if rereading.visitor(text):
                continue  # the same message read again, not said again
            if text in titles:
                shown = titles[text]
            elif text == REQUEST_HUMAN:
                shown = TALK_TO_A_PERSON
            elif text.startswith("/"):
                continue  # sent by the app itself (the greeting trigger), never typed
            else:
                shown = text
            message = {"from": "visitor", "text": shown}
            messages.append(message)
            last_batch = [message]
            titles = {}
    return messages, offered_payloads(last_batch)


class RasaClient:
    """Calls to one Rasa server over HTTP with a hard timeout."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str | Callable[[], str],
        timeout: float,
        jwt_secret: str = "",
    ) -> None:
        """``base_url``: a URL, or a callable asked before every request (``RasaTarget``:
        after a model swap new turns go to the new Rasa process)."""
        self.session = session
        self._base_url = base_url if callable(base_url) else base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.jwt_secret = jwt_secret

    @property
    def base_url(self) -> str:
        """The Rasa server to send the next request to."""
        return self._base_url() if callable(self._base_url) else self._base_url

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"status {resp.status}")
                return await resp.json(content_type=None)
        except asyncio.TimeoutError:
            raise RasaUnavailable("timeout") from None
        except aiohttp.ClientError:
            raise RasaUnavailable("connection") from None
        except ValueError:  # not JSON
            raise RasaUnavailable("bad response") from None

    async def send(self, conversation_id: str, text: str) -> list[dict[str, Any]]:
        """Send one visitor message over the REST channel; the bot's replies.

        The server is chosen when the turn starts; the proxy sends one turn per conversation at
        a time, so a conversation never has turns in two Rasa processes at once.
        """
        data = await self._json(
            "POST",
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": conversation_id, "message": text},
        )
        return replies_from_webhook(data)

    async def tracker(self, conversation_id: str) -> Any:
        """The conversation's tracker (events since the last restart) from Rasa's HTTP API."""
        headers = {}
        if self.jwt_secret:
            headers["Authorization"] = "Bearer " + conversation_token(
                self.jwt_secret, conversation_id
            )
        return await self._json(
            "GET",
            f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/tracker",
            params={"include_events": "AFTER_RESTART"},
            headers=headers,
        )
