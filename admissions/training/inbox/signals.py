"""Why a visitor message belongs in the NLU inbox, read from what happened next in its
conversation: re-asks, the free-time read-back changed, later corrections; and which messages
answer the callback form or the handoff packet's questions (personal details, never inbox
material). Pure reading of ``events`` rows, plus one query that fetches the rows it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.tracker import event_data, events

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
        if (data.get("metadata") or {}).get("rolled"):
            continue  # a long chat rolled into a new session: copies of what was already read
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
        by_conversation.setdefault(str(row.sender_id), []).append(
            (int(row.id), str(row.type_name), event_data(row.data))
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
