"""The tracker store's database: its engine, its schema and every query it runs.

Part of ``DurableSQLTrackerStore`` (``rasa_addons/tracker_store.py``, where the design is
described). Everything here blocks: the store runs it on its one database worker thread,
never on Rasa's event loop.

* ``create_engine``: waits are bounded (SQLite busy timeout, PostgreSQL connect and statement
  timeouts), SQL parameters are hidden from logs, and a SQLite file is owner-only (0600).
* ``EventsDatabase``: the schema (Rasa's ``events`` table plus ``event_key`` and its unique
  index, and ``purged_senders``), reading a conversation's rows, and idempotent writes that
  refuse a purged conversation inside their own transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from sqlalchemy import event as sa_event
from sqlalchemy.pool import NullPool, StaticPool

from rasa_addons.spool import EventRow
from rasa_addons.tracker_rows import (
    KEY_INDEX,
    SESSION_STARTED,
    Mark,
    event_keys,
    events_table,
    purged_table,
    row_values,
    rows_from_table,
)

# one logger for the whole tracker store, as before it was split into modules
logger = logging.getLogger("rasa_addons.tracker_store")

# pg_advisory_xact_lock(PURGE_LOCK_SPACE, hashtext(sender_id)): taken by writes here and by
# the staff app's purge (admissions/db/transcripts.py), so the two never interleave.
PURGE_LOCK_SPACE = 15013
SQLITE_SIDE_FILES = ("", "-journal", "-wal", "-shm")


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


def create_engine(url: Any, db_timeout: float) -> tuple[sa.engine.Engine, str | None]:
    """The engine for ``url`` with every wait bounded by about ``db_timeout`` seconds, and the
    absolute path of its SQLite file (None for another database or SQLite in memory)."""
    url = sa.engine.make_url(url)
    if url.get_backend_name() != "sqlite":
        kwargs = create_engine_kwargs(url)
        connect_args = dict(kwargs.pop("connect_args", {}))
        if url.get_backend_name() == "postgresql":
            timeout_ms = int(db_timeout * 1000) + 1000
            connect_args.setdefault("connect_timeout", max(1, int(db_timeout) + 1))
            options = connect_args.get("options", "")
            connect_args["options"] = f"{options} -c statement_timeout={timeout_ms}".strip()
        engine = sa.create_engine(
            url,
            connect_args=connect_args,
            pool_pre_ping=True,
            hide_parameters=True,
            future=True,
            **kwargs,
        )
        return engine, None
    path = url.database
    sqlite_path: str | None = None
    if not path or path == ":memory:":
        engine = sa.create_engine(
            "sqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            hide_parameters=True,
            future=True,
        )
    else:
        sqlite_path = os.path.abspath(path)
        # transcripts are health records: 0600, whatever the umask (issue 15 #9)
        secure_sqlite_file(sqlite_path)
        # mode=rw: a file that was moved away is an outage, not a new empty database
        uri = f"file:{quote(sqlite_path)}?mode=rw"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=db_timeout, check_same_thread=False)

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

    return engine, sqlite_path


class EventsDatabase:
    """The queries of the tracker store (blocking: run them on the store's database thread)."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        """Queries on ``engine``; the schema is made sure of on first use."""
        self.engine = engine
        self._schema_ready = False

    def ensure_schema(self) -> None:
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

    def probe(self) -> None:
        """Raise unless the database answers a query on the events table."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            conn.execute(sa.select(events_table.c.id).limit(1)).all()
            conn.rollback()

    def sender_ids(self) -> list[str]:
        """Every conversation id in the events table."""
        with self.engine.connect() as conn:
            ids = list(conn.execute(sa.select(events_table.c.sender_id).distinct()).scalars())
            conn.rollback()
            return ids

    @staticmethod
    def mark_of(conn: sa.engine.Connection, sender_id: str) -> Mark:
        """The conversation's (row count, highest id) in the events table."""
        t = events_table
        count, top = conn.execute(
            sa.select(sa.func.count(t.c.id), sa.func.max(t.c.id)).where(t.c.sender_id == sender_id)
        ).one()
        return int(count), top

    def select_rows(
        self, sender_id: str, full: bool, probe_keys: set[str], known: Mark | None = None
    ) -> tuple[list[EventRow] | None, set[str], Mark | None]:
        """The conversation's rows (last session unless ``full``), which probe keys exist,
        and the mark the rows match (None: unknown, e.g. rows without keys, or ``full``).

        With ``known`` (the cached rows' mark) and a database that still shows it, no rows are
        read: ``(None, set(), known)``.
        """
        self.ensure_schema()
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
            mark = None if full else self.mark_of(conn, sender_id)
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
        rows = rows_from_table(result)
        present.update(r.key for r in rows if r.key in probe_keys)
        if probe_keys or any(r.event_key is None for r in result):
            mark = None  # spooled rows to merge, or rows from before the key column
        return rows, present, mark

    def write_rows(self, sender_id: str, rows: list[EventRow]) -> int:
        """Insert the rows whose keys are not stored yet, in order, in one transaction."""
        return self.write_rows_marked(sender_id, rows)[0]

    def write_rows_marked(
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
        self.ensure_schema()
        t = events_table
        for attempt in (1, 2):
            try:
                with self.engine.connect() as conn:
                    conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        self.check_not_purged(conn, sender_id)
                        if mark is not None and self.mark_of(conn, sender_id) == mark:
                            fresh = [r for r in rows if r.key not in cached]
                            if fresh:
                                conn.execute(t.insert(), [row_values(sender_id, r) for r in fresh])
                            return len(fresh), self.mark_of(conn, sender_id)
                        stored = self._stored_keys(conn, sender_id)
                        missing = []
                        for row in rows:
                            if row.key in stored:
                                continue
                            stored.add(row.key)
                            missing.append(row_values(sender_id, row))
                        if missing:
                            conn.execute(t.insert(), missing)
                return len(missing), None
            except sa.exc.IntegrityError:
                if attempt == 2:
                    raise
                mark = None  # the second attempt reads every stored key
        return 0, None  # pragma: no cover

    @staticmethod
    def _stored_keys(conn: sa.engine.Connection, sender_id: str) -> set[str]:
        """Every stored key of the conversation; rows from before the key column get theirs
        now (in the caller's transaction)."""
        t = events_table
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
                    conn.execute(sa.update(t).where(t.c.id == r.id).values(event_key=key))
                    stored.add(key)
        return stored

    @staticmethod
    def check_not_purged(conn: sa.engine.Connection, sender_id: str) -> None:
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

    def read_tombstones(self, since: float) -> list[tuple[str, float]]:
        """Tombstones recorded since ``since`` (a few seconds of overlap are harmless)."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(purged_table.c.sender_id, purged_table.c.purged_at).where(
                    purged_table.c.purged_at >= since - 60.0
                )
            ).all()
            conn.rollback()
        return [(r.sender_id, r.purged_at) for r in rows]
