"""The chat routes against a real Rasa server (API behind ``--jwt-secret``) and a real action
server: what the visitor is shown is what the transcript holds, nobody else's conversation
can be read or written, and Rasa's own API stays closed without the right token."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from admissions.web.chat_rasa import conversation_token
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.browser.stack import MODEL, Stack, running_rasa, wait_for_rasa

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model (make train)")

Browser = Callable[[], Awaitable[TestClient[Any, Any]]]


@pytest.fixture(scope="module")
def rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A real Rasa + action server for this module."""
    with running_rasa(tmp_path_factory.mktemp("rasa")) as stack:
        wait_for_rasa(stack)
        yield stack


@pytest.fixture
def browser(
    aiohttp_client: Any,
    aiohttp_server: Any,
    settings: Settings,
    tracker: Any,
    app_db: Any,
    rasa: Stack,
    monkeypatch: pytest.MonkeyPatch,
) -> Browser:
    """New browsers (own cookie jars) on one real app that talks to the real Rasa."""
    monkeypatch.setenv("RASA_URL", rasa.rasa_url)
    monkeypatch.setenv("RASA_JWT_SECRET", rasa.jwt_secret)
    monkeypatch.setenv("CHAT_SECRET", "t" * 40)
    monkeypatch.delenv("VAR_DIR", raising=False)
    servers: list[Any] = []

    async def make() -> TestClient[Any, Any]:
        if not servers:
            servers.append(await aiohttp_server(init_app(dataclasses.replace(settings))))
        return await aiohttp_client(servers[0])

    return make


def conversation_id(client: TestClient[Any, Any]) -> str:
    return next(c.value for c in client.session.cookie_jar if c.key == "chat_session").split(".")[1]


async def say(client: TestClient[Any, Any], **body: Any) -> list[dict[str, Any]]:
    body.setdefault("id", f"live{time.monotonic_ns()}")
    response = await client.post("/chat/send", json=body)
    assert response.status == 200, await response.text()
    return list((await response.json())["messages"])


async def test_history_is_exactly_what_the_visitor_saw(browser: Browser) -> None:
    client = await browser()
    shown = (await (await client.post("/chat/session", json={})).json())["messages"]
    assert "admissions assistant" in shown[0]["text"]
    assert {"title": "Call 833-820-2922", "tel": "tel:+18338202922"} in shown[0]["buttons"]
    steps = [
        (
            {"payload": "/ready_to_start", "title": "I want help for myself"},
            "I want help for myself",
        ),
        ({"text": "I have Aetna through my job"}, "I have Aetna through my job"),
        ({"text": "<img src=x onerror=alert(1)>"}, "<img src=x onerror=alert(1)>"),
    ]
    for body, visitor_text in steps:
        shown.append({"from": "visitor", "text": visitor_text})
        shown.extend(await say(client, **body))
    history = await (await client.get("/chat/history")).json()
    assert history == {"active": True, "messages": shown}


async def test_nobody_else_reads_or_writes_a_conversation(browser: Browser, rasa: Stack) -> None:
    alice = await browser()
    await alice.post("/chat/session", json={})
    await say(alice, text="my name is Alice and I drink every day")
    alice_id = conversation_id(alice)

    mallory = await browser()
    await mallory.post("/chat/session", json={})
    mallory_id = conversation_id(mallory)
    own = await (await mallory.get("/chat/history")).json()
    assert "Alice" not in str(own)
    # Mallory puts Alice's id in her cookie: without the server's signature it is nobody's
    forged = next(c for c in mallory.session.cookie_jar if c.key == "chat_session").value
    mallory.session.cookie_jar.clear()
    mallory.session.cookie_jar.update_cookies(
        {"chat_session": forged.replace(mallory_id, alice_id)}
    )
    assert await (await mallory.get("/chat/history")).json() == {"active": False}
    response = await mallory.post("/chat/send", json={"id": "mallory-01", "text": "hijack"})
    assert response.status == 401
    texts = [e.get("text") for e in rasa.tracker(alice_id)["events"] if e["event"] == "user"]
    assert "hijack" not in texts and "my name is Alice and I drink every day" in texts


async def test_rasa_api_needs_the_right_token(rasa: Stack, browser: Browser) -> None:
    client = await browser()
    await client.post("/chat/session", json={})
    cid = conversation_id(client)
    url = f"{rasa.rasa_url}/conversations/{cid}/tracker"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as no_token:
            assert no_token.status == 401
        other = conversation_token(rasa.jwt_secret, "someone-else")
        async with http.get(url, headers={"Authorization": f"Bearer {other}"}) as wrong:
            assert wrong.status == 403
        forged = conversation_token("not the secret", cid)
        async with http.get(url, headers={"Authorization": f"Bearer {forged}"}) as bad:
            assert bad.status == 401
        own = conversation_token(rasa.jwt_secret, cid)
        async with http.get(url, headers={"Authorization": f"Bearer {own}"}) as ok:
            assert ok.status == 200


async def test_typed_slash_commands_and_long_messages_do_nothing(
    browser: Browser, rasa: Stack
) -> None:
    client = await browser()
    await client.post("/chat/session", json={})
    await say(client, payload="/ready_to_start", title="I want help for myself")
    await say(client, text="/restart")
    refused = await client.post("/chat/send", json={"id": "toolong-01", "text": "x" * 2001})
    assert refused.status == 422
    tracker = rasa.tracker(conversation_id(client))
    events = tracker["events"]
    assert not [e for e in events if e["event"] == "restart"]
    user = [e["text"] for e in events if e["event"] == "user"]
    assert user[-1] == "\u2215restart" and "x" * 2001 not in user
    assert tracker["active_loop"].get("name") == "assessment_form"  # still mid-assessment
