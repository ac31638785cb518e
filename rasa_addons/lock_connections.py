"""The lock store's PostgreSQL side: asynchronous psycopg2 connections driven by the event loop.

Part of ``PostgresLockStore`` (``rasa_addons/lock_store.py``, where the design is described).
A connection is opened with ``async_=True`` and every operation on it is awaited through
``add_reader``/``add_writer`` (``wait_ready``): waiting for a lock never blocks Rasa's loop nor
uses a thread. Here: the connection string, opening a connection, the advisory lock and unlock
statements, and closing a connection without blocking (``discard``). Pooling, timeouts per turn,
statistics and what to do when the database is away are the lock store's.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import make_url

LOCK_SPACE = 15014  # pg_advisory_lock(LOCK_SPACE, hashtext(conversation_id))
_ACQUIRE = "SELECT pg_advisory_lock(%s, hashtext(%s))"
_RELEASE = "SELECT pg_advisory_unlock(%s, hashtext(%s))"


class DatabaseUnavailable(Exception):
    """The lock database cannot be reached (message safe to log: no password)."""


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


def why(exc: BaseException) -> str:
    """The exception's class and the first line of its message (psycopg2 names no password)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


async def wait_ready(conn: Any) -> None:
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


def discard(conn: Any) -> None:
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


async def open_connection(dsn: str, connect_timeout: float) -> Any:
    """A new asynchronous connection (autocommit) or ``DatabaseUnavailable``."""
    try:
        conn = psycopg2.connect(dsn, async_=True)
    except psycopg2.Error as exc:
        raise DatabaseUnavailable(why(exc)) from None
    try:
        await asyncio.wait_for(wait_ready(conn), connect_timeout)
        if conn.server_version >= 140000:
            cursor = conn.cursor()
            cursor.execute("SELECT set_config('client_connection_check_interval', '2000', false)")
            await asyncio.wait_for(wait_ready(conn), connect_timeout)
    except asyncio.TimeoutError:
        discard(conn)
        raise DatabaseUnavailable(
            f"no answer within {connect_timeout:g} s (connect_timeout)"
        ) from None
    except psycopg2.Error as exc:
        discard(conn)
        raise DatabaseUnavailable(why(exc)) from None
    except BaseException:
        discard(conn)
        raise
    return conn


async def take_lock(
    conn: Any, conversation_id: str, remaining: float, answer_timeout: float
) -> None:
    """Wait on ``conn`` for the conversation's advisory lock, at most ``remaining`` seconds on
    the server (``lock_timeout``); ``asyncio.TimeoutError`` if the server goes quiet."""
    cursor = conn.cursor()
    cursor.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(remaining * 1000)}",))
    await asyncio.wait_for(wait_ready(conn), answer_timeout)
    cursor.execute(_ACQUIRE, (LOCK_SPACE, conversation_id))
    await asyncio.wait_for(wait_ready(conn), remaining + 5)
    cursor.fetchall()


async def release_lock(conn: Any, conversation_id: str, answer_timeout: float) -> None:
    """Release the conversation's advisory lock held on ``conn``."""
    cursor = conn.cursor()
    cursor.execute(_RELEASE, (LOCK_SPACE, conversation_id))
    await asyncio.wait_for(wait_ready(conn), answer_timeout)
    cursor.fetchall()
