"""Engines for the two databases the staff app talks to: Rasa's tracker store and its own."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

logger = logging.getLogger(__name__)

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise ValueError(f"unsupported database (use sqlite or postgresql): {backend}")
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Turn ``sqlite:///x.db`` / ``postgresql://...`` into the async driver's URL."""
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> str:
    """Turn a database URL into the synchronous driver's URL (migrations, CLI)."""
    return _with_driver(url, _SYNC_DRIVERS)


def _sqlite_pragmas(foreign_keys: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # Rasa writes the tracker store while we read it: wait for its locks, don't fail.
        cursor.execute("PRAGMA busy_timeout = 10000")
        if foreign_keys:
            cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return on_connect


def create_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """Create an async engine for ``url`` with SQLite pragmas where it applies."""
    # hide_parameters: error messages must not carry message text or phone numbers.
    engine = create_async_engine(async_url(url), pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas(foreign_keys))
    return engine


def create_sync_engine(url: str, *, foreign_keys: bool = True) -> sa.Engine:
    """Create a synchronous engine (CLI, migrations, fixtures)."""
    engine = sa.create_engine(sync_url(url), hide_parameters=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas(foreign_keys))
    return engine


def ensure_sqlite_dir(url: str) -> None:
    """Make a SQLite file private before first use: its folder (e.g. ``var/``) made 0700 when
    created, the file created 0600 (SQLite gives its journals the same mode), and an existing
    file readable by others tightened to 0600 with a warning: transcripts are health records."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(str(parsed.database))
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    for candidate in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)):
        _tighten(candidate)


PRIVATE_FILE_MODE = 0o600
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


def _tighten(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        logger.warning("%s was readable by other users (mode %o): now 0600", path, mode)
        try:
            path.chmod(PRIVATE_FILE_MODE)
        except PermissionError:
            logger.error("could not make %s private: fix its mode by hand", path)
