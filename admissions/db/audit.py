"""Audit rows: the one way anything writes to the append-only ``staff_audit_log``.

The staff app's request-bound part (who asked, from where, refusal caps) is
``admissions.web.audit``; command lines and background jobs write here directly.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from admissions.db.models import AUDIT_LOG

RESULTS = ("ok", "denied", "unauthenticated", "not_found", "invalid", "throttled", "error")
# Column sizes of staff_audit_log: longer values are cut so the row is always written.
USERNAME_CHARS, ACTION_CHARS, CONVERSATION_CHARS, ADDRESS_CHARS, RESULT_CHARS = 64, 40, 255, 64, 20


def bounded_id(value: str | None, limit: int = CONVERSATION_CHARS) -> str | None:
    """A path value cut to ``limit`` characters (marked with "…" when cut)."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def cli_actor() -> str:
    """Who a command-line change is recorded as: ``cli:`` and the operating-system user."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"cli:{name}"[:USERNAME_CHARS]


async def insert(
    conn: AsyncConnection,
    *,
    username: str | None,
    action: str,
    result: str,
    conversation_id: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Insert one audit row in the caller's transaction (the only write path there is)."""
    await conn.execute(
        AUDIT_LOG.insert().values(
            at=datetime.now(timezone.utc),
            username=username[:USERNAME_CHARS] if username else None,
            action=action[:ACTION_CHARS],
            conversation_id=bounded_id(conversation_id),
            address=(address or "")[:ADDRESS_CHARS] or None,
            result=result[:RESULT_CHARS],
            detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
        )
    )


async def write(engine: AsyncEngine, **fields: Any) -> None:
    """Insert one audit row in its own transaction."""
    async with engine.begin() as conn:
        await insert(conn, **fields)


async def insert_for_cli(
    conn: AsyncConnection, action: str, detail: dict[str, Any], username: str | None = None
) -> None:
    """Insert the audit row of a command-line change (address ``cli``; by ``cli_actor()``)."""
    await insert(
        conn,
        username=cli_actor() if username is None else username,
        action=action,
        result="ok",
        address="cli",
        detail=detail,
    )
