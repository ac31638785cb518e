"""Issue 15 #9 and #13: the tracker file is owner-only, and a purged conversation stays purged.

The purge is the staff app's own code (``admissions.db.transcripts.delete_conversation``, run in
the app's environment, in another process) against the same SQLite file the store uses. The
race with a real Rasa server and action server is in ``tests/e2e/test_purge_race.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain

from rasa_addons.tracker_store import DurableSQLTrackerStore
from tests.rasa_addons.test_tracker_store import (
    CANARY,
    Lock,
    drain,
    new_tracker,
    store_for,
    turn,
    user_texts,
)

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / ".venv" / "app" / "bin" / "python"
PURGE = """
import asyncio, sys
from admissions.db import transcripts
from admissions.db.engine import create_engine

async def main(url, sender):
    engine = create_engine(url, foreign_keys=False)
    async with engine.begin() as conn:
        print(await transcripts.delete_conversation(conn, sender))
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def app_purge(db: Path, sender: str) -> int:
    """Delete a conversation as the staff app's retention purge does, from the app's process."""
    if not APP_PY.exists():
        pytest.skip("the staff app environment (.venv/app) is not installed")
    done = subprocess.run(
        [str(APP_PY), "-c", PURGE, f"sqlite:///{db}", sender],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip())


def tombstoned(db: Path, sender: str) -> bool:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT count(*) FROM purged_senders WHERE sender_id = ?", (sender,)
        ).fetchone() == (1,)
    finally:
        con.close()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DB_TIMEOUT", "0.2")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


# ---------------------------------------------------------------- issue 15 #13: tombstones
def test_purge_in_the_middle_of_a_turn_is_not_undone(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Read at the start of a turn, purged by the app, saved at the end: nothing comes back."""

    async def scenario() -> DurableSQLTrackerStore:
        store = store_for(db, domain)
        tracker = new_tracker("p1", domain)
        turn(tracker, CANARY)
        await store.save(tracker)
        in_turn = await store.retrieve("p1")  # the turn starts: Rasa has the tracker
        assert in_turn is not None
        turn(in_turn, "a message during the purge")
        assert await asyncio.to_thread(app_purge, db, "p1") > 0  # the purge runs now
        await store.save(in_turn)  # the turn ends
        assert await store.retrieve("p1") is None  # a new visitor, not the purged one
        return store

    store = loop.run_until_complete(scenario())
    assert user_texts(db, "p1") == []
    assert tombstoned(db, "p1") and "p1" in store.purged
    assert "p1" not in store.cache


def test_purge_while_the_store_is_in_back_off_is_not_undone_by_the_spool(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """A turn spooled during an outage, the purge, then the replay: the spool is dropped."""

    async def scenario() -> DurableSQLTrackerStore:
        store = store_for(db, domain)
        tracker = new_tracker("p2", domain)
        turn(tracker, "before the outage")
        await store.save(tracker)
        turn(tracker, CANARY)
        store.replay_interval = 3600  # only the replay below, after the purge
        await asyncio.sleep(0.1)
        with Lock(db):
            await store.save(tracker)  # database locked: spooled, back-off starts
        assert store.spool.has("p2") and not store.db_available()
        await asyncio.to_thread(app_purge, db, "p2")  # purged before the replay
        await drain(store)
        return store

    store = loop.run_until_complete(scenario())
    assert user_texts(db, "p2") == []
    assert not store.spool.has("p2") and "p2" in store.purged


def test_spool_left_by_a_crash_is_not_replayed_after_a_purge(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Spooled rows found at start-up are not written for a conversation purged meanwhile."""

    async def first_life() -> None:
        store = store_for(db, domain)
        tracker = new_tracker("p3", domain)
        turn(tracker, "saved")
        await store.save(tracker)
        turn(tracker, CANARY)
        with Lock(db):
            await store.save(tracker)
        assert store.spool.has("p3")
        store._db_thread.shutdown(wait=True)  # the process "dies" with the spool on disk

    loop.run_until_complete(first_life())
    app_purge(db, "p3")
    store = DurableSQLTrackerStore(domain=domain, db=str(db))  # start-up replay
    assert user_texts(db, "p3") == [] and not store.spool.has("p3")


def test_cached_copy_is_dropped_when_another_process_purges(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """After the purge, an outage does not bring the conversation back from the cache."""

    async def scenario() -> None:
        store = store_for(db, domain)
        store.tombstone_interval = 0.05
        tracker = new_tracker("p4", domain)
        turn(tracker, CANARY)
        await store.save(tracker)
        assert "p4" in store.cache
        await asyncio.to_thread(app_purge, db, "p4")
        for _ in range(100):  # the background task reads new tombstones
            if "p4" not in store.cache:
                break
            await asyncio.sleep(0.05)
        with Lock(db):  # an outage now: the cache is all the store could serve
            assert await store.retrieve("p4") is None

    loop.run_until_complete(scenario())
    assert user_texts(db, "p4") == []


def test_other_conversations_are_untouched(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Only the purged id is refused; its neighbours keep being written."""

    async def scenario() -> None:
        store = store_for(db, domain)
        for sender in ("keep", "gone"):
            tracker = new_tracker(sender, domain)
            turn(tracker, f"hello from {sender}")
            await store.save(tracker)
        await asyncio.to_thread(app_purge, db, "gone")
        kept = await store.retrieve("keep")
        assert kept is not None
        turn(kept, "still here")
        await store.save(kept)

    loop.run_until_complete(scenario())
    assert user_texts(db, "keep") == ["hello from keep", "still here"]
    assert user_texts(db, "gone") == []


# ---------------------------------------------------------------- issue 15 #9: file modes
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what most shells have: new files 0644
    yield
    os.umask(old)


def test_new_tracker_file_is_owner_only(
    tmp_path: Path, domain: Domain, loop: asyncio.AbstractEventLoop, loose_umask: None
) -> None:
    db = tmp_path / "new" / "tracker.db"
    store = store_for(db, domain)

    async def scenario() -> None:
        tracker = new_tracker("m1", domain)
        turn(tracker, "hello")
        await store.save(tracker)

    loop.run_until_complete(scenario())
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700


def test_existing_readable_tracker_file_is_made_owner_only_with_a_warning(
    db: Path, domain: Domain, loose_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    sqlite3.connect(db).close()  # made by an older version under umask 022
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="rasa_addons.tracker_store"):
        store_for(db, domain)
    assert mode(db) == 0o600
    warnings = [r.getMessage() for r in caplog.records if "readable by other" in r.getMessage()]
    assert warnings == [
        "tracker database file tracker.db was readable by other local users (mode 0644); "
        "changed to 0600"
    ]
