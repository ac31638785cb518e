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
import psycopg2.extensions
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

LOCK_SPACE = 15014  # pg_advisory_lock(LOCK_SPACE, hashtext(conversation_id))
_ACQUIRE = "SELECT pg_advisory_lock(%s, hashtext(%s))"
_RELEASE = "SELECT pg_advisory_unlock(%s, hashtext(%s))"


class DatabaseUnavailable(Exception):
    """The lock database cannot be reached (message safe to log: no password)."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def libpq_dsn(url: str) -> tuple[str, str]:
    """(libpq connection string, the server named for error messages) from a database URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"PostgresLockStore needs a postgresql:// URL, got {parsed.drivername}")
    parts: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": parsed.username,
        "password": parsed.password,
    }
    for key, value in parsed.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    dsn = psycopg2.extensions.make_dsn(**{k: v for k, v in parts.items() if v is not None})
    where = f"{parsed.host or 'local socket'}:{parsed.port or 5432}/{parsed.database or ''}"
    return dsn, where


async def _wait(conn: Any) -> None:
    """Drive an asynchronous psycopg2 connection until its current operation completes."""
    loop = asyncio.get_running_loop()
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        fd = conn.fileno()
        ready: asyncio.Future[None] = loop.create_future()

        def wake(f: asyncio.Future[None] = ready) -> None:
            if not f.done():
                f.set_result(None)

        if state == psycopg2.extensions.POLL_READ:
            loop.add_reader(fd, wake)
            try:
                await ready
            finally:
                loop.remove_reader(fd)
        elif state == psycopg2.extensions.POLL_WRITE:
            loop.add_writer(fd, wake)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
        else:  # pragma: no cover - psycopg2 raises before returning anything else
            raise psycopg2.OperationalError(f"unexpected poll state {state}")


def _cancel_and_close(conn: Any) -> None:
    """Cancel the running query on the server, then close (blocking; run in a thread)."""
    with contextlib.suppress(Exception):
        conn.cancel()
    with contextlib.suppress(Exception):
        conn.close()


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
        self._down_until = 0.0
        self._backoff = 0.0
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
        if time.monotonic() < self._down_until:
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
                self._discard(conn)
                if fresh or attempt == 2:  # a new connection failed: the server is away
                    return DatabaseUnavailable(self._why(exc))
                continue  # a stale pooled connection (server restarted): try a new one
            self._db_ok()
            self.stats["acquired"] += 1
            return conn
        return DatabaseUnavailable("no connection")  # pragma: no cover

    async def _lock_on(self, conn: Any, conversation_id: str, deadline: float) -> None:
        """Wait for the advisory lock on ``conn`` (bounded; cancel-safe)."""
        remaining = max(0.01, deadline - time.monotonic())
        try:
            cursor = conn.cursor()
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, false)", (f"{int(remaining * 1000)}",)
            )
            await asyncio.wait_for(_wait(conn), self.connect_timeout + 5)
            cursor.execute(_ACQUIRE, (LOCK_SPACE, conversation_id))
            await asyncio.wait_for(_wait(conn), remaining + 5)
            cursor.fetchall()
        except asyncio.TimeoutError:
            self._discard(conn)
            raise psycopg2.OperationalError("no answer from the server while waiting") from None
        except asyncio.CancelledError:
            # The query may still be queued on the server, or the lock already granted: cancel
            # it there and close the connection (closing releases a granted session lock).
            self.stats["cancelled"] += 1
            self._discard(conn)
            raise

    async def _release(self, conn: Any, conversation_id: str) -> None:
        """Unlock and pool the connection; on any trouble close it (which also unlocks)."""
        assert self._slots is not None
        try:
            cursor = conn.cursor()
            cursor.execute(_RELEASE, (LOCK_SPACE, conversation_id))
            await asyncio.wait_for(_wait(conn), self.connect_timeout + 5)
            cursor.fetchall()
        except BaseException:
            self._discard(conn)
            self._slots.release()
            raise
        self._idle.append(conn)
        self._slots.release()

    async def _connect(self) -> Any:
        """A new asynchronous connection (autocommit) or ``DatabaseUnavailable``."""
        try:
            conn = psycopg2.connect(self.dsn, async_=True)
        except psycopg2.Error as exc:
            raise DatabaseUnavailable(self._why(exc)) from None
        try:
            await asyncio.wait_for(_wait(conn), self.connect_timeout)
            if conn.server_version >= 140000:
                cursor = conn.cursor()
                cursor.execute(
                    "SELECT set_config('client_connection_check_interval', '2000', false)"
                )
                await asyncio.wait_for(_wait(conn), self.connect_timeout)
        except asyncio.TimeoutError:
            self._discard(conn)
            raise DatabaseUnavailable(
                f"no answer within {self.connect_timeout:g} s (connect_timeout)"
            ) from None
        except psycopg2.Error as exc:
            self._discard(conn)
            raise DatabaseUnavailable(self._why(exc)) from None
        except BaseException:
            self._discard(conn)
            raise
        self.stats["connections_opened"] += 1
        return conn

    def _discard(self, conn: Any) -> None:
        """Cancel whatever runs on ``conn`` and close it, without blocking the loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            _cancel_and_close(conn)
            return
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())
            loop.remove_writer(conn.fileno())
        loop.run_in_executor(None, _cancel_and_close, conn)

    @staticmethod
    def _why(exc: BaseException) -> str:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {first}" if first else type(exc).__name__

    def _unavailable(self, exc: BaseException | None) -> None:
        """Local-only (or ``LockError``) while the database is unreachable."""
        if exc is not None:
            self._last_error = str(exc)
            self.stats["db_failures"] += 1
            first = self._backoff == 0.0
            self._backoff = min(5.0, self._backoff * 2 if self._backoff else 0.5)
            self._down_until = time.monotonic() + self._backoff
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
        if self._backoff:
            logger.warning("lock store: PostgreSQL at %s is reachable again", self.where)
        self._backoff = 0.0
        self._down_until = 0.0

    def _close_idle(self) -> None:
        while self._idle:
            with contextlib.suppress(Exception):
                self._idle.popleft().close()

    def close(self) -> None:
        """Close the idle connections (held ones close when their turn ends)."""
        self._close_idle()
