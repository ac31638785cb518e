"""DurableSQLTrackerStore on PostgreSQL (production): idempotent writes, spool and replay.

Runs only when ``TRACKER_TEST_POSTGRES_URL`` names a scratch database, e.g.
``postgresql://postgres@127.0.0.1:5432/tracker_test``; the test drops its ``events`` table.
``TRACKER_TEST_POSTGRES_STOP`` / ``TRACKER_TEST_POSTGRES_START`` (shell commands) let it take
the server down and back for the outage test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.tracker_store import DurableSQLTrackerStore

URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
STOP = os.environ.get("TRACKER_TEST_POSTGRES_STOP", "")
START = os.environ.get("TRACKER_TEST_POSTGRES_START", "")
pytestmark = pytest.mark.skipif(
    not URL, reason="set TRACKER_TEST_POSTGRES_URL to run on PostgreSQL"
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def clean() -> None:
    engine = sa.create_engine(URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS events")
    engine.dispose()


def store_for(domain: Domain, tmp_path: Path) -> DurableSQLTrackerStore:
    store = DurableSQLTrackerStore(domain=domain, host=URL, spool_dir=str(tmp_path / "spool"))
    store.replay_interval = 0.05
    return store


def turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("ok"))
    tracker.update(ActionExecuted("action_listen"))


def user_texts(sender: str) -> list[str]:
    engine = sa.create_engine(URL)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT data::json->>'text' FROM events WHERE sender_id = %(s)s AND type_name = 'user'"
            " ORDER BY id",
            {"s": sender},
        ).fetchall()
    engine.dispose()
    return [r[0] for r in rows]


def test_takes_over_rasa_rows_and_writes_once(domain: Domain, tmp_path: Path) -> None:
    async def scenario() -> None:
        stock = SQLTrackerStore(domain=domain, host=URL)
        tracker = DialogueStateTracker("p1", domain.slots)
        for event in (
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
        turn(tracker, "by rasa")
        await stock.save(tracker)
        store = store_for(domain, tmp_path)
        a = await store.retrieve("p1")
        b = await store.retrieve("p1")
        assert a is not None and b is not None
        turn(a, "from a")
        turn(b, "from b")
        for t in (a, b, a):
            await store.save(t)

    asyncio.run(scenario())
    assert user_texts("p1") == ["by rasa", "from a", "from b"]


@pytest.mark.skipif(not (STOP and START), reason="needs TRACKER_TEST_POSTGRES_STOP/START")
def test_server_down_then_back(domain: Domain, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = store_for(domain, tmp_path)
        tracker = DialogueStateTracker("p2", domain.slots)
        turn(tracker, "before")
        await store.save(tracker)
        subprocess.run(STOP, shell=True, check=True)
        try:
            during = await store.retrieve("p2")
            assert during is not None
            turn(during, "while postgres is down")
            await store.save(during)
            assert store.spool.senders() == ["p2"]
        finally:
            subprocess.run(START, shell=True, check=True)
        for _ in range(200):
            if not store.spool.senders():
                break
            await store.replay_pending()
            await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert user_texts("p2") == ["before", "while postgres is down"]
