"""``PostgresLockStore``: one turn at a time per conversation, across every Rasa process.

Registered in an endpoints file (``endpoints.prod.yml``)::

    lock_store:
      type: rasa_addons.lock_store.PostgresLockStore
      url: ${TRACKER_DB_URL}        # postgresql://user@host:port/db (password: PGPASSFILE)

Rasa serialises the turns of one conversation through its lock store. The in-memory one is
per process, so two Rasa processes behind a load balancer would interleave two simultaneous
messages of one visitor; Rasa 3.6.21's ``RedisLockStore`` issued duplicate tickets under
contention in our tests (its read-modify-write of the ticket list is not atomic). This store
replaces tickets with a PostgreSQL session-level advisory lock held for the whole turn:

* ``lock(conversation_id)`` first takes a per-conversation ``asyncio.Lock`` in this process
  (FIFO), so at most one waiter per conversation per process holds a database connection;
  then ``pg_advisory_lock(15014, hashtext(conversation_id))`` on a dedicated connection from
  a small pool, and releases it with ``pg_advisory_unlock`` when the turn ends. PostgreSQL
  queues waiters in arrival order; a holder whose process dies loses its connection, and the
  server releases the lock at once (no lifetime to guess, unlike tickets).
* The connections are psycopg2 *asynchronous* connections driven by the event loop
  (``add_reader``): waiting for a lock never blocks Rasa's loop nor uses a thread.
  They, the connection string and the lock statements are in
  ``rasa_addons/lock_connections.py``; this module is the ``LockStore`` and its policies.
* **Pooling.** At most ``max_connections`` (default 20, ``LOCK_STORE_MAX_CONNECTIONS``)
  connections per process, idle ones kept for reuse; a broken idle connection is replaced.
* **Timeouts.** Connecting is bounded by ``connect_timeout`` (default 2 s); waiting for the
  lock by ``lock_timeout`` on the server and the same bound on the client (``wait_timeout``,
  default Rasa's lock lifetime, 60 s); a turn that waits longer gets Rasa's ``LockError``.
* **Cancellation.** If the waiting task is cancelled, the query is cancelled on the server
  and the connection closed; if the lock was already held, closing the connection releases
  it. No lock outlives the task that took it. ``client_connection_check_interval`` (PG 14+)
  makes the server notice a vanished client even while it waits.
* **A dead database.** The error names the server (never the password) and the cause, once
  per outage at ERROR. ``on_unavailable: local`` (default; ``LOCK_STORE_ON_UNAVAILABLE``)
  then serialises turns within this process only and retries the database after a back-off
  (0.5 s doubling to 5 s): the tracker store spools turns during an outage anyway, and a
  crisis message must still be answered. ``on_unavailable: fail`` raises ``LockError``.

The lock space 15014 is distinct from the tracker store's purge lock (15013), which is taken
inside the turn on another connection. Two ids with the same ``hashtext`` share a lock: the
turns of both are serialised, nothing worse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import psycopg2
import psycopg2.errors
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_addons.backoff import Backoff
from rasa_addons.lock_connections import (
    LOCK_SPACE,
    DatabaseUnavailable,
    discard,
    libpq_dsn,
    open_connection,
    release_lock,
    take_lock,
    why,
)

# LOCK_SPACE, DatabaseUnavailable and libpq_dsn lived here before lock_connections.py
__all__ = ["LOCK_SPACE", "DatabaseUnavailable", "PostgresLockStore", "libpq_dsn"]

logger = logging.getLogger(__name__)


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


class PostgresLockStore(LockStore):
    """Per-conversation lock shared by every Rasa process: a PostgreSQL advisory lock."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        url: str | None = None,
        max_connections: int | None = None,
        connect_timeout: float | None = None,
        wait_timeout: float | None = None,
        on_unavailable: str | None = None,
    ) -> None:
        """Read the settings (endpoint file, then environment); connects lazily."""
        kwargs: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = url or (endpoint_config.url if endpoint_config else None)
        url = url or os.environ.get("LOCK_DB_URL") or os.environ.get("TRACKER_DB_URL")
        if not url:
            raise ValueError("PostgresLockStore: set `url` in the endpoints file or LOCK_DB_URL")
        self.dsn, self.where = libpq_dsn(url)
        self.max_connections = int(
            max_connections
            or kwargs.get("max_connections")
            or _env("LOCK_STORE_MAX_CONNECTIONS", "20")
        )
        self.connect_timeout = float(
            connect_timeout
            or kwargs.get("connect_timeout")
            or _env("LOCK_STORE_CONNECT_TIMEOUT", "2")
        )
        self.wait_timeout = float(
            wait_timeout
            or kwargs.get("wait_timeout")
            or _env("LOCK_STORE_WAIT_TIMEOUT", str(LOCK_LIFETIME))
        )
        self.on_unavailable = str(
            on_unavailable
            or kwargs.get("on_unavailable")
            or _env("LOCK_STORE_ON_UNAVAILABLE", "local")
        )
        if self.on_unavailable not in ("local", "fail"):
            raise ValueError("PostgresLockStore: on_unavailable must be `local` or `fail`")
        self._idle: deque[Any] = deque()
        self._slots: asyncio.Semaphore | None = None
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tickets: dict[str, TicketLock] = {}
        self.backoff = Backoff()
        self._last_error = ""
        self.stats: dict[str, int] = {
            "acquired": 0,
            "local_only": 0,
            "timeouts": 0,
            "cancelled": 0,
            "db_failures": 0,
            "connections_opened": 0,
        }
        super().__init__()
        logger.info(
            "lock store: PostgreSQL advisory locks at %s (up to %d connections, on_unavailable=%s)",
            self.where,
            self.max_connections,
            self.on_unavailable,
        )

    # ------------------------------------------------------------------ Rasa's interface
    # Rasa's ticket book-keeping is kept for callers that inspect it; order and exclusion come
    # from the advisory lock (see ``lock``), not from tickets.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The in-process ticket record for ``conversation_id`` (informational)."""
        return self._tickets.get(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Forget the in-process ticket record."""
        self._tickets.pop(conversation_id, None)

    def save_lock(self, lock: TicketLock) -> None:
        """Keep the in-process ticket record."""
        self._tickets[lock.conversation_id] = lock

    def is_someone_waiting(self, conversation_id: str) -> bool:
        """Whether another turn of this conversation waits in this process."""
        local = self._local.get(conversation_id)
        return bool(local is not None and local.locked())

    @contextlib.asynccontextmanager
    async def lock(  # type: ignore[override]
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock, in this process and in PostgreSQL, for the block."""
        deadline = time.monotonic() + self.wait_timeout
        local = self._local_lock(conversation_id)
        try:
            await asyncio.wait_for(local.acquire(), self.wait_timeout)
        except asyncio.TimeoutError:
            self.stats["timeouts"] += 1
            raise LockError(
                f"Could not acquire lock for conversation_id '{conversation_id}' "
                f"within {self.wait_timeout:.0f} s (another turn of it is still running)."
            ) from None
        try:
            conn = await self._acquire(conversation_id, deadline)
            try:
                yield TicketLock(conversation_id)
            finally:
                if conn is not None:
                    await self._release(conn, conversation_id)
        finally:
            local.release()

    # ------------------------------------------------------------------ the advisory lock
    def _local_lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._local.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._local[conversation_id] = lock
        return lock

    async def _acquire(self, conversation_id: str, deadline: float) -> Any | None:
        """The connection holding the advisory lock; None when running local-only."""
        if not self.backoff.available():
            self._unavailable(None)
            return None
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_connections)
        slots = self._slots
        try:
            await asyncio.wait_for(slots.acquire(), max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            self.stats["timeouts"] += 1
            raise LockError(
                f"lock store: all {self.max_connections} connections busy for "
                f"{self.wait_timeout:.0f} s (raise LOCK_STORE_MAX_CONNECTIONS?)"
            ) from None
        held = False
        try:
            failure = await self._try_acquire(conversation_id, deadline)
            if isinstance(failure, DatabaseUnavailable):
                self._unavailable(failure)
                return None
            held = True
            return failure
        finally:
            if not held:
                slots.release()

    async def _try_acquire(self, conversation_id: str, deadline: float) -> Any:
        """A connection holding the lock, or the ``DatabaseUnavailable`` that prevented it."""
        for attempt in (1, 2):
            fresh = not self._idle
            try:
                conn = self._idle.popleft() if self._idle else await self._connect()
            except DatabaseUnavailable as exc:
                return exc
            try:
                await self._lock_on(conn, conversation_id, deadline)
            except psycopg2.errors.LockNotAvailable:
                self._idle.append(conn)  # the connection is fine: the wait timed out
                self.stats["timeouts"] += 1
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}' "
                    f"within {self.wait_timeout:.0f} s (another turn of it is still running)."
                ) from None
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                discard(conn)
                if fresh or attempt == 2:  # a new connection failed: the server is away
                    return DatabaseUnavailable(why(exc))
                continue  # a stale pooled connection (server restarted): try a new one
            self._db_ok()
            self.stats["acquired"] += 1
            return conn
        return DatabaseUnavailable("no connection")  # pragma: no cover

    async def _lock_on(self, conn: Any, conversation_id: str, deadline: float) -> None:
        """Wait for the advisory lock on ``conn`` (bounded; cancel-safe)."""
        remaining = max(0.01, deadline - time.monotonic())
        try:
            await take_lock(conn, conversation_id, remaining, self.connect_timeout + 5)
        except asyncio.TimeoutError:
            discard(conn)
            raise psycopg2.OperationalError("no answer from the server while waiting") from None
        except asyncio.CancelledError:
            # The query may still be queued on the server, or the lock already granted: cancel
            # it there and close the connection (closing releases a granted session lock).
            self.stats["cancelled"] += 1
            discard(conn)
            raise

    async def _release(self, conn: Any, conversation_id: str) -> None:
        """Unlock and pool the connection; on any trouble close it (which also unlocks)."""
        assert self._slots is not None
        try:
            await release_lock(conn, conversation_id, self.connect_timeout + 5)
        except BaseException:
            discard(conn)
            self._slots.release()
            raise
        self._idle.append(conn)
        self._slots.release()

    async def _connect(self) -> Any:
        """A new asynchronous connection (autocommit) or ``DatabaseUnavailable``."""
        conn = await open_connection(self.dsn, self.connect_timeout)
        self.stats["connections_opened"] += 1
        return conn

    def _unavailable(self, exc: BaseException | None) -> None:
        """Local-only (or ``LockError``) while the database is unreachable."""
        if exc is not None:
            self._last_error = str(exc)
            self.stats["db_failures"] += 1
            first = self.backoff.failed()
            self._close_idle()
            log = logger.error if first else logger.debug
            log(
                "lock store: PostgreSQL at %s is unavailable (%s); %s",
                self.where,
                exc,
                "turns are serialised within this process only until it is back"
                if self.on_unavailable == "local"
                else "turns fail until it is back (on_unavailable=fail)",
            )
        if self.on_unavailable == "fail":
            raise LockError(
                f"lock store: PostgreSQL at {self.where} is unavailable ({self._last_error})"
            )
        self.stats["local_only"] += 1

    def _db_ok(self) -> None:
        if self.backoff.recovered():
            logger.warning("lock store: PostgreSQL at %s is reachable again", self.where)

    def _close_idle(self) -> None:
        while self._idle:
            with contextlib.suppress(Exception):
                self._idle.popleft().close()

    def close(self) -> None:
        """Close the idle connections (held ones close when their turn ends)."""
        self._close_idle()
