"""End to end: a model swap never loses a visitor's turn or answer.

A visitor is in the middle of the assessment, chatting through the web app's chat proxy (as
the widget does) while another visitor chats steadily. A model is promoted: a second Rasa
process starts with it, passes its smoke conversation, the proxy switches to it, the old
process drains and stops. The visitor answers while the new process loads and again while
the old one drains; the conversation goes on with its slots intact and every turn answered
and stored. Then a rollback, with the same checks.

Real Rasa + action servers on a copy of the project (a cheap 8-epoch model, or the model in
``TRAINING_TEST_MODEL`` when set, to save the training).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admissions.db import migrate
from admissions.db.engine import create_engine
from admissions.training import history, promote, serving
from admissions.web.chat_sessions import COOKIE
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.training import servers

pytestmark = pytest.mark.skipif(
    not (servers.BIN / "rasa").exists() or not (servers.SPACY / "meta.json").exists(),
    reason="needs the assistant environment and the spaCy pipeline (make setup)",
)

ASSESSMENT = [
    "I want help to stop drinking, as soon as possible",
    "i have aetna, will it cover iop?",
]
WHILE_LOADING = "i work 7pm to 7am thursday friday saturday"
WHILE_DRAINING = "is this confidential? i don't want my job finding out"
AFTER_PROMOTION = "what does it cost"
ROLLBACK_LOADING = "actually i work fri sat sun nights, 7pm to 7am"
ROLLBACK_DRAINING = "how long is the program"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Stack]:
    root = servers.make_project(tmp_path_factory.mktemp("e2e-swap"), diet_epochs=8)
    given = os.environ.get("TRAINING_TEST_MODEL")
    if given:
        shutil.copyfile(given, root / "models" / "admissions.tar.gz")
    else:
        servers.train(root)
    with servers.stack(root) as s:
        yield s


def _regzip(source: Path, target: Path) -> None:
    """The same model under a different SHA-256 (a new gzip header): a second model."""
    data = gzip.decompress(source.read_bytes())
    target.write_bytes(gzip.compress(data, mtime=int(time.time()) + 1))


class Browser:
    """One visitor's browser on the web app: its own cookie jar, the widget's calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sent: list[str] = []
        self.failures: list[str] = []
        self.seconds: list[float] = []

    async def start(self) -> None:
        response = await self.client.post("/chat/session", json={})
        assert response.status == 200, await response.text()
        assert (await response.json())["messages"]

    async def say(self, text: str) -> list[dict[str, Any]]:
        started = time.monotonic()
        response = await self.client.post(
            "/chat/send", json={"id": f"m{time.monotonic_ns()}", "text": text}
        )
        self.seconds.append(time.monotonic() - started)
        body = await response.json()
        if response.status != 200 or not body.get("messages"):
            self.failures.append(f"{text!r}: {response.status} {body}")
            return []
        self.sent.append(text)
        return list(body["messages"])

    @property
    def conversation_id(self) -> str:
        values = [c.value for c in self.client.session.cookie_jar if c.key == COOKIE]
        assert values, "no chat cookie"
        return values[0].split(".")[1]


async def _chatter(browser: Browser, stop: asyncio.Event) -> None:
    lines = ["what does it cost", "thanks", "how long is the program", "ok"]
    while not stop.is_set():
        # Go on where the last call stopped: never the same line twice in a row.
        await browser.say(lines[len(browser.sent) % len(lines)])
        # Slower than the chat's per-conversation rate limit (0.75 messages a second): on a
        # loaded machine the swaps take minutes and a 1 s pace used up the burst (429).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.5)


async def _until_switched(stack: servers.Stack, old_url: str, task: asyncio.Task[Any]) -> None:
    while stack.rasa_url == old_url:
        if task.done():
            task.result()  # raises the swap's error
            raise AssertionError("the swap finished without switching")
        await asyncio.sleep(0.1)


def _user_texts(stack: servers.Stack, sender: str) -> list[str]:
    """What the visitor said, as stored: a message read again after a rewind (the two-stage
    fallback) counts once; the greeting trigger the proxy sends is left out."""
    with sqlite3.connect(stack.tracker_db) as conn:
        rows = conn.execute(
            "select data from events where sender_id = ? and type_name = 'user' order by id",
            (sender,),
        ).fetchall()
    texts: list[str] = []
    for (data,) in rows:
        text = json.loads(data)["text"]
        if text != "/greet" and (not texts or texts[-1] != text):
            texts.append(text)
    return texts


async def _shown(browser: Browser) -> list[str]:
    """The visitor's own messages as the widget shows them after a reload."""
    response = await browser.client.get("/chat/history")
    assert response.status == 200
    return [m["text"] for m in (await response.json())["messages"] if m["from"] == "visitor"]


async def _swap_with_visitors(
    stack: servers.Stack,
    training: Any,
    engine: Any,
    model_id: int,
    action: str,
    visitor: Browser,
    other: Browser,
    while_loading: str,
    while_draining: str,
) -> promote.Promotion:
    old_url, old_pid = stack.rasa_url, stack.rasa_pid
    stop = asyncio.Event()
    chatter = asyncio.create_task(_chatter(other, stop))
    swap = asyncio.create_task(promote.go_live(training, engine, model_id, by="e2e", action=action))
    await asyncio.sleep(1)
    assert not swap.done()
    assert await visitor.say(while_loading)  # the old process answers; the new one loads
    await _until_switched(stack, old_url, swap)
    assert serving.alive(old_pid)  # draining
    assert await visitor.say(while_draining)  # the new process answers
    result = await swap
    await asyncio.sleep(2)
    stop.set()
    await chatter
    assert not serving.alive(old_pid), "the old Rasa process was not stopped"
    assert stack.rasa_url != old_url
    return result


async def test_a_conversation_mid_assessment_survives_promotion_and_rollback(
    live: servers.Stack, aiohttp_client: Any, aiohttp_server: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RASA_SERVING_FILE", str(live.serving_file))
    monkeypatch.setenv("RASA_URL", live.first_url)
    monkeypatch.setenv("RASA_JWT_SECRET", servers.JWT_SECRET)
    monkeypatch.setenv("CHAT_SECRET", "s" * 40)
    monkeypatch.setenv("CHAT_RASA_TIMEOUT", "60")  # a shared 2-core machine can be slow
    monkeypatch.delenv("VAR_DIR", raising=False)
    settings = Settings(
        tracker_db_url=f"sqlite:///{live.tracker_db}",
        app_db_url=f"sqlite:///{live.root / 'admissions-swap.db'}",
        facility_file=servers.REPO / "facility.yml",
        retention_interval_minutes=0,
    )
    training = live.settings(app_db_url=settings.app_db_url)
    migrate.upgrade(settings.app_db_url)
    engine = create_engine(settings.app_db_url)
    try:
        # Two models in the history: the live one (adopted) and a gate-passed one.
        first_id = await promote.adopt_live(training, engine)
        assert first_id is not None
        second_file = live.root / "second.tar.gz"
        _regzip(live.root / "models" / "admissions.tar.gz", second_file)
        archived, sha, size = history.archive(training, second_file)
        async with engine.begin() as conn:
            second_id = await history.add_model(
                conn,
                file=str(archived),
                sha256=sha,
                size_bytes=size,
                origin="trained",
                trained_by="e2e",
                gate_passed=True,
            )

        server = await aiohttp_server(init_app(settings, training))
        visitor = Browser(await aiohttp_client(server))
        other = Browser(await aiohttp_client(server))
        await visitor.start()
        await other.start()
        for text in ASSESSMENT:
            assert await visitor.say(text)
        sender = visitor.conversation_id
        before = live.tracker(sender)["slots"]
        assert before["payer"] == "Aetna"
        assert before["requested_slot"] is not None  # in the middle of the assessment

        # Promotion.
        result = await _swap_with_visitors(
            live,
            training,
            engine,
            second_id,
            "promote",
            visitor,
            other,
            WHILE_LOADING,
            WHILE_DRAINING,
        )
        assert result.seconds_to_switch is not None
        assert live.status()["model_file"] == Path(archived).name
        assert await visitor.say(AFTER_PROMOTION)
        slots = live.tracker(sender)["slots"]
        assert slots["payer"] == "Aetna"
        assert slots["work_school"]["job_hours"][0]["days"] == ["thu", "fri", "sat"]
        assert _user_texts(live, sender) == visitor.sent
        async with engine.connect() as conn:
            current = await history.live(conn)
        assert current is not None and current.id == second_id
        assert history.sha256_file(training.live_model) == sha
        with sqlite3.connect(live.tracker_db) as conn:
            smoke = conn.execute(
                "select count(*) from events where sender_id like 'smoke-check-%'"
            ).fetchone()[0]
        assert smoke == 0  # the smoke conversation does not reach the transcripts

        # Rollback.
        await _swap_with_visitors(
            live,
            training,
            engine,
            first_id,
            "rollback",
            visitor,
            other,
            ROLLBACK_LOADING,
            ROLLBACK_DRAINING,
        )
        assert live.status()["model_file"] != Path(archived).name
        slots = live.tracker(sender)["slots"]
        assert slots["payer"] == "Aetna"
        assert slots["work_school"]["job_hours"][0]["days"] == ["fri", "sat", "sun"]
        assert _user_texts(live, sender) == visitor.sent
        async with engine.connect() as conn:
            current = await history.live(conn)
        assert current is not None and current.id == first_id

        # No turn of either visitor was lost or failed: every one answered, stored once, in
        # order, and shown again after a reload.
        print(
            f"\nslowest turn during the swaps: visitor {max(visitor.seconds):.2f} s, "
            f"other {max(other.seconds):.2f} s; switch after {result.seconds_to_switch:.0f} s"
        )
        assert visitor.failures == [] and other.failures == [], visitor.failures + other.failures
        assert len(other.sent) >= 4
        assert _user_texts(live, other.conversation_id) == other.sent
        assert await _shown(visitor) == visitor.sent
        assert await _shown(other) == other.sent
    finally:
        await engine.dispose()
