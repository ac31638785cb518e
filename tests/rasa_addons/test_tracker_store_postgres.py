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
        conn.exec_driver_sql("DROP TABLE IF EXISTS purged_senders")
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


# The staff app's purge (its own code, in its own environment), holding its transaction open
# until told to commit: a write that starts meanwhile must wait for it and then see the tombstone.
HELD_PURGE = """
import asyncio, sys
from admissions.db import transcripts
from admissions.db.engine import create_engine

async def main(url, sender):
    engine = create_engine(url, foreign_keys=False)
    async with engine.begin() as conn:
        deleted = await transcripts.delete_conversation(conn, sender)
        print(deleted, flush=True)
        sys.stdin.readline()
    print("committed", flush=True)
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_a_write_racing_an_uncommitted_purge_does_not_bring_it_back(
    domain: Domain, tmp_path: Path
) -> None:
    """Issue 15 #13 on PostgreSQL: the purge has deleted but not committed when the turn ends.

    Under READ COMMITTED the write would not see the uncommitted tombstone and its rows would
    survive the purge; the advisory lock both take makes the write wait and then see it.
    """
    app_py = ROOT / ".venv" / "app" / "bin" / "python"
    if not app_py.exists():
        pytest.skip("the staff app environment (.venv/app) is not installed")

    async def scenario() -> DurableSQLTrackerStore:
        store = store_for(domain, tmp_path)
        tracker = DialogueStateTracker("race", domain.slots)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        turn(tracker, "before the purge")
        await store.save(tracker)
        in_turn = await store.retrieve("race")
        assert in_turn is not None
        turn(in_turn, "during the purge")
        purge = subprocess.Popen(
            [str(app_py), "-c", HELD_PURGE, URL, "race"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert purge.stdin is not None and purge.stdout is not None
        deleted = await asyncio.to_thread(purge.stdout.readline)
        assert int(deleted) > 0  # deleted, tombstone written, not committed yet
        saving = asyncio.ensure_future(store.save(in_turn))
        await asyncio.sleep(0.5)
        assert not saving.done(), "the write did not wait for the purge"
        purge.stdin.write("commit\n")
        purge.stdin.flush()
        assert (await asyncio.to_thread(purge.stdout.readline)).strip() == "committed"
        await saving
        await asyncio.to_thread(purge.wait, 30)
        return store

    store = asyncio.run(scenario())
    assert user_texts("race") == []
    assert "race" in store.purged
