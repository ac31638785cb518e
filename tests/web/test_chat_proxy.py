"""The public chat routes with the real app and a recording stand-in for Rasa's HTTP API:
who issues ids, what the cookie looks like, what reaches Rasa, limits, refusals, outages.
(End-to-end behaviour against a real Rasa server is in test_chat_live.py.)"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from multidict import CIMultiDict

from admissions.web.chat_config import ChatConfig
from admissions.web.chat_proxy import CHAT_CONFIG
from admissions.web.chat_sessions import sign
from admissions.web.main import init_app
from admissions.web.settings import Settings

PHONE = "833-820-2922"
GREETING = {
    "text": "Hi, I'm the admissions assistant. Call 833-820-2922 any time.",
    "buttons": [
        {"title": "I want help for myself", "payload": "/ready_to_start"},
        {"title": "Call 833-820-2922", "payload": "tel:+18338202922"},
        {"title": "Our website", "payload": "https://example.org/"},
        {"title": "Sneaky", "payload": "javascript:alert(1)"},
    ],
}
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"


@dataclass
class FakeRasa:
    """Records what the proxy sends; answers like Rasa's REST channel and tracker API."""

    received: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    trackers: dict[str, dict[str, Any]] = field(default_factory=dict)
    delay: float = 0.0
    status: int = 200
    in_flight: int = 0
    most_in_flight: int = 0

    def texts(self, sender: str | None = None) -> list[str]:
        return [r["message"] for r in self.received if sender in (None, r["sender"])]

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.status != 200:
            return web.Response(status=self.status, text="error")
        sender, text = body["sender"], body["message"]
        if text == "/greet":
            replies = [GREETING]
        else:
            replies = [{"text": f"You said: {text}"}]
            if text == "/ready_to_start":
                replies.append(
                    {
                        "text": "Any daily use?",
                        "buttons": [
                            {"title": "Yes", "payload": "/affirm"},
                            {"title": "No", "payload": "/deny"},
                        ],
                    }
                )
        return web.json_response([{"recipient_id": sender, **r} for r in replies])

    async def tracker(self, request: web.Request) -> web.Response:
        self.auth.append(request.headers.get("Authorization"))
        cid = request.match_info["cid"]
        events: list[dict[str, Any]] = []
        for body in self.received:
            if body["sender"] != cid:
                continue
            events.append(
                {"event": "user", "text": body["message"], "parse_data": {"intent": {"name": "x"}}}
            )
            if body["message"] == "/greet":
                events.append(
                    {
                        "event": "bot",
                        "text": GREETING["text"],
                        "data": {"buttons": GREETING["buttons"]},
                    }
                )
            else:
                events.append({"event": "bot", "text": f"You said: {body['message']}", "data": {}})
            events.append({"event": "slot", "name": "secret_slot", "value": "private"})
        return web.json_response(self.trackers.get(cid, {"sender_id": cid, "events": events}))


ChatClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def rasa(aiohttp_server: Any) -> FakeRasa:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    app.router.add_get("/conversations/{cid}/tracker", fake.tracker)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def chat(
    aiohttp_client: Any,
    aiohttp_server: Any,
    settings: Settings,
    tracker: Any,
    app_db: Any,
    rasa: FakeRasa,
    monkeypatch: pytest.MonkeyPatch,
) -> ChatClient:
    """A new browser (own cookie jar) on the real app, whose Rasa is the fake."""
    monkeypatch.setenv("RASA_URL", rasa.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("RASA_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("CHAT_SECRET", "s" * 40)
    monkeypatch.delenv("VAR_DIR", raising=False)
    servers: list[Any] = []

    async def make(
        settings_changes: dict[str, Any] | None = None, **env: str
    ) -> TestClient[Any, Any]:
        """A browser on the current app; with ``env`` or ``settings_changes``, on a new app."""
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if env or settings_changes or not servers:
            app = init_app(dataclasses.replace(settings, **(settings_changes or {})))
            servers.append(await aiohttp_server(app))
        return await aiohttp_client(servers[-1])  # its own cookie jar

    return make


def cookie(client: TestClient[Any, Any]) -> str:
    values = [c.value for c in client.session.cookie_jar if c.key == "chat_session"]
    assert len(values) == 1, values
    return values[0]


async def send(client: TestClient[Any, Any], **body: Any) -> Any:
    body.setdefault("id", f"m{time.monotonic_ns()}")
    return await client.post("/chat/send", json=body)


# ---------------------------------------------------------------- ids and cookies


async def test_the_server_issues_a_128_bit_id_in_a_strict_httponly_cookie(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat()
    response = await client.post("/chat/session", json={"sender": "mine", "conversation_id": "x"})
    assert response.status == 200
    data = await response.json()
    assert data["messages"][0]["text"] == GREETING["text"]
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Max-Age" not in header and "expires" not in header.lower()  # browser session only
    assert "Secure" not in header  # plain HTTP in tests; see the HTTPS test below
    value = cookie(client)
    version, cid, _issued, _mac = value.split(".")
    assert version == "v1" and len(cid) == 32 and int(cid, 16) >= 0
    assert rasa.received == [{"sender": cid, "message": "/greet"}]  # not the client's "mine"
    other = await chat()
    await other.post("/chat/session", json={})
    assert cookie(other).split(".")[1] != cid
    assert response.headers["Cache-Control"] == "no-store"


async def test_over_https_the_cookie_is_secure_and_host_prefixed(chat: ChatClient) -> None:
    client = await chat(settings_changes={"trust_proxy": True})
    response = await client.post("/chat/session", json={}, headers={"X-Forwarded-Proto": "https"})
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-chat_session=")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header
    assert "Domain" not in header


async def test_over_https_a_planted_plain_cookie_is_not_adopted(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    """Session fixation: an attacker's valid ``chat_session`` planted in the visitor's browser
    (by a sibling subdomain or a plain-HTTP response) is ignored over HTTPS, never re-issued."""
    attacker = await chat(settings_changes={"trust_proxy": True})
    await attacker.post("/chat/session", json={})
    planted = cookie(attacker)
    attacker_id = planted.split(".")[1]
    https = {"X-Forwarded-Proto": "https", "Cookie": f"chat_session={planted}"}
    victim = await chat()
    history = await victim.get("/chat/history", headers=https)
    assert await history.json() == {"active": False}
    refused = await victim.post("/chat/send", json={"id": "m12345678", "text": "hi"}, headers=https)
    assert refused.status == 401
    started = await victim.post("/chat/session", json={}, headers=https)
    assert (await started.json())["resumed"] is False
    issued = [h for h in started.headers.getall("Set-Cookie") if h.startswith("__Host-")]
    assert len(issued) == 1 and attacker_id not in issued[0]
    assert [r["sender"] for r in rasa.received].count(attacker_id) == 1  # only its own greeting
    # the __Host- cookie itself is honoured over HTTPS, as before
    own = issued[0].split(";")[0].split("=", 1)[1]
    mine = await chat()
    again = await mine.get(
        "/chat/history",
        headers={"X-Forwarded-Proto": "https", "Cookie": f"__Host-chat_session={own}"},
    )
    assert (await again.json())["active"] is True


async def test_a_forged_or_borrowed_cookie_gets_nothing_and_writes_nothing(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    victim = await chat()
    await victim.post("/chat/session", json={})
    await send(victim, text="my private story")
    victim_id = cookie(victim).split(".")[1]
    now = int(time.time())
    forgeries = [
        f"v1.{victim_id}.{now}.AAAA",  # their id, no valid signature
        sign(b"another secret entirely, 40 bytes long!!", victim_id),  # signed by someone else
        f"v1.{victim_id}.{now + 99999}." + cookie(victim).split(".")[3],  # re-dated
        victim_id,  # the bare id
        "v1.../../x.1.2",
    ]
    sent_before = list(rasa.received)
    for forged in forgeries:
        attacker = await chat()
        attacker.session.cookie_jar.update_cookies({"chat_session": forged})
        history = await attacker.get("/chat/history")
        assert await history.json() == {"active": False}
        refused = await send(attacker, text="write into their chat")
        assert refused.status == 401
        assert (await refused.json())["error"] == "no_session"
    assert rasa.received == sent_before  # nothing reached Rasa for anyone
    assert rasa.auth == []  # and no tracker was read


async def test_history_returns_only_texts_and_buttons(chat: ChatClient, rasa: FakeRasa) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    await send(client, payload="/ready_to_start", title="I want help for myself")
    history = await (await client.get("/chat/history")).json()
    assert history == {
        "active": True,
        "messages": [
            {
                "from": "bot",
                "text": GREETING["text"],
                "buttons": [
                    {"title": "I want help for myself", "payload": "/ready_to_start"},
                    {"title": "Call 833-820-2922", "tel": "tel:+18338202922"},
                ],  # web and javascript: links dropped
            },
            {"from": "visitor", "text": "I want help for myself"},  # the title, not the payload
            {"from": "bot", "text": "You said: /ready_to_start", "buttons": []},
        ],
    }
    assert "secret_slot" not in json.dumps(history)


async def test_the_tracker_api_is_called_with_a_per_conversation_jwt(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    await client.get("/chat/history")
    cid = cookie(client).split(".")[1]
    scheme, token = rasa.auth[-1].split(" ")
    assert scheme == "Bearer"
    header_b64, claims_b64, signature = token.split(".")

    def unb64(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    assert json.loads(unb64(header_b64)) == {"alg": "HS256", "typ": "JWT"}
    expected = hmac.new(
        JWT_SECRET.encode(), f"{header_b64}.{claims_b64}".encode(), hashlib.sha256
    ).digest()
    assert unb64(signature) == expected
    claims = json.loads(unb64(claims_b64))
    assert claims["user"] == {"username": cid, "role": "user"}  # this conversation only
    assert 0 < claims["exp"] - time.time() <= 60


async def test_end_chat_refuses_the_old_cookie(chat: ChatClient, rasa: FakeRasa) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    old = cookie(client)
    response = await client.post("/chat/end", json={})
    assert await response.json() == {"ended": True}
    assert "chat_session=" in response.headers.getall("Set-Cookie")[0]
    assert not [c for c in client.session.cookie_jar if c.key == "chat_session" and c.value]
    replay = await chat()
    replay.session.cookie_jar.update_cookies({"chat_session": old})
    assert await (await replay.get("/chat/history")).json() == {"active": False}
    assert (await send(replay, text="still there?")).status == 401


async def test_an_idle_cookie_expires(chat: ChatClient) -> None:
    client = await chat(CHAT_IDLE_HOURS="1")
    secret = client.app[CHAT_CONFIG].secret
    stale = sign(secret, "ab" * 16, issued=int(time.time()) - 3601)
    client.session.cookie_jar.update_cookies({"chat_session": stale})
    assert await (await client.get("/chat/history")).json() == {"active": False}
    fresh = sign(secret, "ab" * 16, issued=int(time.time()) - 3000)
    client.session.cookie_jar.update_cookies({"chat_session": fresh})
    assert (await (await client.get("/chat/history")).json())["active"] is True


async def test_a_chat_left_alone_for_30_minutes_is_not_resumed(chat: ChatClient) -> None:
    """A shared device: the next person at the computer must not find the conversation."""
    client = await chat()
    secret = client.app[CHAT_CONFIG].secret
    assert client.app[CHAT_CONFIG].idle_minutes == 30
    stale = sign(secret, "cd" * 16, issued=int(time.time()) - 31 * 60)
    client.session.cookie_jar.update_cookies({"chat_session": stale})
    assert await (await client.get("/chat/history")).json() == {"active": False}
    fresh = sign(secret, "cd" * 16, issued=int(time.time()) - 29 * 60)
    client.session.cookie_jar.update_cookies({"chat_session": fresh})
    assert (await (await client.get("/chat/history")).json())["active"] is True
    assert ChatConfig.from_env({"CHAT_IDLE_MINUTES": "10"}).idle_minutes == 10
    assert ChatConfig.from_env({"CHAT_IDLE_HOURS": "0.25"}).idle_minutes == 15


async def test_status_says_only_whether_a_chat_can_be_resumed(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    """A shared device (issue 15 #7): the page learns that an earlier chat exists, but none of
    its text, Rasa is not asked for the transcript, and the cookie's idle clock is not reset."""
    client = await chat()
    fresh = await chat()
    assert await (await fresh.get("/chat/status")).json() == {"active": False}
    await client.post("/chat/session", json={})
    await send(client, text="I relapsed last night")
    old = cookie(client)
    asked_before = len(rasa.auth)
    response = await client.get("/chat/status")
    body = await response.text()
    assert json.loads(body) == {"active": True}
    assert "relapsed" not in body and "admissions assistant" not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert len(rasa.auth) == asked_before  # no transcript read
    assert not response.headers.getall("Set-Cookie", [])  # the idle clock keeps running
    assert cookie(client) == old


async def test_status_of_a_chat_idle_for_30_minutes_is_inactive(chat: ChatClient) -> None:
    """After the idle limit the page does not even offer to resume, and the cookie is cleared."""
    client = await chat()
    secret = client.app[CHAT_CONFIG].secret
    stale = sign(secret, "ef" * 16, issued=int(time.time()) - 31 * 60)
    client.session.cookie_jar.update_cookies({"chat_session": stale})
    response = await client.get("/chat/status")
    assert await response.json() == {"active": False}
    assert any(
        h.startswith("chat_session=;") or 'chat_session=""' in h
        for h in response.headers.getall("Set-Cookie")
    )


async def test_clear_this_chat_from_this_device(chat: ChatClient, rasa: FakeRasa) -> None:
    """ "Clear this chat from this device" (POST /chat/end): afterwards the browser has no chat
    to resume, its old cookie reads and writes nothing, and a new chat is a new conversation."""
    client = await chat()
    first = await (await client.post("/chat/session", json={})).json()
    assert first["resumed"] is False
    old = cookie(client)
    old_id = old.split(".")[1]
    assert (await (await client.get("/chat/status")).json())["active"] is True
    cleared = await client.post("/chat/end", json={})
    assert cleared.status == 200 and await cleared.json() == {"ended": True}
    assert await (await client.get("/chat/status")).json() == {"active": False}
    # someone who copied the cookie before it was cleared gets nothing either
    replay = await chat()
    replay.session.cookie_jar.update_cookies({"chat_session": old})
    assert await (await replay.get("/chat/status")).json() == {"active": False}
    assert await (await replay.get("/chat/history")).json() == {"active": False}
    again = await replay.post("/chat/session", json={})
    assert (await again.json())["resumed"] is False
    issued = again.headers.getall("Set-Cookie")
    assert len(issued) == 1 and old_id not in issued[0]  # a new conversation, not the old one


async def test_another_site_cannot_clear_the_chat(chat: ChatClient) -> None:
    """Clearing is same-origin only, like every other chat request: a cross-site form or fetch
    leaves the visitor's chat as it was."""
    client = await chat()
    await client.post("/chat/session", json={})
    cross = await client.post("/chat/end", json={}, headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    site = await client.post("/chat/end", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status == 403
    form = await client.post("/chat/end", data={"x": "1"})
    assert form.status == 415
    assert (await (await client.get("/chat/status")).json())["active"] is True
    assert (await send(client, text="still here")).status == 200


# ---------------------------------------------------------------- what reaches Rasa


async def test_buttons_typing_and_slash_commands(chat: ChatClient, rasa: FakeRasa) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    cid = cookie(client).split(".")[1]
    # a button the bot offers now goes as its payload
    await send(client, payload="/ready_to_start", title="I want help for myself")
    await send(client, payload="/affirm", title="Yes")
    # one it no longer offers (an old button) is sent as its title, for the NLU to read
    await send(client, payload="/ready_to_start", title="I want help for myself")
    # one it never offered, likewise: a client cannot invent intents
    await send(client, payload="/im_safe", title="I'm safe")
    # "Talk to a person" is always allowed
    await send(client, payload="/request_human", title="Talk to a person")
    # typing a slash command never triggers an intent
    await send(client, text="/restart")
    await send(client, text='  /session_start{"x": 1}')
    # a button standing for a typed answer
    await send(client, payload="I have private insurance", title="Insurance")
    assert rasa.texts(cid) == [
        "/greet",
        "/ready_to_start",
        "/affirm",
        "I want help for myself",
        "I'm safe",
        "/request_human",
        "\u2215restart",
        '\u2215session_start{"x": 1}',
        "I have private insurance",
    ]


async def test_text_is_cleaned_of_control_characters(chat: ChatClient, rasa: FakeRasa) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    response = await client.post(
        "/chat/send",
        data=b'{"id": "abcdefgh", "text": "hi\\u0000 there\\u0007\\r\\nbye \\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200
    assert rasa.texts()[-1] == "hi there\nbye \ufffd"


async def test_a_resend_after_a_dropped_reply_reaches_rasa_once(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    first = await (await send(client, id="resend-0001", text="hello")).json()
    again = await (await send(client, id="resend-0001", text="hello")).json()
    assert again["messages"] == first["messages"] and again["repeat"] is True
    assert rasa.texts().count("hello") == 1


async def test_messages_of_one_conversation_reach_rasa_one_at_a_time(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    rasa.delay = 0.05
    await asyncio.gather(*(send(client, id=f"order-{i:04d}", text=f"m{i}") for i in range(5)))
    assert len([t for t in rasa.texts() if t.startswith("m")]) == 5
    assert rasa.most_in_flight == 1


# ---------------------------------------------------------------- limits and refusals


async def test_long_messages_are_refused_with_a_clear_message(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    ok = await send(client, text="a" * 2000)
    assert ok.status == 200
    refused = await send(client, text="b" * 2001)
    assert refused.status == 422
    data = await refused.json()
    assert data["error"] == "too_long"
    assert "2,000 characters" in data["message"] and PHONE in data["message"]
    assert not [t for t in rasa.texts() if t.startswith("b")]


async def test_bodies_over_16_kb_are_refused_before_reading(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    before = len(rasa.received)
    body = json.dumps({"id": "bigbody-01", "text": "x" * 17000}).encode()
    response = await client.post(
        "/chat/send", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert (await response.json())["error"] == "too_large"

    async def chunks() -> Any:
        for _ in range(64):  # 1 MB, chunked: no Content-Length to check up front
            yield b"x" * 16384

    started = time.monotonic()
    response = await client.post(
        "/chat/send", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert time.monotonic() - started < 5
    assert len(rasa.received) == before


async def test_other_sites_and_non_json_are_refused(chat: ChatClient, rasa: FakeRasa) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    cross = await client.post(
        "/chat/send",
        json={"id": "cross-0001", "text": "hi"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status == 403
    fetch_site = await client.post(
        "/chat/send",
        json={"id": "cross-0002", "text": "hi"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert fetch_site.status == 403
    form = await client.post("/chat/send", data={"id": "form-00001", "text": "hi"})
    assert form.status == 415
    assert (await send(client, id="bad id!", text="hi")).status == 400
    assert (await send(client, text="   ")).status == 400
    assert (
        await client.post("/chat/send", data=b"[1]", headers={"Content-Type": "application/json"})
    ).status == 400
    assert "hi" not in rasa.texts()


async def test_a_flood_is_rate_limited_with_a_clear_reply(chat: ChatClient) -> None:
    client = await chat(CHAT_SESSION_BURST="5", CHAT_SESSION_RATE="0.01")
    await client.post("/chat/session", json={})
    statuses = [(await send(client, text=f"n{i}")).status for i in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    limited = await send(client, text="again")
    data = await limited.json()
    assert data["error"] == "rate_limited" and "wait" in data["message"]
    assert int(limited.headers["Retry-After"]) >= 1


async def test_one_address_cannot_open_endless_conversations(chat: ChatClient) -> None:
    await chat(CHAT_START_BURST="3", CHAT_START_RATE="0.001")
    statuses = []
    for _ in range(4):
        browser = await chat()
        statuses.append((await browser.post("/chat/session", json={})).status)
    assert statuses == [200, 200, 200, 429]


async def test_the_new_chat_limit_holds_behind_a_proxy_per_client_and_per_64(
    chat: ChatClient,
) -> None:
    """Rotating a forged X-Forwarded-For line or the low bits of an IPv6 address does not
    open new conversations past the per-address limit (issue 15 #3)."""
    await chat(
        settings_changes={"trust_proxy": True}, CHAT_START_BURST="3", CHAT_START_RATE="0.001"
    )

    async def start(*lines: str) -> int:
        browser = await chat()
        headers = CIMultiDict(("X-Forwarded-For", line) for line in lines)
        return (await browser.post("/chat/session", json={}, headers=headers)).status

    forged = [await start(f"6.6.6.{i}", "198.51.100.7") for i in range(4)]
    assert forged == [200, 200, 200, 429]
    ipv6 = [await start(f"2001:db8:7:7::{i + 1:x}") for i in range(4)]
    assert ipv6 == [200, 200, 200, 429]
    assert await start("2001:db8:7:8::1") == 200  # another /64, another client


# ---------------------------------------------------------------- Rasa down or slow


async def test_rasa_down_gets_the_phone_number(chat: ChatClient, rasa: FakeRasa) -> None:
    client = await chat()
    await client.post("/chat/session", json={})
    rasa.status = 500
    response = await send(client, text="hello?")
    assert response.status == 503
    data = await response.json()
    assert data["error"] == "unavailable" and PHONE in data["message"]
    assert data["tel"] == "tel:+18338202922"
    nobody = await chat(RASA_URL="http://127.0.0.1:9")
    response = await nobody.post("/chat/session", json={})
    assert response.status == 503 and PHONE in (await response.json())["message"]


async def test_a_slow_rasa_times_out_with_the_phone_number(
    chat: ChatClient, rasa: FakeRasa
) -> None:
    client = await chat(CHAT_RASA_TIMEOUT="0.3")
    await client.post("/chat/session", json={})
    rasa.delay = 2
    started = time.monotonic()
    response = await send(client, text="are you there?")
    assert response.status == 504
    assert time.monotonic() - started < 1.5
    assert PHONE in (await response.json())["message"]


async def test_the_default_timeout_is_ten_seconds(chat: ChatClient) -> None:
    client = await chat()
    assert client.app[CHAT_CONFIG].rasa_timeout == 10


async def test_logs_carry_no_message_text(
    chat: ChatClient, rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "CANARY-Jane-Doe-212-555-0187"
    client = await chat()
    await client.post("/chat/session", json={})
    await send(client, text=canary)
    rasa.status = 500
    await send(client, text=canary + " again")
    await send(client, text=canary * 200)
    assert "Rasa unavailable" in caplog.text
    # The number's own digits, not a bare "555": DEBUG lines carry memory addresses (0x...5553...).
    for secret in ("CANARY", "555-0187", "5550187"):
        assert secret not in caplog.text, secret
