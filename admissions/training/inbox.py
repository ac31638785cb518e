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

# Why a message is in the inbox: the label shown on its badge and a sentence for trainers.
FELL_BACK = "fallback"
LOW_CONFIDENCE = "low confidence"
REASKED = "asked again"
READ_BACK_CHANGED = "read back, then changed"
CORRECTED = "corrected later"
FLAGGED = "flagged by staff"
REASONS: dict[str, str] = {
    FELL_BACK: "The assistant did not understand it and fell back.",
    LOW_CONFIDENCE: "The model was unsure what it meant.",
    REASKED: "The assistant had to ask the question again after it.",
    READ_BACK_CHANGED: "The assistant read back the free time it understood from it, and the "
    'visitor chose "Change it".',
    CORRECTED: "The visitor corrected the answer taken from it in a later message.",
    FLAGGED: 'A coordinator marked it "Flag: misunderstood" in a transcript.',
}

# The callback form's questions (domain.yml ``callback_form``): the answers are contact details.
CALLBACK_FORM = "callback_form"
CALLBACK_SLOTS = frozenset(
    {
        "callback_consent",
        "callback_name",
        "callback_phone",
        "callback_best_time",
        "consent_voicemail",
        "consent_text",
    }
)
# The handoff packet's questions (``handoff_packet_form``): dates of birth, member IDs and
# other answers about one person; never language to learn.
HANDOFF_FORM = "handoff_packet_form"
HANDOFF_SLOT_PREFIXES = ("packet_", "handoff_")  # the step's questions (``packet_dob``...)
# How the assistant's re-asks look in its replies (actions/questions.py, domain.yml).
REASK_OPENINGS = (
    "Sorry, I didn't catch that",
    "Let's make this easier",
    "I want to be sure I have this right",
    "Sorry, I didn't quite",
)
REASK_ACTIONS = frozenset({"utter_default", "utter_ask_rephrase", "action_default_ask_affirmation"})
# Answers the summary shows; a later message that changes one corrects the earlier message.
ANSWER_SLOTS = frozenset({"readiness", "payment", "work_school", "caregiving", "availability"})
READ_BACK_SLOT = "availability_confirmed"
_CONTEXT_SLOTS = ("requested_slot", "ask_counts", "clarify", *sorted(ANSWER_SLOTS))
_CONTEXT_TYPES = ("user", "bot", "slot", "action", "active_loop", "session_started", "restart")


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


@dataclass
class ConversationSignals:
    """What one conversation says about its visitor messages (by event id)."""

    reasons: dict[int, list[str]] = field(default_factory=dict)
    private: set[int] = field(default_factory=set)  # answers to the callback form

    def add(self, event_id: int | None, reason: str) -> None:
        """Note ``reason`` for a message (once)."""
        if event_id is None:
            return
        found = self.reasons.setdefault(event_id, [])
        if reason not in found:
            found.append(reason)


def _count(value: Any, slot: str) -> int:
    try:
        return int((value or {}).get(slot) or 0) if isinstance(value, dict) else 0
    except (TypeError, ValueError):
        return 0


def read_conversation(rows: Iterable[tuple[int, str, dict[str, Any]]]) -> ConversationSignals:
    """Signals from one conversation's events, in order: ``(event id, type, event data)``.

    A slot set, a re-ask or a reply belongs to the visitor message before it.
    """
    out = ConversationSignals()
    requested: Any = None
    loop: Any = None
    last_user: int | None = None
    asked: dict[int, Any] = {}  # the question pending when each message came
    counts: Any = {}
    setters: dict[str, tuple[int, Any]] = {}  # answer slot -> (message that set it, value)
    for event_id, kind, data in rows:
        if kind == "user":
            last_user = event_id
            asked[event_id] = requested
            if _private_question(loop, requested):
                out.private.add(event_id)
        elif kind in ("session_started", "restart"):
            last_user = None
            if kind == "restart":
                requested = loop = None
                counts, setters = {}, {}
        elif kind == "active_loop":
            loop = data.get("name")
        elif kind == "action":
            if data.get("name") in REASK_ACTIONS:
                out.add(last_user, REASKED)
        elif kind == "bot":
            text = data.get("text")
            if isinstance(text, str) and text.startswith(REASK_OPENINGS):
                out.add(last_user, REASKED)
        elif kind == "slot":
            _read_slot(out, data, last_user, asked, setters, counts)
            name, value = data.get("name"), data.get("value")
            if name == "requested_slot":
                requested = value
            elif name == "ask_counts":
                counts = value if isinstance(value, dict) else {}
    return out


def _private_question(loop: Any, requested: Any) -> bool:
    """Whether a message answers the callback form or the handoff packet's questions."""
    if loop in (CALLBACK_FORM, HANDOFF_FORM) or requested in CALLBACK_SLOTS:
        return True
    return isinstance(requested, str) and requested.startswith(HANDOFF_SLOT_PREFIXES)


def _read_slot(
    out: ConversationSignals,
    data: dict[str, Any],
    last_user: int | None,
    asked: dict[int, Any],
    setters: dict[str, tuple[int, Any]],
    counts: Any,
) -> None:
    name, value = data.get("name"), data.get("value")
    if last_user is None:
        return  # slots carried over into a new session belong to no message
    question = asked.get(last_user)
    if name == "ask_counts" and isinstance(question, str):
        # the same question asked a second (third...) time right after this answer
        now = _count(value, question)
        if now >= 2 and now > _count(counts, question):
            out.add(last_user, REASKED)
    elif name == "clarify" and isinstance(value, dict) and value.get("kind") == "contradiction":
        out.add(last_user, REASKED)
    elif name in ANSWER_SLOTS:
        earlier = setters.get(name)
        if value is None:
            if earlier is not None and name == "availability" and question == READ_BACK_SLOT:
                out.add(earlier[0], READ_BACK_CHANGED)  # "Change it" at the read-back
            setters.pop(name, None)
            return
        if earlier is not None and earlier[0] != last_user and earlier[1] != value:
            out.add(earlier[0], READ_BACK_CHANGED if question == READ_BACK_SLOT else CORRECTED)
        setters[name] = (last_user, value)


def _signal_rows(rows: Iterable[Any]) -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    by_conversation: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for row in rows:
        try:
            data = json.loads(row.data) if row.data else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        by_conversation.setdefault(str(row.sender_id), []).append(
            (int(row.id), str(row.type_name), data)
        )
    return by_conversation


async def conversation_signals(
    tracker: AsyncConnection, conversation_ids: Iterable[str]
) -> dict[str, ConversationSignals]:
    """Signals of each conversation, read from the events that carry them."""
    ids = sorted(set(conversation_ids))
    found: dict[str, ConversationSignals] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        kinds = events.c.type_name
        rows = await tracker.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.data)
            .where(
                events.c.sender_id.in_(chunk),
                kinds.in_(_CONTEXT_TYPES),
                sa.or_(
                    kinds.in_(("user", "active_loop", "session_started", "restart")),
                    sa.and_(kinds == "slot", events.c.action_name.in_(_CONTEXT_SLOTS)),
                    sa.and_(kinds == "action", events.c.action_name.in_(sorted(REASK_ACTIONS))),
                    sa.and_(
                        kinds == "bot",
                        sa.or_(*(events.c.data.contains(o) for o in REASK_OPENINGS)),
                    ),
                ),
            )
            .order_by(events.c.id)
        )
        for cid, signal_rows in _signal_rows(rows).items():
            found[cid] = read_conversation(signal_rows)
    return found


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
