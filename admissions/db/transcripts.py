"""Read queries over Rasa's ``events`` table: conversation summaries, transcripts, slots, purge.

Per-conversation figures are aggregated in SQL in one pass over ``events`` (Rasa indexes only
``sender_id``; the app adds no index to Rasa's table). Slot values are read from the event's
JSON ``data``; for slot events Rasa stores the slot name in ``action_name``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.tracker import PURGE_LOCK_SPACE, event_data, events, purged_senders
from admissions.fit.results import UNDETERMINED
from admissions.profile import PROGRAMS

PROGRAM_VALUES: tuple[str, ...] = (*PROGRAMS, UNDETERMINED)  # what a recommendation can be
HANDOFF_ACTIONS: tuple[str, ...] = ("action_handoff",)
RESET_EVENTS: tuple[str, ...] = ("reset_slots", "restart")
CALLBACK_SLOTS: tuple[str, ...] = (
    "callback_name",
    "callback_phone",
    "callback_best_time",
    "consent_voicemail",
    "consent_text",
    "reference_code",
    "recommended_program",
    "visitor_summary",
    "crisis_detected",
)
_CHUNK = 500


@dataclass(frozen=True)
class ListFilters:
    """Filters of the conversation list; times are unix seconds (UTC)."""

    started_from: float | None = None
    started_before: float | None = None
    recommendation: str | None = None  # a PROGRAM_VALUES entry, or "none"
    crisis: bool | None = None
    callback: bool | None = None
    complete: bool | None = None
    reference_code: str | None = None
    active_since: float | None = None  # last event at or after this time
    hide_short: bool = False  # leave out empty chats (see ``is_short``)


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as the list shows it: figures and flags only, no message text."""

    conversation_id: str
    started_at: float
    last_at: float
    turns: int
    crisis: bool
    callback: bool
    complete: bool
    handoff: bool
    recommendation: str | None
    reference_code: str | None


SHORT_TURNS = 2


def is_short(s: ConversationSummary) -> bool:
    """An empty chat: one or two visitor turns and nothing came of it (no crisis, callback,
    assessment, recommendation or handoff)."""
    return s.turns <= SHORT_TURNS and not (
        s.crisis or s.callback or s.complete or s.handoff or s.recommendation
    )


def normalise_code(code: str) -> str:
    """Reference codes compare case- and hyphen-insensitively (``k7f2q`` finds ``K7F-2Q``)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _value_text(data: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.cast(data, JSONB)["value"].astext
    return sa.func.json_extract(data, "$.value")


def _value_true(data: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.cast(data, JSONB)["value"].astext == "true"
    return sa.func.json_type(data, "$.value") == "true"


def summary_query(dialect: str, sender_ids: Sequence[str] | None = None) -> sa.Select[Any]:
    """Per-conversation figures aggregated in SQL, optionally for some conversations only.

    Conversations without a visitor message, and those whose visitor asked to be forgotten,
    are left out.
    """
    e = events
    is_slot = e.c.type_name == "slot"
    true_value = _value_true(e.c.data, dialect)

    def slot(name: str) -> Any:
        return sa.and_(is_slot, e.c.action_name == name)

    def ever_true(name: str) -> Any:
        return sa.func.max(sa.case((sa.and_(slot(name), true_value), 1), else_=0))

    def last_id(condition: Any) -> Any:
        return sa.func.max(sa.case((condition, e.c.id)))

    agg = sa.select(
        e.c.sender_id.label("sender_id"),
        sa.func.min(sa.case((e.c.type_name == "user", e.c.timestamp))).label("started_at"),
        sa.func.max(e.c.timestamp).label("last_at"),
        sa.func.sum(sa.case((e.c.type_name == "user", 1), else_=0)).label("turns"),
        ever_true("crisis_detected").label("crisis"),
        ever_true("forget_requested").label("forget"),
        sa.func.max(
            sa.case(
                (sa.and_(e.c.type_name == "action", e.c.action_name.in_(HANDOFF_ACTIONS)), 1),
                else_=0,
            )
        ).label("handoff"),
        last_id(e.c.type_name.in_(RESET_EVENTS)).label("reset_id"),
        last_id(sa.and_(slot("callback_requested"), true_value)).label("cb_yes"),
        last_id(sa.and_(slot("callback_requested"), sa.not_(true_value))).label("cb_no"),
        last_id(sa.and_(slot("assessment_complete"), true_value)).label("done_yes"),
        last_id(sa.and_(slot("assessment_complete"), sa.not_(true_value))).label("done_no"),
        last_id(slot("recommended_program")).label("rec_id"),
        last_id(slot("reference_code")).label("ref_id"),
    ).group_by(e.c.sender_id)
    if sender_ids is not None:
        agg = agg.where(e.c.sender_id.in_(sender_ids))
    a = agg.subquery("a")

    def latest_true(yes: Any, no: Any) -> Any:
        """The last value set is true (and no slot reset came after it)."""
        return sa.case(
            (
                sa.and_(
                    yes.is_not(None),
                    yes > sa.func.coalesce(no, 0),
                    yes > sa.func.coalesce(a.c.reset_id, 0),
                ),
                1,
            ),
            else_=0,
        )

    rec = events.alias("rec")
    ref = events.alias("ref")
    return (
        sa.select(
            a.c.sender_id,
            a.c.started_at,
            a.c.last_at,
            a.c.turns,
            a.c.crisis,
            latest_true(a.c.cb_yes, a.c.cb_no).label("callback"),
            latest_true(a.c.done_yes, a.c.done_no).label("complete"),
            a.c.handoff,
            _value_text(rec.c.data, dialect).label("recommendation"),
            _value_text(ref.c.data, dialect).label("reference_code"),
        )
        .select_from(
            a.outerjoin(rec, rec.c.id == a.c.rec_id).outerjoin(ref, ref.c.id == a.c.ref_id)
        )
        .where(a.c.turns > 0, a.c.forget == 0)
    )


def _summary(row: sa.Row[Any]) -> ConversationSummary:
    rec = row.recommendation
    return ConversationSummary(
        conversation_id=row.sender_id,
        started_at=float(row.started_at or 0.0),
        last_at=float(row.last_at or 0.0),
        turns=int(row.turns or 0),
        crisis=bool(row.crisis),
        callback=bool(row.callback),
        complete=bool(row.complete),
        handoff=bool(row.handoff),
        recommendation=str(rec) if rec not in (None, "null") else None,
        reference_code=str(row.reference_code) if row.reference_code else None,
    )


async def summaries(
    conn: AsyncConnection, sender_ids: Sequence[str] | None = None
) -> list[ConversationSummary]:
    """Summaries of every conversation (or of ``sender_ids``), unordered."""
    if sender_ids is None:
        rows = await conn.execute(summary_query(conn.dialect.name))
        return [_summary(r) for r in rows]
    out: list[ConversationSummary] = []
    for chunk in _chunks(list(sender_ids)):
        rows = await conn.execute(summary_query(conn.dialect.name, chunk))
        out.extend(_summary(r) for r in rows)
    return out


def matches(s: ConversationSummary, f: ListFilters) -> bool:
    """Whether a conversation passes the list filters."""
    if f.reference_code is not None:
        return normalise_code(s.reference_code or "") == normalise_code(f.reference_code)
    if f.started_from is not None and s.started_at < f.started_from:
        return False
    if f.started_before is not None and s.started_at >= f.started_before:
        return False
    if f.active_since is not None and s.last_at < f.active_since:
        return False
    if f.hide_short and is_short(s):
        return False
    if f.recommendation == "none":
        if s.recommendation is not None:
            return False
    elif f.recommendation and s.recommendation != f.recommendation:
        return False
    for wanted, actual in (
        (f.crisis, s.crisis),
        (f.callback, s.callback),
        (f.complete, s.complete),
    ):
        if wanted is not None and wanted != actual:
            return False
    return True


def sort_key(s: ConversationSummary) -> tuple[bool, bool, float, str]:
    """Crisis first, then callback requests, then newest first."""
    return (not s.crisis, not s.callback, -s.started_at, s.conversation_id)


def select_summaries(
    rows: Iterable[ConversationSummary], filters: ListFilters
) -> list[ConversationSummary]:
    """Filter and order summaries as the list shows them."""
    return sorted((r for r in rows if matches(r, filters)), key=sort_key)


async def list_conversations(
    conn: AsyncConnection, filters: ListFilters
) -> list[ConversationSummary]:
    """Matching conversations straight from SQL (no cache), in list order."""
    return select_summaries(await summaries(conn), filters)


async def conversation_events(conn: AsyncConnection, conversation_id: str) -> list[dict[str, Any]]:
    """Every event of one conversation in Rasa's order (by id), parsed from JSON."""
    rows = await conn.execute(
        sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.sender_id == conversation_id)
        .order_by(events.c.id)
    )
    out: list[dict[str, Any]] = []
    for row in rows:
        data = event_data(row.data)
        data.setdefault("event", row.type_name)
        data.setdefault("timestamp", row.timestamp)
        data["_id"] = row.id
        out.append(data)
    return out


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def latest_slots(
    conn: AsyncConnection, conversation_ids: Iterable[str], names: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The last value set for each of ``names`` in each conversation."""
    ids = sorted(set(conversation_ids))
    wanted = tuple(names)
    out: dict[str, dict[str, Any]] = {cid: {} for cid in ids}
    for chunk in _chunks(ids):
        rows = await conn.execute(
            sa.select(events.c.sender_id, events.c.action_name, events.c.data)
            .where(
                events.c.type_name == "slot",
                events.c.action_name.in_(wanted),
                events.c.sender_id.in_(chunk),
            )
            .order_by(events.c.id)
        )
        for row in rows:
            out[row.sender_id][row.action_name] = event_data(row.data).get("value")
    return out


async def purge_candidates(conn: AsyncConnection, cutoff: float) -> tuple[list[str], list[str]]:
    """Conversations idle since before ``cutoff`` and conversations whose visitor said forget me."""
    expired = await conn.execute(
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    forget = await conn.execute(
        sa.select(events.c.sender_id)
        .where(
            events.c.type_name == "slot",
            events.c.action_name == "forget_requested",
            _value_true(events.c.data, conn.dialect.name),
        )
        .distinct()
    )
    forget_ids = sorted({r.sender_id for r in forget})
    expired_ids = sorted({r.sender_id for r in expired} - set(forget_ids))
    return expired_ids, forget_ids


async def delete_conversation(conn: AsyncConnection, conversation_id: str) -> int:
    """Delete every event of one conversation and leave a tombstone, in the caller's
    transaction; returns the number of rows removed.

    The tombstone (``purged_senders``) is written first, so on SQLite the transaction holds the
    write lock before it deletes; on PostgreSQL both this and the tracker store's writes take
    the conversation's advisory lock. Either way a turn that was in progress when the purge ran
    finds the tombstone and writes nothing (rasa_addons/tracker_store.py).
    """
    dialect = conn.dialect.name
    await conn.run_sync(lambda sync: purged_senders.create(sync, checkfirst=True))
    if dialect == "postgresql":
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:sender))"),
            {"space": PURGE_LOCK_SPACE, "sender": conversation_id},
        )
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await conn.execute(
        insert(purged_senders)
        .values(sender_id=conversation_id, purged_at=time.time())
        .on_conflict_do_nothing(index_elements=["sender_id"])
    )
    result = await conn.execute(events.delete().where(events.c.sender_id == conversation_id))
    return int(result.rowcount or 0)


async def tracker_ready(conn: AsyncConnection) -> bool:
    """True when Rasa's ``events`` table exists (Rasa creates it at its first start)."""

    def check(sync_conn: sa.Connection) -> bool:
        return sa.inspect(sync_conn).has_table("events")

    return await conn.run_sync(check)
