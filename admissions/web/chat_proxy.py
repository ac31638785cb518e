"""The public chat routes the widget calls, proxied to Rasa's REST channel.

    POST /chat/session   start a conversation (or resume this browser's): the bot's messages
    POST /chat/send      one visitor message or button press: the bot's replies
    GET  /chat/history   this browser's conversation, for a page reload
    GET  /chat/status    whether this browser has a chat to resume (no message text)
    POST /chat/end       end the conversation: its cookie is refused from then on
                         ("Clear this chat from this device" in the widget)

The app issues the conversation id itself and binds it to the browser with a signed
HttpOnly, SameSite=Strict cookie (``chat_sessions``); the client never names an id. When
Rasa is down or slow (``ChatConfig.rasa_timeout``) the answer is a plain message with the
admissions phone number, never silence.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from admissions.web import addresses, security
from admissions.web.chat_config import ChatConfig
from admissions.web.chat_rasa import (
    GREET,
    REQUEST_HUMAN,
    RasaClient,
    RasaUnavailable,
    history_from_tracker,
    offered_payloads,
)
from admissions.web.chat_sessions import (
    COOKIE,
    SECURE_COOKIE,
    SessionState,
    SessionStore,
    new_conversation_id,
    sign,
    verify,
)
from admissions.web.keys import FACILITY, SETTINGS
from admissions.web.rasa_target import RasaTarget

logger = logging.getLogger(__name__)

CHAT_CONFIG = web.AppKey("chat_config", ChatConfig)
CHAT_STORE = web.AppKey("chat_store", SessionStore)
CHAT_RASA = web.AppKey("chat_rasa", RasaClient)

CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Every C0/C1 control character except tab and newline.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SLASH_LOOKALIKE = "\u2215"  # DIVISION SLASH: typed "/..." never reaches Rasa as an intent


def _phone(request: web.Request) -> tuple[str, str]:
    line = request.app[FACILITY].admissions
    return line.phone, line.tel_uri


def _json(request: web.Request, data: dict[str, Any], status: int = 200) -> web.Response:
    response = web.json_response(data, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(
    request: web.Request, status: int, error: str, message: str, **extra: Any
) -> web.Response:
    phone, tel = _phone(request)
    body = {"error": error, "message": message, "phone": phone, "tel": tel, **extra}
    response = _json(request, body, status)
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


def _unavailable(request: web.Request, exc: RasaUnavailable) -> web.Response:
    logger.warning("chat: Rasa unavailable (%s)", exc.reason)
    phone, _ = _phone(request)
    return _problem(
        request,
        504 if exc.reason == "timeout" else 503,
        "unavailable",
        f"Sorry, the chat assistant isn't answering right now. Please call admissions at "
        f"{phone}, or try again in a moment.",
    )


def _rate_limited(request: web.Request, wait: float) -> web.Response:
    seconds = max(1, int(wait + 0.999))
    return _problem(
        request,
        429,
        "rate_limited",
        "You're sending messages very quickly. Please wait a few seconds; your message will "
        "be sent then.",
        retry_after=seconds,
    )


def _secure(request: web.Request) -> bool:
    return request.secure or request.app[SETTINGS].secure_cookies


def _current_id(request: web.Request) -> str | None:
    """The conversation id of this browser's valid, not-ended chat cookie, if any."""
    config, store = request.app[CHAT_CONFIG], request.app[CHAT_STORE]
    # Over HTTPS only the __Host- name: a plain one may have been planted (session fixation).
    name = SECURE_COOKIE if _secure(request) else COOKIE
    conversation_id = verify(config.secret, request.cookies.get(name), config.idle_minutes * 60)
    if conversation_id and not store.is_ended(conversation_id):
        return conversation_id
    return None


def _set_cookie(request: web.Request, response: web.StreamResponse, conversation_id: str) -> None:
    secure = _secure(request)
    response.set_cookie(
        SECURE_COOKIE if secure else COOKIE,
        sign(request.app[CHAT_CONFIG].secret, conversation_id),
        path="/",
        httponly=True,
        secure=secure,
        samesite="Strict",
    )  # no Max-Age: a browser-session cookie, idle limit enforced by the signed timestamp


def _clear_cookies(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", samesite="Strict", httponly=True)
    response.del_cookie(SECURE_COOKIE, path="/", secure=True, samesite="Strict", httponly=True)


async def _read_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON object in the body, or the error response to send instead."""
    config = request.app[CHAT_CONFIG]
    if not security.same_origin(request):
        return _problem(request, 403, "forbidden", "Requests from other sites are refused.")
    if request.content_type != "application/json":
        return _problem(request, 415, "bad_request", "Send JSON.")
    too_large = _problem(
        request, 413, "too_large", "That was too large to send. Please send a shorter message."
    )
    limit = config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return too_large
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _problem(request, 400, "bad_request", "That request was not understood.")
    if not isinstance(data, dict):
        return _problem(request, 400, "bad_request", "That request was not understood.")
    return data


def normalise_text(value: str) -> str:
    """Visitor text made safe to store: no control characters, lone surrogates replaced."""
    text = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


async def _offered(client: RasaClient, state: SessionState, conversation_id: str) -> frozenset[str]:
    if state.offered is None:  # the app restarted since: read the last buttons from Rasa
        _, state.offered = history_from_tracker(await client.tracker(conversation_id))
    return state.offered


async def start_session(request: web.Request) -> web.StreamResponse:
    """POST /chat/session: resume this browser's conversation or start a new one."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    store, client = request.app[CHAT_STORE], request.app[CHAT_RASA]
    conversation_id = _current_id(request)
    resumed = conversation_id is not None
    address = addresses.bucket(request.remote)
    wait = store.address_wait(address) or (0.0 if resumed else store.start_wait(address))
    if wait:
        return _rate_limited(request, wait)
    if conversation_id is None:
        conversation_id = new_conversation_id()
    state = store.state(conversation_id)
    async with state.lock:
        try:
            messages: list[dict[str, Any]] = []
            if resumed:
                messages, state.offered = history_from_tracker(
                    await client.tracker(conversation_id)
                )
            if not messages:
                messages = await client.send(conversation_id, GREET)
                state.offered = offered_payloads(messages)
        except RasaUnavailable as exc:
            response = _unavailable(request, exc)
        else:
            response = _json(request, {"messages": messages, "resumed": resumed and bool(messages)})
    _set_cookie(request, response, conversation_id)
    return response


async def _message_for_rasa(
    request: web.Request, body: dict[str, Any], state: SessionState, conversation_id: str
) -> str | web.Response:
    """The text to send to Rasa for this body, or the refusal to answer with.

    A button's slash payload goes as it is only when the bot offers that button now (or it is
    "Talk to a person"); an old or unknown one sends its title as text for the NLU to read.
    Typed text never starts with "/", so a visitor cannot trigger an intent by typing it.
    """
    config = request.app[CHAT_CONFIG]
    payload, title = body.get("payload"), body.get("title")
    text: Any
    if isinstance(payload, str) and payload.startswith("/"):
        offered = await _offered(request.app[CHAT_RASA], state, conversation_id)
        if payload == REQUEST_HUMAN or payload in offered:
            return payload
        text = title
    elif isinstance(payload, str) and payload:
        text = payload  # a button that stands for a typed answer
    else:
        text = body.get("text")
    if not isinstance(text, str):
        return _problem(request, 400, "bad_request", "That request was not understood.")
    text = normalise_text(text)
    if not text:
        return _problem(request, 400, "empty", "Type a message first.")
    if len(text) > config.max_message_chars:
        phone, _ = _phone(request)
        return _problem(
            request,
            422,
            "too_long",
            f"That message is too long: please keep it under {config.max_message_chars:,} "
            f"characters (it has {len(text):,}). You can also call admissions at {phone}.",
            limit=config.max_message_chars,
        )
    if text.startswith("/"):
        text = SLASH_LOOKALIKE + text[1:]
    return text


async def send_message(request: web.Request) -> web.StreamResponse:
    """POST /chat/send ``{"id", "text"}`` or ``{"id", "payload", "title"}``: the bot's replies."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    store, client = request.app[CHAT_STORE], request.app[CHAT_RASA]
    conversation_id = _current_id(request)
    if conversation_id is None:
        return _problem(
            request, 401, "no_session", "This chat has ended or expired. You can start a new one."
        )
    client_id = body.get("id")
    if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        return _problem(request, 400, "bad_request", "That request was not understood.")
    state = store.state(conversation_id)
    async with state.lock:  # one message at a time per conversation, in order
        cached = state.replies.get(client_id)
        if cached is not None:  # a resend after a dropped connection: same answer, sent once
            response = _json(request, {"messages": cached, "repeat": True})
            _set_cookie(request, response, conversation_id)
            return response
        wait = max(state.bucket.take(), store.address_wait(addresses.bucket(request.remote)))
        if wait:
            return _rate_limited(request, wait)
        try:
            message = await _message_for_rasa(request, body, state, conversation_id)
            if isinstance(message, web.Response):
                return message
            replies = await client.send(conversation_id, message)
        except RasaUnavailable as exc:
            return _unavailable(request, exc)
        state.offered = offered_payloads(replies)
        state.replies.touch(client_id, lambda: replies)
    response = _json(request, {"messages": replies})
    _set_cookie(request, response, conversation_id)
    return response


async def history(request: web.Request) -> web.StreamResponse:
    """GET /chat/history: ``{"active": false}`` or this browser's conversation so far."""
    conversation_id = _current_id(request)
    if conversation_id is None:
        response = _json(request, {"active": False})
        if COOKIE in request.cookies or SECURE_COOKIE in request.cookies:
            _clear_cookies(response)  # ended, expired or not ours: tidy it away
        return response
    store = request.app[CHAT_STORE]
    wait = store.address_wait(addresses.bucket(request.remote))
    if wait:
        return _rate_limited(request, wait)
    state = store.state(conversation_id)
    try:
        messages, state.offered = history_from_tracker(
            await request.app[CHAT_RASA].tracker(conversation_id)
        )
    except RasaUnavailable as exc:
        return _unavailable(request, exc)
    response = _json(request, {"active": True, "messages": messages})
    _set_cookie(request, response, conversation_id)
    return response


async def status(request: web.Request) -> web.StreamResponse:
    """GET /chat/status: ``{"active": bool}``, whether an earlier chat could be resumed.

    The widget asks this on page load and offers to resume without showing anything of the
    conversation (a shared device). It neither reads the transcript nor renews the cookie, so
    loading pages does not keep a chat alive past its idle limit.
    """
    conversation_id = _current_id(request)
    response = _json(request, {"active": conversation_id is not None})
    if conversation_id is None and (COOKIE in request.cookies or SECURE_COOKIE in request.cookies):
        _clear_cookies(response)  # ended, expired or not ours: tidy it away
    return response


async def end_session(request: web.Request) -> web.StreamResponse:
    """POST /chat/end: end this browser's conversation and forget its cookie."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    conversation_id = _current_id(request)
    if conversation_id is not None:
        request.app[CHAT_STORE].end(conversation_id)
    response = _json(request, {"ended": True})
    _clear_cookies(response)
    return response


async def rasa_client(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: one HTTP client session to Rasa for the app's lifetime."""
    config = app[CHAT_CONFIG]
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200),
        headers={"User-Agent": "admissions-chat-proxy"},
    )
    target = RasaTarget(config.rasa_url, config.rasa_serving_file or None)
    app[CHAT_RASA] = RasaClient(session, target, config.rasa_timeout, config.rasa_jwt_secret)
    if not config.rasa_jwt_secret:
        logger.info("RASA_JWT_SECRET is not set: Rasa's tracker API is called without a token")
    yield
    await session.close()


def setup(app: web.Application, config: ChatConfig) -> None:
    """Register the chat routes and the Rasa client on ``app``."""
    app[CHAT_CONFIG] = config
    app[CHAT_STORE] = SessionStore(
        config.session_burst,
        config.session_rate,
        config.address_burst,
        config.address_rate,
        config.start_burst,
        config.start_rate,
        ended_ttl_seconds=config.idle_minutes * 60,
    )
    app.cleanup_ctx.append(rasa_client)
    app.router.add_post("/chat/session", start_session, name="chat.session")
    app.router.add_post("/chat/send", send_message, name="chat.send")
    app.router.add_get("/chat/history", history, name="chat.history")
    app.router.add_get("/chat/status", status, name="chat.status")
    app.router.add_post("/chat/end", end_session, name="chat.end")
