"""``GuardedRestInput``: Rasa's REST channel with input limits and no silent failures.

Registered in ``credentials.yml`` in place of ``rest:``::

    rasa_addons.channels.GuardedRestInput:
      max_message_chars: 2000
      max_body_bytes: 16384

It keeps the name ``rest``, so the route stays ``POST /webhooks/rest/webhook`` with the same
request (``{"sender": ..., "message": ...}``) and answer (a JSON list of bot messages). It is
meant for loopback callers (the public chat proxy issues and checks conversation ids).
Differences from ``rasa.core.channels.rest.RestInput``:

* Bodies over ``max_body_bytes`` are refused with 413 before they are read past the limit
  (the body is streamed, never buffered whole); bodies that are not a JSON object with a
  string ``sender`` (1-255 characters) and a string ``message`` get 400. A 1 MB body costs a
  few reads of the socket and never reaches NLU, so other conversations do not wait.
* Messages longer than ``max_message_chars`` (after removing control characters) are not
  processed; the answer is a reply saying so, with the admissions number.
* Client ``metadata`` and ``input_channel`` are ignored (they would be stored verbatim).
* Before processing, the tracker store is asked whether the conversation can be loaded
  (``DurableSQLTrackerStore.can_serve``). If not, the message is not processed and the reply
  says so plainly, with the admissions number and 911/988: never an answer from an empty
  history.
* A turn whose events could not be recorded, or that was answered without its history,
  gets a note appended (``pop_notice``). A turn that fails outright gets a fallback reply
  instead of an empty list. Processing is shielded from client disconnects, so a turn is
  either completed and recorded or not started.
* When the server has started, the action server gets a warm-up call in the background
  (``action_budget.warm_up``); while a just-started action server is still answering it,
  new turns wait up to 4 s, so the first visitors do not pay for its model loading.
* Nothing here logs message text: Rasa's REST channel logs the text on errors; this one logs
  only the kind of failure. The ``stream`` option is not offered.

Importing this module also installs ``rasa_addons.action_budget`` and ``rasa_addons.speedups``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from admissions.understanding import sanitize
from rasa_addons import action_budget, replies, speedups

action_budget.install()
speedups.install()

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_CHARS = 2000
DEFAULT_MAX_BODY_BYTES = 16 * 1024
MAX_SENDER_CHARS = 255
WARM_UP_WAIT_SECONDS = 4.0


class BadRequest(ValueError):
    """The request is not a REST channel message."""


def parse_body(body: bytes) -> tuple[str, str]:
    """(sender, message) from a request body; raises ``BadRequest``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest("body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body is not a JSON object")
    sender, message = data.get("sender"), data.get("message")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"'sender' must be a string of 1-{MAX_SENDER_CHARS} characters")
    if sanitize(sender) != sender:
        raise BadRequest("'sender' contains control or invalid characters")
    if not isinstance(message, str):
        raise BadRequest("'message' must be a string")
    return sender, message


class GuardedRestInput(RestInput):
    """The REST channel (``/webhooks/rest/webhook``) with size limits and visible failures."""

    def __init__(
        self,
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """Limits: characters per message, bytes per request body."""
        self.max_message_chars = int(max_message_chars)
        self.max_body_bytes = int(max_body_bytes)

    @classmethod
    def name(cls) -> str:
        """Same name as Rasa's REST channel, so the URL does not change."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Read the limits from ``credentials.yml`` (defaults: 2,000 characters, 16 KB)."""
        credentials = credentials or {}
        return cls(
            max_message_chars=credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS),
            max_body_bytes=credentials.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
        )

    def _too_large(self) -> HTTPResponse:
        return response.json(
            {"error": "request body too large", "limit_bytes": self.max_body_bytes}, status=413
        )

    async def _read_body(self, request: Request) -> bytes | None:
        """The body, or None when it exceeds the limit (read no further than that)."""
        length = request.headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise BadRequest("bad Content-Length")
            if int(length) > self.max_body_bytes:
                return None
        stream = request.stream
        if stream is None:  # not a streaming route (tests calling the handler directly)
            body = request.body or b""
            return body if len(body) <= self.max_body_bytes else None
        # anything left unread is drained up to this size, then the connection is closed
        stream.request_max_size = self.max_body_bytes
        chunks = bytearray()
        try:
            async for chunk in stream:  # type: ignore[attr-defined]
                chunks += chunk
                if len(chunks) > self.max_body_bytes:
                    return None
        except PayloadTooLarge:
            return None
        except InvalidUsage:
            raise BadRequest("bad request body") from None
        return bytes(chunks)

    async def handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """One visitor message: limits, pre-check, processing, notes."""
        try:
            body = await self._read_body(request)
            if body is None:
                return self._too_large()
            sender, message = parse_body(body)
        except BadRequest as exc:
            return response.json({"error": str(exc)}, status=400)

        text = sanitize(message)
        if len(text) > self.max_message_chars:
            return response.json(
                [replies.message(sender, replies.too_long(self.max_message_chars))]
            )

        store = _tracker_store(request)
        if store is not None and not await store.can_serve(sender):
            logger.warning("message not processed: its conversation could not be loaded")
            return response.json([replies.message(sender, replies.storage_unavailable())])

        if store is not None:
            store.pop_notice(sender)  # a note left by an API read is not about this turn
        await action_budget.wait_until_warm(WARM_UP_WAIT_SECONDS)
        collector = CollectingOutputChannel()
        user_message = UserMessage(text, collector, sender, input_channel=self.name())
        task = asyncio.ensure_future(on_new_message(user_message))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            logger.warning("client went away; the turn is completed in the background")
            raise
        except Exception as exc:  # noqa: BLE001 - never an empty answer, never text in logs
            logger.error("handling a REST message failed (%s)", type(exc).__name__)
            collector.messages.append(replies.message(sender, replies.internal_error()))
        if store is not None:
            notice = store.pop_notice(sender)
            if notice == "not_recorded":
                collector.messages.append(replies.message(sender, replies.not_recorded()))
            elif notice == "context_lost":
                collector.messages.append(replies.message(sender, replies.context_lost()))
        return response.json(collector.messages)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` (health) and ``POST /webhook`` (streamed body)."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        @webhook.listener("after_server_start")
        async def warm_action_server(app: Any, _: Any) -> None:
            agent = getattr(app.ctx, "agent", None)
            if agent is not None and agent.is_ready():
                action_budget.schedule_warm_up(agent.action_endpoint, agent.domain)

        return webhook


def _tracker_store(request: Request) -> Any:
    """The project's durable tracker store behind the running agent, if it uses one."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        from rasa_addons.tracker_store import durable_store
    except ImportError:  # pragma: no cover
        return None
    return durable_store(store)
