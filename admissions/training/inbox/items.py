"""The NLU inbox: visitor messages a trainer should look at, read from Rasa's tracker store.

A message is in the inbox when the conversation shows it was (or may have been) misunderstood,
and no trainer has decided on the same text yet. Each item says why it is there (``REASONS``):

* the model fell back (top intent ``nlu_fallback``), or its confidence was below the threshold;
* the assistant had to ask again after it (the assessment's "Sorry, I didn't catch that" and
  "Let's make this easier" re-asks, counted in the ``ask_counts`` slot; the ask-back of an
  answer that said both yes and no; ``utter_default`` / ``utter_ask_rephrase``);
* the free time it gave was read back and the visitor chose "Change it";
* a later message of the visitor corrected an answer taken from it (the assistant then says
  "Got it, I've updated that");
* staff flagged it from a transcript ("Flag: misunderstood").

So a confident mistake ("I get the shakes in the morning" read as ready_to_start at 0.89) is
caught by what happened next, not only by the model's own doubt. Answers to the callback form
(consent, name, phone number, best time, voicemail/text wishes) and to the handoff packet's
questions (``handoff_packet_form``: date of birth, member ID, substances...) never enter the
inbox, whatever the model thought of them: those are personal details, not language to
learn. Messages are de-duplicated by normalised text (the newest occurrence shows, with a
count) and listed newest first. Conversations whose visitor asked to be forgotten are left
out. Button payloads ("/affirm") are never in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.tracker import event_data, events
from admissions.training.inbox.decisions import decided_keys, flagged_ids
from admissions.training.inbox.signals import (
    FALLBACK,
    FELL_BACK,
    FLAGGED,
    LOW_CONFIDENCE,
    ConversationSignals,
    conversation_signals,
)
from admissions.training.nludata import normalise, text_key


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
    data = event_data(row.data)
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


def _explain(
    item: InboxItem, threshold: float, flagged: set[int], signals: ConversationSignals | None
) -> list[str]:
    """Why ``item`` is in the inbox (empty: it is not, or it is a callback-form answer)."""
    if signals is not None and item.event_id in signals.private:
        return []
    reasons = []
    if item.intent == FALLBACK:
        reasons.append(FELL_BACK)
    elif item.confidence is None or item.confidence < threshold:
        reasons.append(LOW_CONFIDENCE)
    if signals is not None:
        reasons.extend(signals.reasons.get(item.event_id, []))
    if item.event_id in flagged:
        reasons.append(FLAGGED)
    return reasons


async def candidates(
    tracker: AsyncConnection,
    threshold: float,
    flagged: Sequence[int],
    limit: int,
) -> list[InboxItem]:
    """Inbox messages among the conversations of the newest ``limit`` visitor messages.

    Flagged messages count however old they are.
    """
    dialect = tracker.dialect.name
    not_forgotten = events.c.sender_id.not_in(_forgotten(dialect))
    recent = (
        sa.select(events.c.sender_id)
        .where(events.c.type_name == "user", not_forgotten)
        .order_by(events.c.id.desc())
        .limit(limit)
    )
    conversation_ids = set((await tracker.execute(recent)).scalars())
    if flagged:
        conversation_ids |= set(
            (
                await tracker.execute(
                    sa.select(events.c.sender_id).where(
                        events.c.id.in_(list(flagged)), not_forgotten
                    )
                )
            ).scalars()
        )
    if not conversation_ids:
        return []
    signals = await conversation_signals(tracker, conversation_ids)
    flagged_set = set(flagged)
    out: list[InboxItem] = []
    ids = sorted(conversation_ids)
    for start in range(0, len(ids), 500):
        rows = await tracker.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.timestamp, events.c.data).where(
                events.c.type_name == "user", events.c.sender_id.in_(ids[start : start + 500])
            )
        )
        for row in rows:
            item = parse_user_event(row)
            if item is None:
                continue
            item.reasons = _explain(item, threshold, flagged_set, signals.get(item.conversation_id))
            item.flagged = FLAGGED in item.reasons
            if item.reasons:
                out.append(item)
    out.sort(key=lambda i: i.event_id, reverse=True)
    return out


async def is_private(tracker: AsyncConnection, item: InboxItem) -> bool:
    """Whether the message answered the callback form (contact details, never for training)."""
    signals = await conversation_signals(tracker, [item.conversation_id])
    found = signals.get(item.conversation_id)
    return found is not None and item.event_id in found.private


async def reasons_for(
    tracker: AsyncConnection, item: InboxItem, threshold: float, flagged: Iterable[int]
) -> list[str]:
    """Why this message belongs in the inbox; empty when it does not (or is a callback answer)."""
    signals = await conversation_signals(tracker, [item.conversation_id])
    return _explain(item, threshold, set(flagged), signals.get(item.conversation_id))


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
        for reason in item.reasons:
            if reason not in first.reasons:
                first.reasons.append(reason)
        first.flagged = first.flagged or item.flagged
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
        value = event_data(data).get("text")
        if isinstance(value, str) and normalise(value) == key:
            count += 1
    return count
