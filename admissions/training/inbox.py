"""The NLU inbox: visitor messages the model was unsure about, read from Rasa's tracker store.

A message is in the inbox when its top intent is ``nlu_fallback``, its confidence is below the
configured threshold, or staff flagged it from a transcript; and no trainer has decided on the
same text yet. Messages are de-duplicated by normalised text (the newest occurrence shows, with
a count) and listed newest first. Conversations whose visitor asked to be forgotten are left
out. Button payloads ("/affirm") are never in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.models import NLU_DECISIONS, NLU_FLAGS
from admissions.db.tracker import events
from admissions.training.nludata import normalise, text_key

FALLBACK = "nlu_fallback"


@dataclass
class InboxItem:
    """One distinct message in the inbox (its newest occurrence)."""

    event_id: int
    conversation_id: str
    timestamp: float
    text: str
    intent: str | None
    confidence: float | None
    best_guess: tuple[str, float] | None  # top real intent when the model fell back
    ranking: list[tuple[str, float]] = field(default_factory=list)
    occurrences: int = 1
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The normalised-text hash decisions are stored under."""
        return text_key(self.text)


def _confidence(dialect: str) -> Any:
    data = events.c.data
    if dialect == "postgresql":
        return sa.cast(sa.cast(data, JSONB)["parse_data"]["intent"]["confidence"].astext, sa.Float)
    return sa.func.json_extract(data, "$.parse_data.intent.confidence")


def _forgotten(dialect: str) -> Any:
    data = events.c.data
    true_value = (
        sa.cast(data, JSONB)["value"].astext == "true"
        if dialect == "postgresql"
        else sa.func.json_type(data, "$.value") == "true"
    )
    return (
        sa.select(events.c.sender_id)
        .where(
            events.c.type_name == "slot",
            events.c.action_name == "forget_requested",
            true_value,
        )
        .distinct()
    )


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_user_event(row: Any) -> InboxItem | None:
    """An inbox item from an ``events`` row of a visitor message (None if unreadable)."""
    try:
        data = json.loads(row.data) if row.data else {}
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or text.lstrip().startswith("/"):
        return None
    raw_parse = data.get("parse_data")
    parse: dict[str, Any] = raw_parse if isinstance(raw_parse, dict) else {}
    raw_intent = parse.get("intent")
    intent: dict[str, Any] = raw_intent if isinstance(raw_intent, dict) else {}
    ranking = [
        (str(r.get("name")), _float(r.get("confidence")) or 0.0)
        for r in parse.get("intent_ranking") or []
        if isinstance(r, dict) and r.get("name")
    ]
    real = [r for r in ranking if r[0] != FALLBACK]
    name = intent.get("name") if isinstance(intent.get("name"), str) else None
    return InboxItem(
        event_id=int(row.id),
        conversation_id=str(row.sender_id),
        timestamp=float(row.timestamp or 0.0),
        text=text,
        intent=name,
        confidence=_float(intent.get("confidence")),
        best_guess=real[0] if name == FALLBACK and real else None,
        ranking=ranking[:4],
    )


async def flagged_ids(app: AsyncConnection) -> set[int]:
    """Event ids staff flagged for the inbox."""
    return set((await app.execute(sa.select(NLU_FLAGS.c.event_id))).scalars())


async def decided_keys(app: AsyncConnection, keys: Iterable[str] | None = None) -> set[str]:
    """Text hashes a trainer has already decided on (annotated, out of scope or ignored)."""
    query = sa.select(NLU_DECISIONS.c.text_key).distinct()
    if keys is not None:
        wanted = list(set(keys))
        if not wanted:
            return set()
        query = query.where(NLU_DECISIONS.c.text_key.in_(wanted))
    return set((await app.execute(query)).scalars())


async def candidates(
    tracker: AsyncConnection,
    threshold: float,
    flagged: Sequence[int],
    limit: int,
) -> list[InboxItem]:
    """Newest visitor messages that fell back, scored below ``threshold`` or were flagged."""
    dialect = tracker.dialect.name
    conf = _confidence(dialect)
    condition = sa.or_(
        events.c.intent_name == FALLBACK,
        conf < threshold,
        conf.is_(None),
        events.c.id.in_(list(flagged)) if flagged else sa.false(),
    )
    rows = await tracker.execute(
        sa.select(events.c.id, events.c.sender_id, events.c.timestamp, events.c.data)
        .where(events.c.type_name == "user", condition)
        .where(events.c.sender_id.not_in(_forgotten(dialect)))
        .order_by(events.c.id.desc())
        .limit(limit)
    )
    flagged_set = set(flagged)
    out = []
    for row in rows:
        item = parse_user_event(row)
        if item is None:
            continue
        if item.intent == FALLBACK:
            item.reasons.append("fallback")
        elif item.confidence is None or item.confidence < threshold:
            item.reasons.append("low confidence")
        if item.event_id in flagged_set:
            item.flagged = True
            item.reasons.append("flagged by staff")
        if item.reasons:
            out.append(item)
    return out


def is_candidate(item: InboxItem, threshold: float, flagged: Iterable[int]) -> bool:
    """Whether this message belongs in the inbox: it fell back, scored low or was flagged."""
    return (
        item.intent == FALLBACK
        or item.confidence is None
        or item.confidence < threshold
        or item.event_id in set(flagged)
    )


def deduplicate(items: Iterable[InboxItem]) -> list[InboxItem]:
    """One item per normalised text: the newest occurrence, counting the others."""
    by_text: dict[str, InboxItem] = {}
    for item in sorted(items, key=lambda i: (i.timestamp, i.event_id), reverse=True):
        key = normalise(item.text)
        first = by_text.get(key)
        if first is None:
            by_text[key] = item
            continue
        first.occurrences += 1
        if item.flagged and not first.flagged:
            first.flagged = True
            first.reasons.append("flagged by staff")
    return list(by_text.values())


async def inbox(
    tracker: AsyncConnection, app: AsyncConnection, threshold: float, limit: int
) -> list[InboxItem]:
    """The inbox, newest first: candidates, de-duplicated, without decided texts."""
    if not await _tracker_ready(tracker):
        return []
    flagged = sorted(await flagged_ids(app))
    items = deduplicate(await candidates(tracker, threshold, flagged, limit))
    decided = await decided_keys(app, (i.key for i in items))
    return [i for i in items if i.key not in decided]


async def _tracker_ready(conn: AsyncConnection) -> bool:
    def check(sync_conn: sa.Connection) -> bool:
        return sa.inspect(sync_conn).has_table("events")

    return await conn.run_sync(check)


async def user_event(tracker: AsyncConnection, event_id: int) -> InboxItem | None:
    """One visitor message by event id (None: missing, not a visitor message, or forgotten)."""
    if not await _tracker_ready(tracker):
        return None
    row = (
        await tracker.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.timestamp, events.c.data).where(
                events.c.id == event_id,
                events.c.type_name == "user",
                events.c.sender_id.not_in(_forgotten(tracker.dialect.name)),
            )
        )
    ).first()
    return parse_user_event(row) if row is not None else None


async def occurrences(tracker: AsyncConnection, text: str, limit: int = 2000) -> int:
    """How many visitor messages (of the newest ``limit``) have this text (normalised)."""
    key = normalise(text)
    rows = await tracker.execute(
        sa.select(events.c.data)
        .where(events.c.type_name == "user")
        .order_by(events.c.id.desc())
        .limit(limit)
    )
    count = 0
    for (data,) in rows:
        try:
            value = json.loads(data).get("text")
        except (ValueError, AttributeError):
            continue
        if isinstance(value, str) and normalise(value) == key:
            count += 1
    return count


async def flag(app: AsyncConnection, event_id: int, conversation_id: str, by: str) -> bool:
    """Flag a visitor message for the inbox; False when it already was."""
    exists = (
        await app.execute(sa.select(NLU_FLAGS.c.event_id).where(NLU_FLAGS.c.event_id == event_id))
    ).first()
    if exists is not None:
        return False
    await app.execute(
        NLU_FLAGS.insert().values(
            event_id=event_id,
            conversation_id=conversation_id,
            flagged_by=by,
            flagged_at=datetime.now(timezone.utc),
        )
    )
    return True


async def record_decision(
    app: AsyncConnection,
    *,
    text: str,
    decision: str,
    by: str,
    source: str,
    intent: str | None = None,
    example: str | None = None,
    data_file: str | None = None,
    event_id: int | None = None,
    conversation_id: str | None = None,
) -> int:
    """Remember a decision so the same text leaves the inbox (and what was written, if any)."""
    result = await app.execute(
        NLU_DECISIONS.insert().values(
            text_key=text_key(text),
            decision=decision,
            intent=intent,
            example=example,
            data_file=data_file,
            event_id=event_id,
            conversation_id=conversation_id,
            source=source,
            decided_by=by,
            decided_at=datetime.now(timezone.utc),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def recent_decisions(app: AsyncConnection, limit: int = 20) -> list[Any]:
    """The latest decisions (for the inbox page's "recently done" list)."""
    t = NLU_DECISIONS
    rows = await app.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit))
    return list(rows)


@dataclass(frozen=True)
class WrittenExample:
    """An example a trainer accepted from a visitor's message into the training data."""

    intent: str
    example: str
    decided_at: datetime


async def forget_conversation(app: AsyncConnection, conversation_id: str) -> list[WrittenExample]:
    """Delete the flags and decisions that came from one conversation (forget-me, retention).

    Returns the examples those decisions wrote into ``data/nlu`` for the caller to remove
    there too (an example that was already in the data before is not returned).
    """
    d = NLU_DECISIONS
    rows = await app.execute(
        sa.select(d.c.intent, d.c.example, d.c.decided_at).where(
            d.c.conversation_id == conversation_id,
            d.c.data_file.is_not(None),
            d.c.example.is_not(None),
            d.c.intent.is_not(None),
        )
    )
    written = [WrittenExample(str(r.intent), str(r.example), r.decided_at) for r in rows]
    await app.execute(sa.delete(d).where(d.c.conversation_id == conversation_id))
    await app.execute(sa.delete(NLU_FLAGS).where(NLU_FLAGS.c.conversation_id == conversation_id))
    return written
