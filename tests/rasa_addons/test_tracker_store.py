"""DurableSQLTrackerStore against a real SQLite file, with real outages (exclusive lock, moved file).

The first test shows the hazard in Rasa's own store (turns vanish after one failed read);
the rest show this store's guarantees: idempotent writes, history from the cache during an
outage, a durable spool replayed on recovery and after a crash, and no message text in logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event as sa_event

from rasa_addons.spool import EventRow, Spool
from rasa_addons.tracker_store import (
    ConversationUnavailable,
    DurableSQLTrackerStore,
    TrackerCache,
    event_keys,
)

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary Ottoline Pemberton 917-555-0142"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DB_TIMEOUT", "0.2")


class Lock:
    """An exclusive lock on the database file held by another connection (= outage)."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, timeout=5)

    def __enter__(self) -> Lock:
        self.con.execute("BEGIN EXCLUSIVE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.execute("ROLLBACK")


def store_for(db: Path, domain: Domain) -> DurableSQLTrackerStore:
    store = DurableSQLTrackerStore(domain=domain, db=str(db))
    store.replay_interval = 0.05
    return store


async def drain(store: object) -> None:
    """Wait until the spool is replayed (the store's back-off may delay it a little)."""
    if not isinstance(store, DurableSQLTrackerStore):
        return
    for _ in range(200):
        if not store.spool.senders():
            return
        await store.replay_pending()
        await asyncio.sleep(0.05)
    raise AssertionError("spool not replayed")


def turn(tracker: DialogueStateTracker, text: str, reply: str = "ok") -> None:
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered(reply))
    tracker.update(ActionExecuted("action_listen"))


def new_tracker(sender: str, domain: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def rows(db: Path, sender: str) -> list[tuple[str, str | None]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT type_name, json_extract(data, '$.text') FROM events WHERE sender_id = ? "
            "ORDER BY id",
            (sender,),
        ).fetchall()
    finally:
        con.close()


def user_texts(db: Path, sender: str) -> list[str]:
    return [text for kind, text in rows(db, sender) if kind == "user"]


def test_rasa_store_loses_turns_after_a_failed_read_and_ours_does_not(
    db: Path, tmp_path: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """One failed read: Rasa's store silently drops the next turn; ours keeps it."""

    async def scenario(store: object, db_path: Path) -> list[str]:
        failsafe = FailSafeTrackerStore(store)  # as Rasa wraps every tracker store
        tracker = new_tracker("c1", domain)
        for i in range(3):
            turn(tracker, f"turn {i}")
        await failsafe.save(tracker)
        with Lock(db_path):
            reloaded = await failsafe.get_or_create_tracker("c1", append_action_listen=False)
        turn(reloaded, "turn after the failed read")
        await failsafe.save(reloaded)
        await drain(store)
        return user_texts(db_path, "c1")

    stock = SQLTrackerStore(domain=domain, db=str(db))
    ours_db = tmp_path / "ours.db"
    stock_texts = loop.run_until_complete(scenario(stock, db))
    ours_texts = loop.run_until_complete(scenario(store_for(ours_db, domain), ours_db))
    assert "turn after the failed read" not in stock_texts  # the hazard, in Rasa 3.6.21
    assert ours_texts == ["turn 0", "turn 1", "turn 2", "turn after the failed read"]


def test_saves_are_idempotent_even_for_diverging_trackers(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Saving twice writes nothing twice; two trackers forked from one state both land."""

    async def scenario() -> None:
        store = store_for(db, domain)
        tracker = new_tracker("c2", domain)
        turn(tracker, "first")
        await store.save(tracker)
        await store.save(tracker)
        a = await store.retrieve("c2")
        b = await store.retrieve("c2")
        assert a is not None and b is not None
        turn(a, "from a")
        turn(b, "from b")
        await store.save(a)
        await store.save(b)
        await store.save(a)

    loop.run_until_complete(scenario())
    assert user_texts(db, "c2") == ["first", "from a", "from b"]
    con = sqlite3.connect(db)
    keys = con.execute("SELECT event_key FROM events WHERE sender_id = 'c2'").fetchall()
    assert len(keys) == len(set(keys)) == 3 + 3 * 4


def test_rows_written_by_rasas_store_get_keys_and_no_duplicates(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """A database written by the stock store is taken over without repeating its rows."""

    async def scenario() -> None:
        stock = SQLTrackerStore(domain=domain, db=str(db))
        tracker = new_tracker("c3", domain)
        turn(tracker, "written by rasa")
        await stock.save(tracker)
        store = store_for(db, domain)
        resumed = await store.retrieve("c3")
        assert resumed is not None
        turn(resumed, "written by ours")
        await store.save(resumed)

    loop.run_until_complete(scenario())
    assert user_texts(db, "c3") == ["written by rasa", "written by ours"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM events WHERE event_key IS NULL").fetchone() == (0,)


@pytest.mark.parametrize("outage", ["lock", "moved"])
def test_outage_uses_cache_and_spool_then_replays(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop, outage: str
) -> None:
    """During the outage: history from the cache, turns in the spool; afterwards all in the DB."""

    async def scenario() -> DurableSQLTrackerStore:
        store = store_for(db, domain)
        tracker = new_tracker("c4", domain)
        turn(tracker, "before")
        await store.save(tracker)
        away = db.with_suffix(".away")
        lock = Lock(db)
        if outage == "lock":
            lock.__enter__()
        else:
            os.rename(db, away)
        try:
            during = await store.retrieve("c4")
            assert during is not None and during.latest_message.text == "before"
            turn(during, "during 1")
            await store.save(during)
            again = await store.retrieve("c4")
            assert again is not None and again.latest_message.text == "during 1"
            turn(again, "during 2")
            await store.save(again)
            assert len(list(store.spool.directory.glob("*.jsonl"))) == 1
            assert not (outage == "moved" and db.exists()), "a new empty database was created"
        finally:
            if outage == "lock":
                lock.__exit__()
            else:
                os.rename(away, db)
        await drain(store)
        return store

    store = loop.run_until_complete(scenario())
    assert user_texts(db, "c4") == ["before", "during 1", "during 2"]
    assert store.stats["spooled_turns"] == 2 and store.stats["replayed_rows"] == 8
    assert not list(store.spool.directory.glob("*.jsonl"))


def test_spool_survives_a_crash_and_is_replayed_at_start(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Turns spooled by a process that died are in the database once a new one starts."""

    async def crashed_during_outage() -> None:
        store = store_for(db, domain)
        tracker = new_tracker("c5", domain)
        turn(tracker, "before")
        await store.save(tracker)
        with Lock(db):
            tracker = await store.retrieve("c5")
            assert tracker is not None
            turn(tracker, "spooled, then the process died")
            await store.save(tracker)
            store._background.cancel()  # type: ignore[union-attr]  # no replay: it "died"

    loop.run_until_complete(crashed_during_outage())
    assert user_texts(db, "c5") == ["before"]
    restarted = store_for(db, domain)
    assert user_texts(db, "c5") == ["before", "spooled, then the process died"]
    assert restarted.stats["replayed_rows"] == 4


def test_unknown_conversation_during_outage_is_refused_not_emptied(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Neither in the database (unreadable) nor cached: no empty tracker is passed off."""

    async def scenario() -> None:
        writer = store_for(db, domain)
        tracker = new_tracker("c6", domain)
        turn(tracker, "known only to the database")
        await writer.save(tracker)
        fresh = store_for(db, domain)  # a restarted server: empty cache
        with Lock(db):
            assert await fresh.can_serve("c6") is False
            with pytest.raises(ConversationUnavailable):
                await fresh.retrieve("c6")
            assert fresh.pop_notice("c6") == "context_lost"
        await asyncio.sleep(0.6)  # the back-off after the failure
        assert await fresh.can_serve("c6") is True

    loop.run_until_complete(scenario())


def test_torn_spool_line_is_dropped_and_appends_continue(tmp_path: Path) -> None:
    """A crash mid-append leaves a partial line: it is cut off, later rows are intact."""
    spool = Spool(tmp_path / "spool")
    row = EventRow("user:1.0:0", "user", 1.0, "greet", None, '{"event": "user"}')
    spool.append("c7", [row])
    path = spool.path_for("c7")
    with path.open("ab") as f:
        f.write(b'{"sender_id": "c7", "key": "user:2.0:0", "ty')
    reopened = Spool(tmp_path / "spool")
    second = EventRow("user:3.0:0", "user", 3.0, "greet", None, '{"event": "user"}')
    reopened.append("c7", [second])
    assert [r.key for r in reopened.read("c7")] == ["user:1.0:0", "user:3.0:0"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_event_keys_tell_identical_stamps_apart() -> None:
    """Same type and timestamp twice: distinct keys, stable across calls."""
    pairs = [("slot", 1.5), ("slot", 1.5), ("user", 1.5), ("slot", 2.0)]
    assert event_keys(pairs) == ["slot:1.5:0", "slot:1.5:1", "user:1.5:0", "slot:2.0:0"]


def test_cache_is_bounded_by_count_and_bytes() -> None:
    """Least recently used conversations are evicted first."""
    cache = TrackerCache(max_conversations=3, max_bytes=10_000)
    row = EventRow("k", "user", 1.0, None, None, "x" * 1000)
    for sender in "abcd":
        cache.put(sender, [row])
    assert "a" not in cache and len(cache) == 3
    cache.get("b")
    cache.put("e", [row] * 8)
    assert "b" in cache and "c" not in cache
    assert cache.bytes <= 10_000


def test_no_message_text_in_logs_at_any_level(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    """Outages and failed writes are logged by kind only: no text, even at DEBUG."""
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        store = store_for(db, domain)
        tracker = new_tracker("c8", domain)
        turn(tracker, CANARY, reply=f"Thanks {CANARY}")
        await store.save(tracker)
        with Lock(db):
            tracker = await store.retrieve("c8")
            assert tracker is not None
            turn(tracker, CANARY + " again")
            await store.save(tracker)
            fresh = store_for(db, domain)
            with pytest.raises(ConversationUnavailable):
                await fresh.retrieve("c8")
        await drain(store)

    loop.run_until_complete(scenario())
    assert any("tracker database unavailable" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.exc_info or "")
    assert user_texts(db, "c8") == [CANARY, CANARY + " again"]


class Statements:
    """The SQL statements a store sends to its database (text only, no parameters)."""

    def __init__(self, store: DurableSQLTrackerStore) -> None:
        self.seen: list[str] = []
        sa_event.listen(store.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.seen.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


def test_a_turn_reads_and_writes_only_what_is_new(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """With the conversation cached and unchanged in the database, a turn neither reads its
    stored rows back nor the stored keys: it counts, then inserts the new events only."""

    async def scenario() -> None:
        store = store_for(db, domain)
        tracker = new_tracker("c20", domain)
        for i in range(30):
            turn(tracker, f"earlier {i}")
        await store.save(tracker)
        await store.retrieve("c20")  # read once by this process (as at a turn's start)
        statements = Statements(store)
        for i in range(3):
            tracker = await store.retrieve("c20")
            assert tracker is not None and tracker.latest_message.text == (
                f"now {i - 1}" if i else "earlier 29"
            )
            reads = statements.take()
            assert not any("events.data" in s for s in reads), reads  # served from the cache
            turn(tracker, f"now {i}")
            await store.save(tracker)
            writes = statements.take()
            assert not any("events.event_key" in s and "SELECT" in s for s in writes), writes
            assert sum(s.startswith("INSERT INTO events") for s in writes) == 1

    loop.run_until_complete(scenario())
    assert user_texts(db, "c20")[-4:] == ["earlier 29", "now 0", "now 1", "now 2"]
    assert len(rows(db, "c20")) == 3 + 33 * 4


def test_two_processes_taking_turns_see_each_others_events(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Two stores on one database (two Rasa processes) alternate turns of one conversation:
    each reads what the other wrote, nothing is lost or stored twice, order is kept."""

    async def scenario() -> None:
        first, second = store_for(db, domain), store_for(db, domain)
        await first.save(new_tracker("c21", domain))
        for i in range(6):
            store = (first, second)[i % 2]
            tracker = await store.retrieve("c21")
            assert tracker is not None
            if i:
                assert tracker.latest_message.text == f"turn {i - 1}"
            turn(tracker, f"turn {i}")
            await store.save(tracker)
        # a store whose cached copy is stale must not write over the other's turn either
        stale = await first.retrieve("c21")
        newer = await second.retrieve("c21")
        assert stale is not None and newer is not None
        turn(newer, "from the second")
        await second.save(newer)
        turn(stale, "from the first, on an old copy")
        await first.save(stale)

    loop.run_until_complete(scenario())
    texts = user_texts(db, "c21")
    assert texts == [f"turn {i}" for i in range(6)] + [
        "from the second",
        "from the first, on an old copy",
    ]
    keys = [
        r[0]
        for r in sqlite3.connect(db)
        .execute("SELECT event_key FROM events WHERE sender_id = 'c21'")
        .fetchall()
    ]
    assert len(keys) == len(set(keys))


def test_rows_deleted_behind_the_cache_are_not_served(
    db: Path, domain: Domain, loop: asyncio.AbstractEventLoop
) -> None:
    """Rows removed by another program (not through the purge) change the count: the next
    read goes to the database instead of the cached copy."""

    async def scenario() -> DialogueStateTracker | None:
        store = store_for(db, domain)
        tracker = new_tracker("c22", domain)
        turn(tracker, "kept")
        turn(tracker, "removed behind the store's back")
        await store.save(tracker)
        con = sqlite3.connect(db)
        con.execute(
            "DELETE FROM events WHERE sender_id = 'c22' AND id > "
            "(SELECT min(id) + 6 FROM events WHERE sender_id = 'c22')"
        )
        con.commit()
        con.close()
        return await store.retrieve("c22")

    tracker = loop.run_until_complete(scenario())
    assert tracker is not None and tracker.latest_message.text == "kept"
