"""The chat proxy across a model swap: every new turn goes to the Rasa process the serving file
names at that moment, and a conversation never has turns in two processes at once.
(The swap itself, with real Rasa processes, is tested in tests/training/test_e2e_swap.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from admissions.web.main import init_app
from admissions.web.rasa_target import RasaTarget
from admissions.web.settings import Settings


@dataclass
class Shared:
    """Turns in flight per conversation, over every fake Rasa process."""

    in_flight: dict[str, int] = field(default_factory=dict)
    most: int = 0


@dataclass
class FakeRasa:
    """One Rasa process: answers the REST channel, records what reached it."""

    name: str
    shared: Shared
    received: list[str] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender = body["sender"]
        self.shared.in_flight[sender] = self.shared.in_flight.get(sender, 0) + 1
        self.shared.most = max(self.shared.most, self.shared.in_flight[sender])
        try:
            await asyncio.sleep(self.delay)
            self.received.append(body["message"])
        finally:
            self.shared.in_flight[sender] -= 1
        return web.json_response([{"recipient_id": sender, "text": f"{self.name} answers"}])


def _write(path: Path, url: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": 1, "port": 1}))
    os.replace(tmp, path)


async def _fake(aiohttp_server: Any, name: str, shared: Shared) -> FakeRasa:
    fake = FakeRasa(name, shared)
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


async def test_turns_follow_the_serving_file_one_at_a_time(
    aiohttp_client: Any,
    aiohttp_server: Any,
    settings: Settings,
    tracker: Any,
    app_db: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = Shared()
    old, new = (
        await _fake(aiohttp_server, "old", shared),
        await _fake(aiohttp_server, "new", shared),
    )
    serving_file = tmp_path / "rasa-serving.json"
    _write(serving_file, old.url)
    monkeypatch.setenv("RASA_SERVING_FILE", str(serving_file))
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # never used while the file exists
    monkeypatch.setenv("CHAT_SECRET", "s" * 40)
    monkeypatch.delenv("VAR_DIR", raising=False)
    client = await aiohttp_client(await aiohttp_server(init_app(settings)))

    async def send(text: str) -> Any:
        response = await client.post(
            "/chat/send", json={"id": f"m{time.monotonic_ns()}", "text": text}
        )
        assert response.status == 200, await response.text()
        return (await response.json())["messages"][0]["text"]

    assert (await client.post("/chat/session", json={})).status == 200
    assert await send("one") == "old answers"

    # A slow turn is in flight on the old process when the swap switches the file; the
    # conversation's next turn waits for it, then goes to the new process.
    old.delay = 0.5
    in_flight = asyncio.create_task(send("two"))
    await asyncio.sleep(0.1)
    _write(serving_file, new.url)
    following = asyncio.create_task(send("three"))
    assert await in_flight == "old answers"
    assert await following == "new answers"
    assert await send("four") == "new answers"

    assert old.received == ["/greet", "one", "two"]
    assert new.received == ["three", "four"]
    assert shared.most == 1  # never two turns of one conversation at once, in any process


def test_the_target_rereads_the_file_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "rasa-serving.json"
    target = RasaTarget("http://127.0.0.1:5005/", path)
    assert target.url() == "http://127.0.0.1:5005"  # no file yet: the fixed URL
    _write(path, "http://127.0.0.1:5105/")
    assert target.url() == "http://127.0.0.1:5105"
    _write(path, "http://127.0.0.1:5005")
    assert target() == "http://127.0.0.1:5005"
    path.write_text("{not json")
    assert target.url() == "http://127.0.0.1:5005"  # a broken file keeps the last URL
    path.unlink()
    assert target.url() == "http://127.0.0.1:5005"
    assert RasaTarget("http://127.0.0.1:5005", None).url() == "http://127.0.0.1:5005"
