"""End to end against a real Rasa server (JWT auth) and action server, on a copy of the project
with a cheap test config:

1. a message the live model gets wrong reaches the NLU inbox, a trainer annotates it, retrains
   from the app, the new model passes the quality gate and is promoted (a Rasa process swap) —
   and the same message is now understood, while another visitor's conversation carries on
   across the swap; a personal-details example cannot be accepted until it is redacted;
2. a training set broken for crisis recall is refused by the gate and the live model stays;
3. one click rolls back to the earlier model.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from admissions.db import migrate, staff
from admissions.db.engine import create_engine
from admissions.training import history, nludata
from admissions.web import auth
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.training import servers
from tests.web.conftest import PASSWORD, login, session_csrf

pytestmark = pytest.mark.skipif(
    not (servers.BIN / "rasa").exists() or not (servers.SPACY / "meta.json").exists(),
    reason="needs the assistant environment and the spaCy pipeline (make setup)",
)

# Messages a barely-trained model tends to get wrong, with what they mean. The test uses the
# first one the baseline actually misunderstands.
CANDIDATES = [
    ("whats the damage for the evening sessions", "ask_cost"),
    ("is the night group gonna cost me a lot", "ask_cost"),
    ("can a real person ring me up", "request_human"),
    ("i reckon i'm not there yet", "not_ready"),
    ("sort me out asap", "ready_to_start"),
    ("my missus would have to come with me", "for_someone_else"),
]
PII_MESSAGE = "my name is Jessica Smith and my cell is 555-867-5309"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Stack]:
    # The baseline is deliberately under-trained (few epochs): retraining then genuinely
    # improves it, so "passes the gate" is what should happen. (With a converged model the
    # gate's limits sit inside training noise; see admissions/training/README.md.)
    root = servers.make_project(tmp_path_factory.mktemp("e2e-retrain"), diet_epochs=8)
    servers.train(root)
    with servers.stack(root) as s:
        yield s


class Chatter(threading.Thread):
    """Another visitor chatting steadily while the model is swapped."""

    def __init__(self, stack: servers.Stack, sender: str) -> None:
        super().__init__(daemon=True)
        self.stack, self.sender = stack, sender
        self.stop = threading.Event()
        self.sent: list[str] = []
        self.times: list[float] = []
        self.failures: list[str] = []
        self.slowest = 0.0
        self.lines = [
            "I work 9-5 monday to friday",
            "what does it cost",
            "thanks",
            "ok",
            "I have two kids",
            "how long is the program",
        ]

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            text = self.lines[i % len(self.lines)]
            started = time.monotonic()
            try:
                replies = self.stack.say(self.sender, text)
                if not replies:
                    self.failures.append(f"no reply to {text!r}")
            except Exception as exc:  # noqa: BLE001 - any failure is what we count
                self.failures.append(f"{text!r}: {exc}")
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.sent.append(text)
            self.times.append(time.time())
            i += 1
            self.stop.wait(1.0)


async def _trainer(
    aiohttp_client: Any,
    settings: Settings,
    training: Any,
    name: str = "tina",
    role: str = "trainer",
) -> Any:
    migrate.upgrade(settings.app_db_url)
    engine = create_engine(settings.app_db_url)
    try:
        async with engine.begin() as conn:
            if await staff.find_user(conn, name) is None:
                await staff.create_user(conn, name, auth.hash_password(PASSWORD), [role])
    finally:
        await engine.dispose()
    client = await aiohttp_client(init_app(settings, training))
    assert (await login(client, name)).status == 303
    csrf = await session_csrf(client)

    async def post(path: str, data: dict[str, str] | None = None) -> Any:
        return await client.post(
            path, data={"csrf_token": csrf, **(data or {})}, allow_redirects=False
        )

    client.post_form = post
    return client


def _app_settings(stack: servers.Stack) -> Settings:
    return Settings(
        tracker_db_url=f"sqlite:///{stack.tracker_db}",
        app_db_url=f"sqlite:///{stack.root / 'admissions.db'}",
        facility_file=servers.REPO / "facility.yml",
        retention_interval_minutes=0,
    )


async def _wait_for_run(client: Any, url: str, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = await (await client.get(url)).text()
        if '<meta http-equiv="refresh"' not in body:
            return body
        await asyncio.sleep(2)
    raise AssertionError(f"training did not finish in {timeout}s:\n{body[-3000:]}")


def _audit(stack: servers.Stack) -> list[tuple[str, str, str]]:
    with sqlite3.connect(stack.root / "admissions.db") as conn:
        return list(
            conn.execute("select username, action, result from staff_audit_log order by id")
        )


async def test_annotate_retrain_promote_and_the_message_is_understood(live, aiohttp_client):
    settings = _app_settings(live)
    # Fine-tune 12 more epochs (1.5 x the test config's 8). The gate is as specified except
    # the per-intent limit: the test's live model is a cheap 8-epoch one, so the much better
    # candidate reshuffles several messages of some intents by chance. The per-intent rule
    # itself is tested in test_gate.py; the refusal path below.
    training = live.settings(epoch_fraction=1.5, max_intent_f1_drop=0.15)
    # Another visitor is mid-conversation before anything happens.
    other = f"other-{uuid.uuid4().hex[:8]}"
    live.say(other, "hi")
    live.say(other, "I want help to stop drinking")
    # A message the live model gets wrong (preferably one it was unsure about: the inbox
    # shows those by itself; a confidently wrong one staff flag from the conversation).
    parsed = [(t, i, live.parse(t)["intent"]) for t, i in CANDIDATES]
    wrong = [(t, i, p) for t, i, p in parsed if p["name"] != i]
    assert wrong, "the baseline understood every candidate message; add harder ones"
    wrong.sort(key=lambda w: w[2]["name"] != "nlu_fallback" and w[2]["confidence"] >= 0.6)
    text, intent, _ = wrong[0]
    visitor = f"visitor-{uuid.uuid4().hex[:8]}"
    live.say(visitor, "hi")
    live.say(visitor, text)
    live.say(visitor, PII_MESSAGE)

    client = await _trainer(aiohttp_client, settings, training)
    coordinator = await _trainer(aiohttp_client, settings, training, "ada", "admissions")

    async def inbox_item(message: str, shown: str | None = None) -> str:
        """The inbox link for the visitor's message; flag it first if the model was sure.

        ``shown`` is how the inbox shows it to a trainer when personal details are masked.
        """
        pattern = (
            r'<span class="pre">'
            + re.escape(shown or message)
            + r'</span>.*?href="(/staff/training/inbox/\d+)"'
        )
        inbox = await (await client.get("/staff/training/inbox")).text()
        row = re.search(pattern, inbox, re.S)
        if row is None:
            # A message the model was sure about reaches trainers when staff who read
            # transcripts (admissions) flag it; trainers never read the whole transcript.
            page = await (await coordinator.get(f"/staff/conversations/{visitor}")).text()
            bubble = re.search(r'id="e(\d+)">\s*<p class="text">' + re.escape(message), page)
            assert bubble, page[-3000:]
            flagged = await coordinator.post_form(
                f"/staff/conversations/{visitor}/flag", {"event_id": bubble.group(1)}
            )
            assert flagged.status == 303
            inbox = await (await client.get("/staff/training/inbox")).text()
            row = re.search(pattern, inbox, re.S)
        assert row, inbox[-4000:]
        return row.group(1)

    item = await inbox_item(text)
    # The personal-details message cannot become training data as it is.
    pii_item = await inbox_item(PII_MESSAGE, "my name is NAME and my cell is 555-0100")
    data_before = {p.name: p.read_bytes() for p in (live.root / "data" / "nlu").glob("*.yml")}
    refused = await client.post_form(
        pii_item, {"action": "accept", "intent": "request_callback", "text": PII_MESSAGE}
    )
    assert refused.status == 400
    assert {
        p.name: p.read_bytes() for p in (live.root / "data" / "nlu").glob("*.yml")
    } == data_before
    redacted = await client.post_form(
        pii_item, {"action": "redact", "text": PII_MESSAGE, "intent": "request_callback"}
    )
    assert "my name is NAME and my cell is 555-0100</textarea>" in await redacted.text()
    # Annotate the misunderstood message.
    accepted = await client.post_form(item, {"action": "accept", "intent": intent, "text": text})
    assert accepted.status == 303, await accepted.text()
    examples = [
        t
        for b in nludata.load_blocks(live.root / "data" / "nlu")
        if b.intent == intent
        for t in b.examples
    ]
    assert text in examples

    # Retrain from the app, promote if it passes; the other visitor keeps chatting meanwhile.
    live_before = live.status()["model_file"]
    chatter = Chatter(live, other)
    chatter.start()
    started = time.monotonic()
    response = await client.post_form("/staff/training/runs", {"promote": "yes"})
    assert response.status == 303, await response.text()
    report = await _wait_for_run(client, response.headers["Location"])
    elapsed = time.monotonic() - started
    await asyncio.sleep(3)  # a few more turns after the swap
    chatter.stop.set()
    chatter.join(timeout=120)
    assert "passed</span></h1>" in report, re.sub(r"<[^>]+>", " ", report)[-4000:]
    assert "It is now live." in report
    assert "confusion-candidate.png" in report
    png = await client.get(re.search(r'src="([^"]+confusion-candidate\.png)"', report).group(1))
    assert png.status == 200 and (await png.read())[:8] == b"\x89PNG\r\n\x1a\n"

    # The server runs the new model, and the message is now understood.
    now_live = live.status()["model_file"]
    assert now_live != live_before
    async with (await _engine(settings)).connect() as conn:
        current = await history.live(conn)
    assert current is not None and Path(current.file).name == now_live
    assert live.parse(text)["intent"]["name"] == intent
    fresh = f"again-{uuid.uuid4().hex[:8]}"
    live.say(fresh, text)
    last = [e for e in live.tracker(fresh)["events"] if e["event"] == "user"][-1]
    assert last["parse_data"]["intent"]["name"] == intent

    # The other conversation carried on across the swap: every turn answered and kept.
    assert chatter.failures == [], chatter.failures
    assert len(chatter.sent) >= 5
    said = [e["text"] for e in live.tracker(other)["events"] if e["event"] == "user"]
    assert said[:2] == ["hi", "I want help to stop drinking"]
    assert said[-len(chatter.sent) :] == chatter.sent
    swapped_at = current.event_at.timestamp()
    assert any(t < swapped_at for t in chatter.times) and any(t > swapped_at for t in chatter.times)

    actions = [(a, r) for _, a, r in _audit(live)]
    for expected in [
        ("nlu_annotate", "invalid"),
        ("nlu_annotate", "ok"),
        ("retrain", "ok"),
        ("retrain_started", "ok"),
        ("retrain_finished", "ok"),
        ("model_promote", "ok"),
    ]:
        assert expected in actions, (expected, actions)
    print(
        f"\nretrain -> promoted live in {elapsed:.0f} s; slowest chat turn meanwhile "
        f"{chatter.slowest:.1f} s"
    )


async def _engine(settings: Settings) -> Any:
    return create_engine(settings.app_db_url)


def _break_crisis_data(nlu: Path) -> list[str]:
    """Relabel the crisis examples only the classifier knows (the rule-based guard does not
    catch them) as out_of_scope, as a careless bulk edit would."""
    from tests.training import guard_misses

    moved = guard_misses.CLASSIFIER_ONLY_CRISIS
    path = nlu / "crisis.yml"
    text = path.read_text()
    for example in moved:
        assert f"    - {example}\n" in text, example
        text = text.replace(f"    - {example}\n", "")
    path.write_text(text)
    oos = nlu / "out_of_scope.yml"
    data = oos.read_text()
    marker = "- intent: out_of_scope\n  examples: |\n"
    assert marker in data
    oos.write_text(data.replace(marker, marker + "".join(f"    - {e}\n" for e in moved), 1))
    yaml.safe_load(path.read_text())
    return moved


async def test_training_set_broken_for_crisis_is_refused_then_roll_back(live, aiohttp_client):
    settings = _app_settings(live)
    training = live.settings(mode="full")
    moved = _break_crisis_data(live.root / "data" / "nlu")
    live_file = live.root / "models" / "admissions.tar.gz"
    sha_before, server_before = history.sha256_file(live_file), live.status()["model_file"]
    understood_before = [live.parse(m)["intent"]["name"] for m in moved]
    env = {**os.environ, **training.to_env()}
    result = subprocess.run(
        [sys.executable, "-m", "admissions.training", "retrain", "--promote", "--by", "e2e"],
        cwd=servers.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "did not pass the quality gate" in result.stdout
    assert "would no longer be" in result.stdout
    # The relabelled examples pull their neighbours with them ("i'm not safe at home right now"
    # took "no i'm not safe" along): which protected message is named depends on the data.
    assert "no longer a crisis: " in result.stdout, result.stdout
    assert history.sha256_file(live_file) == sha_before
    assert live.status()["model_file"] == server_before
    assert [live.parse(m)["intent"]["name"] for m in moved] == understood_before

    # One click back to the first model.
    client = await _trainer(aiohttp_client, settings, training)
    page = await (await client.get("/staff/training/models")).text()
    rollbacks = re.findall(r'action="/staff/training/models/(\d+)/rollback"', page)
    assert rollbacks, page
    response = await client.post_form(f"/staff/training/models/{rollbacks[-1]}/rollback")
    assert response.status == 303, await response.text()
    # The page may return before the swap is done (it then shows its progress): wait for it.
    deadline = time.monotonic() + 300
    while live.status()["model_file"] == server_before and time.monotonic() < deadline:
        await asyncio.sleep(1)
    assert live.status()["model_file"] != server_before
    while time.monotonic() < deadline:  # recorded live (and audited) once the switch is done
        if ("tina", "model_rollback", "ok") in _audit(live) and history.sha256_file(
            live_file
        ) != sha_before:
            break
        await asyncio.sleep(1)
    engine = create_engine(settings.app_db_url)
    async with engine.connect() as conn:
        current = await history.live(conn)
    await engine.dispose()
    assert current is not None and current.id == int(rollbacks[-1])
    assert history.sha256_file(live_file) == current.sha256
    with sqlite3.connect(live.root / "admissions.db") as conn:
        rows = list(
            conn.execute(
                "select username, action, result, detail from staff_audit_log "
                "where action in ('retrain_finished', 'model_rollback')"
            )
        )
    assert ("e2e", "retrain_finished", "ok") in [r[:3] for r in rows]
    assert json.loads([r for r in rows if r[0] == "e2e"][-1][3])["gate_passed"] is False
    assert ("tina", "model_rollback", "ok") in [r[:3] for r in rows]
