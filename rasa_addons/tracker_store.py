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

Importing this module also installs ``rasa_addons.action_budget`` (the custom action time
budget and its fallback reply) and ``rasa_addons.speedups`` (Rasa's per-call schema check
and per-event class search done once), because Rasa imports it at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import (
    SQLTrackerStore,
    TrackerStore,
    create_engine_kwargs,
    validate_port,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event as sa_event
from sqlalchemy.pool import NullPool, StaticPool

from rasa_addons import action_budget, speedups
from rasa_addons.session_roll import roll_if_long, roll_limit
from rasa_addons.spool import EventRow, Spool

action_budget.install()
speedups.install()

logger = logging.getLogger(__name__)

T = TypeVar("T")

SESSION_STARTED = SessionStarted.type_name
KEY_INDEX = "ix_events_sender_event_key"
# pg_advisory_xact_lock(PURGE_LOCK_SPACE, hashtext(sender_id)): taken by writes here and by
# the staff app's purge (admissions/db/transcripts.py), so the two never interleave.
PURGE_LOCK_SPACE = 15013
SQLITE_SIDE_FILES = ("", "-journal", "-wal", "-shm")

_metadata = sa.MetaData()
events_table = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
    sa.Column("event_key", sa.String(80)),
)
# Conversations the staff app purged: never written again (also in admissions/db/tracker.py).
purged_table = sa.Table(
    "purged_senders",
    _metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("purged_at", sa.Float, nullable=False),
)

# the store(s) created in this process, for the REST channel's pre-check
_stores: weakref.WeakSet[DurableSQLTrackerStore] = weakref.WeakSet()


class ConversationUnavailable(RasaException):
    """The database cannot be read and the conversation is not cached."""


class ConversationPurged(Exception):
    """The conversation was purged by the staff app: nothing of it may be written again."""


def owner_only(path: str | os.PathLike[str]) -> int | None:
    """Make an existing file readable by its owner only; returns the old mode if it was not."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return None
    if not mode & 0o077:
        return None
    os.chmod(path, mode & 0o700)
    return mode


def secure_sqlite_file(path: str) -> None:
    """Create ``path`` as an empty 0600 file if missing; make an existing one (and its journal
    files) owner-only, warning about each file that was readable by other local users."""
    if not os.path.exists(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in SQLITE_SIDE_FILES:
        old = owner_only(path + suffix)
        if old is not None:
            logger.warning(
                "tracker database file %s was readable by other local users (mode %04o); "
                "changed to %04o",
                os.path.basename(path + suffix),
                old,
                old & 0o700,
            )


def event_keys(pairs: Iterable[tuple[str, float | None]]) -> list[str]:
    """Idempotency keys for a conversation's events, given (type name, timestamp) in order."""
    seen: dict[tuple[str, str], int] = {}
    keys = []
    for type_name, timestamp in pairs:
        stamp = repr(float(timestamp)) if timestamp is not None else "none"
        n = seen.get((type_name, stamp), 0)
        seen[(type_name, stamp)] = n + 1
        keys.append(f"{type_name}:{stamp}:{n}")
    return keys


def row_for(event: Event, key: str) -> EventRow:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` would write for ``event``."""
    data = event.as_dict()
    parse_data = data.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get(INTENT_NAME_KEY) if parse_data else None
    return EventRow(
        key=key,
        type_name=event.type_name,
        timestamp=data.get("timestamp"),
        intent_name=intent,
        action_name=data.get("name"),
        data=json.dumps(data),
    )


def latest_session(rows: list[EventRow]) -> list[EventRow]:
    """The rows from the last ``session_started`` on (all rows when there is none)."""
    for index in range(len(rows) - 1, -1, -1):
        if rows[index].type_name == SESSION_STARTED:
            return rows[index:]
    return rows


# (number of rows, highest id) of one conversation in the events table
Mark = tuple[int, int | None]


class TrackerCache:
    """Recently used conversations (last session, as rows), bounded by count and bytes.

    An entry may carry a ``Mark``: the conversation's (row count, highest id) in the database
    when the cached rows were exactly its last session there. While the database still shows
    that mark, the cached rows are what a read would return, and the new events of a turn are
    all a write has to insert.
    """

    def __init__(self, max_conversations: int, max_bytes: int) -> None:
        """An empty cache with the given bounds."""
        self.max_conversations = max(1, max_conversations)
        self.max_bytes = max(1, max_bytes)
        self._items: OrderedDict[str, tuple[list[EventRow], int, Mark | None]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        """Number of cached conversations."""
        return len(self._items)

    def __contains__(self, sender_id: object) -> bool:
        """Whether a conversation is cached."""
        return sender_id in self._items

    def get(self, sender_id: str) -> list[EventRow] | None:
        """The cached rows, or None (marks the conversation recently used)."""
        item = self._items.get(sender_id)
        if item is None:
            return None
        self._items.move_to_end(sender_id)
        return item[0]

    def mark(self, sender_id: str) -> Mark | None:
        """The database mark the cached rows match, or None (unknown, or not in the cache)."""
        item = self._items.get(sender_id)
        return None if item is None else item[2]

    def drop(self, sender_id: str) -> None:
        """Forget a conversation."""
        old = self._items.pop(sender_id, None)
        if old is not None:
            self.bytes -= old[1]

    def put(self, sender_id: str, rows: list[EventRow], mark: Mark | None = None) -> None:
        """Cache rows for a conversation (and the database mark they match, if known),
        evicting the least recently used beyond the bounds."""
        old = self._items.pop(sender_id, None)
        if old is not None:
            self.bytes -= old[1]
        size = sum(len(r.data) + 64 for r in rows) + 64
        self._items[sender_id] = (rows, size, mark)
        self.bytes += size
        while len(self._items) > 1 and (
            len(self._items) > self.max_conversations or self.bytes > self.max_bytes
        ):
            _, (_, evicted, _) = self._items.popitem(last=False)
            self.bytes -= evicted


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


class DurableSQLTrackerStore(SQLTrackerStore):
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
        self.db_timeout = float(db_timeout or _env_float("TRACKER_DB_TIMEOUT", 1.5))
        if login_db:
            logger.warning("tracker store: 'login_db' is not supported; create the database first")
        port = validate_port(port)
        url = self.get_db_url(dialect, host, port, db, username, password, None, query)
        self._sqlite_path: str | None = None
        self.engine = self._create_engine(url)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self.spool = Spool(spool_dir or default_spool_dir(self._sqlite_path))
        self.cache = TrackerCache(
            int(_env_float("TRACKER_CACHE_CONVERSATIONS", 2000)),
            int(_env_float("TRACKER_CACHE_MB", 64) * 1024 * 1024),
        )
        self.roll_limit = roll_limit()
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="tracker-db")
        self._io_thread = ThreadPoolExecutor(1, thread_name_prefix="tracker-spool")
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._notices: OrderedDict[str, str] = OrderedDict()
        self.purged: OrderedDict[str, None] = OrderedDict()  # tombstones seen by this process
        self.tombstone_interval = 2.0
        self._tombstones_read_at = 0.0  # monotonic time of the last read of the table
        self._tombstones_since = 0.0  # newest purged_at seen
        self._down_until = 0.0
        self._backoff = 0.0
        self._schema_ready = False
        self._background: asyncio.Task | None = None
        self.replay_interval = 0.5
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
            self._ensure_schema()
            replayed = self._replay_all_now()
            if replayed:
                logger.info("tracker store: replayed %d spooled events at start-up", replayed)
        except Exception as exc:  # noqa: BLE001 - start degraded rather than not at all
            self._db_failed(exc, "start-up")
        _stores.add(self)
        with contextlib.suppress(RuntimeError):
            self._start_background()

    # ------------------------------------------------------------------ engine and schema
    def _create_engine(self, url: Any) -> sa.engine.Engine:
        url = sa.engine.make_url(url)
        if url.get_backend_name() != "sqlite":
            kwargs = create_engine_kwargs(url)
            connect_args = dict(kwargs.pop("connect_args", {}))
            if url.get_backend_name() == "postgresql":
                timeout_ms = int(self.db_timeout * 1000) + 1000
                connect_args.setdefault("connect_timeout", max(1, int(self.db_timeout) + 1))
                options = connect_args.get("options", "")
                connect_args["options"] = f"{options} -c statement_timeout={timeout_ms}".strip()
            return sa.create_engine(
                url,
                connect_args=connect_args,
                pool_pre_ping=True,
                hide_parameters=True,
                future=True,
                **kwargs,
            )
        path = url.database
        if not path or path == ":memory:":
            engine = sa.create_engine(
                "sqlite://",
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
                hide_parameters=True,
                future=True,
            )
        else:
            self._sqlite_path = os.path.abspath(path)
            # transcripts are health records: 0600, whatever the umask (issue 15 #9)
            secure_sqlite_file(self._sqlite_path)
            # mode=rw: a file that was moved away is an outage, not a new empty database
            uri = f"file:{quote(self._sqlite_path)}?mode=rw"
            timeout = self.db_timeout

            def connect() -> sqlite3.Connection:
                return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)

            engine = sa.create_engine(
                "sqlite://", creator=connect, poolclass=NullPool, hide_parameters=True, future=True
            )

        # pysqlite opens transactions lazily (reads outside them); issue BEGIN ourselves, and
        # BEGIN IMMEDIATE for writes so a locked database fails at once, not at COMMIT.
        @sa_event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves

        @sa_event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    def _ensure_schema(self) -> None:
        """Rasa's ``events`` table, plus ``event_key`` and its unique index."""
        if self._schema_ready:
            return
        SQLTrackerStore.Base.metadata.create_all(self.engine)
        purged_table.create(self.engine, checkfirst=True)
        columns = {c["name"] for c in sa.inspect(self.engine).get_columns("events")}
        with self.engine.begin() as conn:
            if "event_key" not in columns:
                conn.exec_driver_sql("ALTER TABLE events ADD COLUMN event_key VARCHAR(80)")
            sa.Index(
                KEY_INDEX, events_table.c.sender_id, events_table.c.event_key, unique=True
            ).create(conn, checkfirst=True)
        self._schema_ready = True

    # ------------------------------------------------------------------ database (worker thread)
    @staticmethod
    def _mark_of(conn: sa.engine.Connection, sender_id: str) -> Mark:
        """The conversation's (row count, highest id) in the events table."""
        t = events_table
        count, top = conn.execute(
            sa.select(sa.func.count(t.c.id), sa.func.max(t.c.id)).where(t.c.sender_id == sender_id)
        ).one()
        return int(count), top

    def _select_rows(
        self, sender_id: str, full: bool, probe_keys: set[str], known: Mark | None = None
    ) -> tuple[list[EventRow] | None, set[str], Mark | None]:
        """The conversation's rows (last session unless ``full``), which probe keys exist,
        and the mark the rows match (None: unknown, e.g. rows without keys, or ``full``).

        With ``known`` (the cached rows' mark) and a database that still shows it, no rows are
        read: ``(None, set(), known)``.
        """
        self._ensure_schema()
        t = events_table
        query = sa.select(
            t.c.id,
            t.c.event_key,
            t.c.type_name,
            t.c.timestamp,
            t.c.intent_name,
            t.c.action_name,
            t.c.data,
        ).where(t.c.sender_id == sender_id)
        if not full:
            start = (
                sa.select(sa.func.max(t.c.timestamp))
                .where(t.c.sender_id == sender_id, t.c.type_name == SESSION_STARTED)
                .scalar_subquery()
            )
            query = query.where(sa.or_(start.is_(None), t.c.timestamp >= start))
        with self.engine.connect() as conn:
            purged = conn.execute(
                sa.select(purged_table.c.sender_id).where(purged_table.c.sender_id == sender_id)
            ).first()
            if purged is not None:
                conn.rollback()
                raise ConversationPurged(sender_id)
            mark = None if full else self._mark_of(conn, sender_id)
            if known is not None and mark == known:
                conn.rollback()
                return None, set(), known
            result = conn.execute(query.order_by(t.c.id)).all()
            present: set[str] = set()
            if probe_keys:
                present = set(
                    conn.execute(
                        sa.select(t.c.event_key).where(
                            t.c.sender_id == sender_id, t.c.event_key.in_(sorted(probe_keys))
                        )
                    ).scalars()
                )
            conn.rollback()
        computed = event_keys((r.type_name, r.timestamp) for r in result)
        rows = [
            EventRow(
                key=r.event_key or key,
                type_name=r.type_name,
                timestamp=r.timestamp,
                intent_name=r.intent_name,
                action_name=r.action_name,
                data=r.data,
            )
            for r, key in zip(result, computed, strict=True)
        ]
        present.update(r.key for r in rows if r.key in probe_keys)
        if probe_keys or any(r.event_key is None for r in result):
            mark = None  # spooled rows to merge, or rows from before the key column
        return rows, present, mark

    def _write_rows(self, sender_id: str, rows: list[EventRow]) -> int:
        """Insert the rows whose keys are not stored yet, in order, in one transaction."""
        return self._write_rows_marked(sender_id, rows)[0]

    def _write_rows_marked(
        self,
        sender_id: str,
        rows: list[EventRow],
        mark: Mark | None = None,
        cached: frozenset[str] = frozenset(),
    ) -> tuple[int, Mark | None]:
        """Insert the rows whose keys are not stored yet, in order, in one transaction.

        With ``mark`` (the database mark of the cached rows, whose keys are ``cached``) and a
        database that still shows it inside the write's transaction, the stored keys are
        known without reading them: only rows not in ``cached`` are inserted (O(new events)),
        and the new mark is returned. Otherwise every stored key is read, as without a mark,
        and the returned mark is None.
        """
        self._ensure_schema()
        t = events_table
        for attempt in (1, 2):
            try:
                with self.engine.connect() as conn:
                    conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        self._check_not_purged(conn, sender_id)
                        if mark is not None and self._mark_of(conn, sender_id) == mark:
                            fresh = [r for r in rows if r.key not in cached]
                            if fresh:
                                conn.execute(
                                    t.insert(), [self._values(sender_id, r) for r in fresh]
                                )
                            return len(fresh), self._mark_of(conn, sender_id)
                        existing = conn.execute(
                            sa.select(t.c.id, t.c.event_key, t.c.type_name, t.c.timestamp)
                            .where(t.c.sender_id == sender_id)
                            .order_by(t.c.id)
                        ).all()
                        stored = {r.event_key for r in existing if r.event_key is not None}
                        if len(stored) < len(existing):  # rows from before the key column
                            computed = event_keys((r.type_name, r.timestamp) for r in existing)
                            for r, key in zip(existing, computed, strict=True):
                                if r.event_key is None:
                                    key = key if key not in stored else f"legacy:{r.id}"
                                    conn.execute(
                                        sa.update(t).where(t.c.id == r.id).values(event_key=key)
                                    )
                                    stored.add(key)
                        missing = []
                        for row in rows:
                            if row.key in stored:
                                continue
                            stored.add(row.key)
                            missing.append(self._values(sender_id, row))
                        if missing:
                            conn.execute(t.insert(), missing)
                return len(missing), None
            except sa.exc.IntegrityError:
                if attempt == 2:
                    raise
                mark = None  # the second attempt reads every stored key
        return 0, None  # pragma: no cover

    @staticmethod
    def _values(sender_id: str, row: EventRow) -> dict[str, Any]:
        return {
            "sender_id": sender_id,
            "type_name": row.type_name,
            "timestamp": row.timestamp,
            "intent_name": row.intent_name,
            "action_name": row.action_name,
            "data": row.data,
            "event_key": row.key,
        }

    def _check_not_purged(self, conn: sa.engine.Connection, sender_id: str) -> None:
        """Raise ``ConversationPurged`` if the purge got there first (inside the write's
        transaction: SQLite's BEGIN IMMEDIATE, or on PostgreSQL the purge's advisory lock)."""
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:sender))"),
                {"space": PURGE_LOCK_SPACE, "sender": sender_id},
            )
        found = conn.execute(
            sa.select(purged_table.c.sender_id).where(purged_table.c.sender_id == sender_id)
        ).first()
        if found is not None:
            raise ConversationPurged(sender_id)

    def _read_tombstones(self, since: float) -> list[tuple[str, float]]:
        """Tombstones recorded since ``since`` (a few seconds of overlap are harmless)."""
        self._ensure_schema()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(purged_table.c.sender_id, purged_table.c.purged_at).where(
                    purged_table.c.purged_at >= since - 60.0
                )
            ).all()
            conn.rollback()
        return [(r.sender_id, r.purged_at) for r in rows]

    def _mark_purged(self, sender_id: str) -> None:
        """Remember a purged id and drop its cached session (in memory only)."""
        self.purged[sender_id] = None
        self.purged.move_to_end(sender_id)
        while len(self.purged) > 100_000:
            self.purged.popitem(last=False)
        self.cache.drop(sender_id)
        self._notices.pop(sender_id, None)

    def _forget_now(self, sender_id: str) -> None:
        """Drop everything of a purged conversation, spool included (blocking)."""
        self._mark_purged(sender_id)
        if self.spool.has(sender_id):
            self.spool.clear(sender_id)

    async def _forget(self, sender_id: str) -> None:
        """Drop everything of a purged conversation, spool included."""
        self._mark_purged(sender_id)
        if self.spool.has(sender_id):
            await self._on_io(self.spool.clear, sender_id)

    async def refresh_tombstones(self, force: bool = False) -> int:
        """Read tombstones recorded since the last read; forget those conversations here."""
        now = time.monotonic()
        if not force and now - self._tombstones_read_at < self.tombstone_interval:
            return 0
        self._tombstones_read_at = now
        rows = await self._on_db(self._read_tombstones, self._tombstones_since)
        fresh = 0
        for sender_id, purged_at in rows:
            self._tombstones_since = max(self._tombstones_since, purged_at)
            if sender_id not in self.purged:
                fresh += 1
                await self._forget(sender_id)
        return fresh

    def _probe(self) -> None:
        self._ensure_schema()
        with self.engine.connect() as conn:
            conn.execute(sa.select(events_table.c.id).limit(1)).all()
            conn.rollback()

    def _replay_all_now(self) -> int:
        """Replay every spooled conversation synchronously (start-up, before serving)."""
        total = 0
        for sender_id in self.spool.senders():
            rows = self.spool.read(sender_id)
            try:
                total += self._write_rows(sender_id, rows)
            except ConversationPurged:
                self._forget_now(sender_id)
                self.stats["purged_skipped"] += 1
                continue
            self.spool.clear(sender_id)
        self.stats["replayed_rows"] += total
        return total

    # ------------------------------------------------------------------ plumbing
    async def _on_db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._db_thread, fn, *args)
        return await asyncio.wait_for(future, self.db_timeout * 2 + 5)

    async def _on_io(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io_thread, fn, *args)

    def _lock_for(self, sender_id: str) -> asyncio.Lock:
        lock = self._locks.get(sender_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[sender_id] = lock
        return lock

    def db_available(self) -> bool:
        """False during the back-off after a database failure."""
        return time.monotonic() >= self._down_until

    def _db_failed(self, exc: BaseException, what: str) -> None:
        self.stats["db_failures"] += 1
        first = self._backoff == 0.0
        self._backoff = min(5.0, self._backoff * 2 if self._backoff else 0.5)
        self._down_until = time.monotonic() + self._backoff
        log = logger.warning if first else logger.debug
        log(
            "tracker database unavailable (%s during %s); using the cache and the spool",
            type(exc).__name__,
            what,
        )

    def _db_ok(self) -> None:
        if self._backoff:
            logger.info("tracker database reachable again")
        self._backoff = 0.0
        self._down_until = 0.0

    def _note(self, sender_id: str, notice: str) -> None:
        self._notices[sender_id] = notice
        while len(self._notices) > 10_000:
            self._notices.popitem(last=False)

    def pop_notice(self, sender_id: str) -> str | None:
        """``context_lost`` or ``not_recorded`` if the last turn had that problem (once)."""
        return self._notices.pop(sender_id, None)

    def _start_background(self) -> None:
        if self._background is None or self._background.done():
            self._background = asyncio.get_running_loop().create_task(self._replay_forever())

    async def _replay_forever(self) -> None:
        while True:
            await asyncio.sleep(self.replay_interval)
            try:
                await self.replay_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the replayer alive
                logger.warning("tracker spool replay failed (%s)", type(exc).__name__)

    async def replay_pending(self) -> int:
        """Write spooled rows to the database if it is reachable; returns rows written."""
        if not self.db_available():
            return 0
        try:
            await self.refresh_tombstones()
        except Exception as exc:  # noqa: BLE001
            self._db_failed(exc, "tombstones")
            return 0
        senders = self.spool.senders()
        if not senders:
            if self._backoff:
                try:
                    await self._on_db(self._probe)
                except Exception as exc:  # noqa: BLE001
                    self._db_failed(exc, "probe")
                    return 0
                self._db_ok()
            return 0
        written = 0
        for sender_id in senders:
            async with self._lock_for(sender_id):
                rows = await self._on_io(self.spool.read, sender_id)
                try:
                    written += await self._on_db(self._write_rows, sender_id, rows)
                except ConversationPurged:
                    await self._forget(sender_id)
                    self.stats["purged_skipped"] += 1
                    continue
                except Exception as exc:  # noqa: BLE001
                    self._db_failed(exc, "replay")
                    break
                await self._on_io(self.spool.clear, sender_id)
                self._db_ok()
        if written:
            self.stats["replayed_rows"] += written
            logger.info("tracker store: replayed %d spooled events into the database", written)
        return written

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
                self._select_rows, sender_id, full, {r.key for r in pending}, known
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

    def _tracker_from_rows(
        self, sender_id: str, rows: list[EventRow]
    ) -> DialogueStateTracker | None:
        if not self.domain or not rows:
            return None
        events = [json.loads(r.data) for r in rows]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's last session: database (+ spool), else the cache, else raise."""
        return self._tracker_from_rows(sender_id, await self._rows_or_cache(sender_id, False))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """All sessions: database (+ spool), else the cached last session, else raise."""
        rows = await self._rows_or_cache(conversation_id, True)
        return self._tracker_from_rows(conversation_id, rows)

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

        def select() -> list[str]:
            with self.engine.connect() as conn:
                ids = list(conn.execute(sa.select(events_table.c.sender_id).distinct()).scalars())
                conn.rollback()
                return ids

        ids = await self._on_db(select)
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

        ``mark`` and ``cached``: see ``_write_rows_marked``; ignored while rows are spooled.
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
                self._write_rows_marked, sender_id, pending + rows, mark, cached
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
