"""``DurableSQLTrackerStore``: Rasa's SQL tracker store without its silent ways of losing turns.

Registered in ``endpoints.yml``::

    tracker_store:
      type: rasa_addons.tracker_store.DurableSQLTrackerStore
      dialect: "sqlite"
      db: ${TRACKER_DB_PATH}

Rasa 3.6.21 wraps every tracker store in ``FailSafeTrackerStore``, which on a database error
logs and continues in memory (``retrieve`` returns ``None``: the visitor is answered from a
fresh, empty tracker, and the turn never reaches the database). ``SQLTrackerStore.save``
writes the tracker's events past the number of rows already stored, so one failed read
makes later turns vanish or repeat. This store closes both:

* **Idempotent writes.** Every event gets a key, ``<type>:<timestamp>:<n>`` (``n`` counts
  events of the same type and timestamp before it in the conversation), stored in an extra
  ``events.event_key`` column under a unique index on ``(sender_id, event_key)``. ``save``
  inserts every event of the tracker whose key is not stored yet, in order, in one
  transaction: no gaps, whatever the tracker's history, and the index makes a duplicate
  impossible. Rows written before the column existed get their keys on first use.
* **A turn costs what is new, not the whole conversation.** A cached conversation carries a
  mark, its (row count, highest id) in the ``events`` table when the cached rows were exactly
  its last session there. A read first counts (one indexed query); while the mark still holds,
  the cached rows are served instead of reading and decoding every row. A write checks the
  mark inside its own transaction; while it holds, the stored keys are known and only the
  turn's new events are inserted, without reading every stored key back. Any change made
  elsewhere (another Rasa process, the spool, a purge, a deleted row) changes the count or the
  highest id, and that read or write takes the full path described above.
* **Never an empty tracker after a read error.** Every conversation loaded or saved is kept
  in a bounded in-memory cache (last session only; ``TRACKER_CACHE_CONVERSATIONS``,
  default 2,000, and ``TRACKER_CACHE_MB``, default 64). When the database cannot be read
  the tracker comes from there. When it is not cached either, ``retrieve`` fails loudly
  (Rasa logs it) and the visitor is told (see ``can_serve``, used by
  ``rasa_addons.channels.GuardedRestInput`` *before* processing, and ``pop_notice``).
* **Durable spool.** When the database cannot be written, the turn's new events are
  appended to ``<spool>/<hash>.jsonl`` and fsync'd before Rasa answers (``spool.py``).
  A background task replays the spool into the database once it is back (and at start-up);
  replay goes through the same key check, so replaying twice is harmless.
* **Bounded waits.** Database calls run on one worker thread with a busy timeout
  (``TRACKER_DB_TIMEOUT``, default 1.5 s), never on Rasa's event loop. After a failure the
  database is skipped for a short back-off (0.5 s doubling to 5 s) while the background task
  probes it, so an outage costs a turn at most one timeout.
* **No text in logs.** The engine hides SQL parameters and only exception class names are
  logged.
* **A purged conversation stays purged.** The staff app's purge (retention, forget me) deletes
  a conversation's rows and records its id in ``purged_senders`` in the same transaction.
  Writes check that table inside their own transaction (SQLite: ``BEGIN IMMEDIATE``;
  PostgreSQL: the same per-conversation advisory lock the purge takes), so a turn that was
  in progress when the purge ran, or a spool replayed after a back-off, cannot write the
  conversation back. A purged id is also remembered in memory (``purged``): its cached
  session and spool are dropped, it is never served from the cache, and later saves are
  skipped without touching the database. The background task reads new tombstones every
  ``tombstone_interval`` seconds, so a purge made while this process was in back-off drops
  the cached copy too.
* **Owner-only files.** A SQLite file this store creates is mode 0600; an existing one (and
  its journal) readable by group or others is made 0600 at start, with a warning.

The ``events`` table keeps Rasa's columns and meaning (the staff app reads it); ``event_key``
and its index are the only additions. The spool directory is ``spool_dir`` in
``endpoints.yml``, else ``$TRACKER_SPOOL_DIR``, else ``spool/`` next to a SQLite file, else
``$VAR_DIR/spool``.

The store is split by what each part holds; this module is the ``TrackerStore`` API (read, write,
the pre-check of the REST channel) and the wiring:

* ``rasa_addons/tracker_rows.py``: the tables, events as rows and back, the row cache;
* ``rasa_addons/tracker_db.py``: the engine and every query (blocking, on the worker thread);
* ``rasa_addons/tracker_health.py``: worker threads, back-off, spool replay and tombstones;
* ``rasa_addons/spool.py``: the durable spool files.

Importing this module also installs ``rasa_addons.action_budget`` (the custom action time
budget and its fallback reply) and ``rasa_addons.speedups`` (Rasa's per-call schema check
and per-event class search done once), because Rasa imports it at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, validate_port
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from rasa_addons import action_budget, speedups
from rasa_addons.session_roll import roll_if_long, roll_limit
from rasa_addons.spool import EventRow, Spool
from rasa_addons.tracker_db import ConversationPurged, EventsDatabase, create_engine
from rasa_addons.tracker_health import StoreHealth
from rasa_addons.tracker_rows import (
    Mark,
    TrackerCache,
    event_keys,
    latest_session,
    row_for,
    tracker_from_rows,
)

action_budget.install()
speedups.install()

logger = logging.getLogger(__name__)

# the store(s) created in this process, for the REST channel's pre-check
_stores: weakref.WeakSet[DurableSQLTrackerStore] = weakref.WeakSet()


class ConversationUnavailable(RasaException):
    """The database cannot be read and the conversation is not cached."""


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def default_spool_dir(db_path: str | None) -> Path:
    """``$TRACKER_SPOOL_DIR``, else ``spool/`` beside a SQLite file, else ``$VAR_DIR/spool``."""
    if os.environ.get("TRACKER_SPOOL_DIR"):
        return Path(os.environ["TRACKER_SPOOL_DIR"])
    if db_path and db_path != ":memory:":
        return Path(db_path).resolve().parent / "spool"
    return Path(os.environ.get("VAR_DIR") or "var") / "spool"


class DurableSQLTrackerStore(StoreHealth, SQLTrackerStore):
    """SQL tracker store with idempotent writes, a read cache and a durable spool."""

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict | None = None,
        spool_dir: str | None = None,
        db_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        """Connect (without blocking start-up if the database is down) and replay the spool."""
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        self._init_health(float(db_timeout or _env_float("TRACKER_DB_TIMEOUT", 1.5)))
        if login_db:
            logger.warning("tracker store: 'login_db' is not supported; create the database first")
        port = validate_port(port)
        url = self.get_db_url(dialect, host, port, db, username, password, None, query)
        self.engine, self._sqlite_path = create_engine(url, self.db_timeout)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self.db = EventsDatabase(self.engine)
        self.spool = Spool(spool_dir or default_spool_dir(self._sqlite_path))
        self.cache = TrackerCache(
            int(_env_float("TRACKER_CACHE_CONVERSATIONS", 2000)),
            int(_env_float("TRACKER_CACHE_MB", 64) * 1024 * 1024),
        )
        self.roll_limit = roll_limit()
        self._notices: OrderedDict[str, str] = OrderedDict()
        self.stats: dict[str, int] = {
            "db_failures": 0,
            "served_from_cache": 0,
            "sessions_rolled": 0,
            "unavailable": 0,
            "spooled_turns": 0,
            "replayed_rows": 0,
            "not_recorded": 0,
            "purged_skipped": 0,
        }
        try:
            self.db.ensure_schema()
            replayed = self._replay_all_now()
            if replayed:
                logger.info("tracker store: replayed %d spooled events at start-up", replayed)
        except Exception as exc:  # noqa: BLE001 - start degraded rather than not at all
            self._db_failed(exc, "start-up")
        _stores.add(self)
        with contextlib.suppress(RuntimeError):
            self._start_background()

    # ------------------------------------------------------------------ notices
    def _note(self, sender_id: str, notice: str) -> None:
        self._notices[sender_id] = notice
        while len(self._notices) > 10_000:
            self._notices.popitem(last=False)

    def pop_notice(self, sender_id: str) -> str | None:
        """``context_lost`` or ``not_recorded`` if the last turn had that problem (once)."""
        return self._notices.pop(sender_id, None)

    # ------------------------------------------------------------------ reading
    async def _load_rows(
        self, sender_id: str, full: bool
    ) -> tuple[list[EventRow] | None, Mark | None]:
        """Database rows merged with spooled ones, and the database mark they match;
        ``(None, None)`` when the database is unavailable.

        A cached last session whose mark the database still shows is returned as it is
        (a cheap count instead of reading and decoding every row of the conversation).
        """
        if not self.db_available():
            return None, None
        pending: list[EventRow] = []
        if self.spool.has(sender_id):
            pending = await self._on_io(self.spool.read, sender_id)
        known = None if full or pending else self.cache.mark(sender_id)
        try:
            rows, present, mark = await self._on_db(
                self.db.select_rows, sender_id, full, {r.key for r in pending}, known
            )
        except ConversationPurged:
            await self._forget(sender_id)
            return [], None
        except Exception as exc:  # noqa: BLE001
            self._db_failed(exc, "read")
            return None, None
        self._db_ok()
        if rows is None:  # unchanged since the cached rows were read or written
            cached = self.cache.get(sender_id)
            if cached is not None:
                return cached, mark
            return await self._load_rows(sender_id, full)  # pragma: no cover - evicted
        merged = rows + [r for r in pending if r.key not in present]
        return (merged, None) if full else (latest_session(merged), mark)

    async def _rows_or_cache(self, sender_id: str, full: bool) -> list[EventRow]:
        self._start_background()
        async with self._lock_for(sender_id):
            if sender_id in self.purged:
                return []  # purged: a new visitor, never the cached copy
            rows, mark = await self._load_rows(sender_id, full)
            if sender_id in self.purged:
                return []
            if rows is not None:
                if not full:
                    self.cache.put(sender_id, rows, mark)
                return rows
            cached = self.cache.get(sender_id)
            if cached is None:
                self.stats["unavailable"] += 1
                self._note(sender_id, "context_lost")
                raise ConversationUnavailable(
                    "the tracker database is unavailable and this conversation is not cached"
                )
            self.stats["served_from_cache"] += 1
            return cached

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's last session: database (+ spool), else the cache, else raise."""
        rows = await self._rows_or_cache(sender_id, False)
        return tracker_from_rows(self.domain, sender_id, rows)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """All sessions: database (+ spool), else the cached last session, else raise."""
        rows = await self._rows_or_cache(conversation_id, True)
        return tracker_from_rows(self.domain, conversation_id, rows)

    async def can_serve(self, sender_id: str) -> bool:
        """Whether a message for this conversation can be answered with its history."""
        if sender_id in self.cache:
            return True
        try:
            await self._rows_or_cache(sender_id, False)
        except ConversationUnavailable:
            self._notices.pop(sender_id, None)
            return False
        return True

    async def keys(self) -> Iterable[str]:
        """Conversation ids in the database and the spool."""
        ids = await self._on_db(self.db.sender_ids)
        return sorted(set(ids) | set(self.spool.senders()))

    # ------------------------------------------------------------------ writing
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the tracker's unstored events to the database, else durably to the spool."""
        if roll_if_long(tracker, self.roll_limit):
            self.stats["sessions_rolled"] += 1
        if self.event_broker:
            try:
                await self.stream_events(tracker)
            except Exception as exc:  # noqa: BLE001 - the broker must not cost the turn
                logger.warning("streaming events to the broker failed (%s)", type(exc).__name__)
        self._start_background()
        sender_id = tracker.sender_id
        events = list(tracker.events)
        keys = event_keys((e.type_name, e.timestamp) for e in events)
        async with self._lock_for(sender_id):
            if sender_id in self.purged:
                self.stats["purged_skipped"] += 1
                return
            cached = self.cache.get(sender_id) or []
            known = {r.key: r for r in cached}
            rows = [known.get(k) or row_for(e, k) for e, k in zip(events, keys, strict=True)]
            written, mark = await self._write_to_db(
                sender_id, rows, self.cache.mark(sender_id), frozenset(known)
            )
            if written:
                self.cache.put(sender_id, latest_session(rows), mark)
                return
            if sender_id in self.purged:
                self.stats["purged_skipped"] += 1
                return
            spooled = self.spool.keys(sender_id)
            new = [r for r in rows if r.key not in known and r.key not in spooled]
            try:
                await self._on_io(self.spool.append, sender_id, new)
            except Exception as exc:  # noqa: BLE001
                self.stats["not_recorded"] += 1
                self._note(sender_id, "not_recorded")
                logger.error(
                    "a turn could not be recorded: database and spool both failed (%s)",
                    type(exc).__name__,
                )
                return
            if new:
                self.stats["spooled_turns"] += 1
            self.cache.put(sender_id, latest_session(rows))

    async def _write_to_db(
        self, sender_id: str, rows: list[EventRow], mark: Mark | None, cached: frozenset[str]
    ) -> tuple[bool, Mark | None]:
        """Whether the rows are in the database now, and the mark they match there (if known).

        ``mark`` and ``cached``: see ``EventsDatabase.write_rows_marked``; ignored while rows
        are spooled.
        """
        if not self.db_available():
            return False, None
        pending: list[EventRow] = []
        if self.spool.has(sender_id):
            pending = await self._on_io(self.spool.read, sender_id)
            mark = None
        if mark is not None and (
            len(latest_session(rows)) != len(rows) or not cached <= {r.key for r in rows}
        ):
            # a new session began, or the tracker lacks cached rows: what the cache will hold
            # is not the stored session plus the new rows, so the full write decides
            mark = None
        try:
            _, new_mark = await self._on_db(
                self.db.write_rows_marked, sender_id, pending + rows, mark, cached
            )
        except ConversationPurged:
            await self._forget(sender_id)
            return False, None
        except Exception as exc:  # noqa: BLE001
            self._db_failed(exc, "write")
            return False, None
        self._db_ok()
        if pending:
            await self._on_io(self.spool.clear, sender_id)
        return True, new_mark


def durable_store(store: Any) -> DurableSQLTrackerStore | None:
    """The ``DurableSQLTrackerStore`` inside Rasa's wrappers (FailSafe, Awaitable), if any."""
    for _ in range(5):
        if isinstance(store, DurableSQLTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
        if store is None:
            break
    return next(iter(_stores), None)
