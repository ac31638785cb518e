"""Synthetic conversations in Rasa's event format, for benchmarks and tests only.

Every synthetic conversation id starts with ``synthetic-``; names and phone numbers are
obviously fake (555-01xx numbers are reserved for fiction). The event dicts match what
Rasa 3.6 stores, so they go through ``tracker.event_row`` like Rasa's own writes.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from admissions.db.tracker import create_tracker_schema, event_row, events
from admissions.fit.results import UNDETERMINED
from admissions.profile import PROGRAMS

SYNTHETIC_PREFIX = "synthetic-"
_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"
_TURNS = [
    ("greet", "hi", "Hi, I'm the Harbor Light admissions assistant."),
    ("ready_to_start", "I think I'm ready to get help", "Thank you for reaching out."),
    ("inform_payment", "I have Aetna through work", "Thanks. Admissions verifies benefits."),
    ("inform_work", "I work weekdays 9 to 5", "Got it: weekdays 9 to 5."),
    ("inform_caregiving", "I pick up my kids at 3", "Thanks, I'll plan around school pickup."),
    ("inform_availability", "evenings are free", "Evenings work for some tracks."),
    ("affirm", "yes", "Okay."),
    ("deny", "no", "Okay, thanks."),
    ("ask_cost", "how much does it cost", "I can't quote a total here."),
]


def action_event(name: str, ts: float) -> dict[str, Any]:
    """An ``action`` event as Rasa stores it."""
    return {
        "event": "action",
        "timestamp": ts,
        "metadata": {"model_id": "synthetic"},
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def user_event(
    text: str,
    ts: float,
    *,
    intent: str,
    confidence: float = 0.9,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``user`` event with parse data (intent, confidence, entities, ranking)."""
    message_id = uuid.uuid4().hex
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "text": text,
        "message_id": message_id,
        "metadata": {},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return {
        "event": "user",
        "timestamp": ts,
        "metadata": {},
        "text": text,
        "parse_data": parse_data,
        "input_channel": "rest",
        "message_id": message_id,
    }


def bot_event(
    text: str, ts: float, *, buttons: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A ``bot`` event (what the assistant said)."""
    return {
        "event": "bot",
        "timestamp": ts,
        "metadata": {"utter_action": "utter_synthetic"},
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": buttons,
            "attachment": None,
            "image": None,
            "custom": None,
        },
    }


def slot_event(name: str, value: Any, ts: float) -> dict[str, Any]:
    """A ``slot`` event (SlotSet)."""
    return {"event": "slot", "timestamp": ts, "name": name, "value": value}


def session_start(ts: float) -> list[dict[str, Any]]:
    """The events Rasa writes when a conversation session starts."""
    return [
        action_event("action_session_start", ts),
        {"event": "session_started", "timestamp": ts},
        action_event("action_listen", ts),
    ]


def reference_code(rng: random.Random) -> str:
    """A code in the assistant's format, e.g. ``K7F-2Q``."""
    chars = [rng.choice(_CODE_ALPHABET) for _ in range(5)]
    return "".join(chars[:3]) + "-" + "".join(chars[3:])


def program_fit(recommended: str, rng: random.Random) -> dict[str, Any]:
    """A ``program_fit`` slot value shaped like ``admissions.fit`` writes it."""
    out: dict[str, Any] = {}
    for key in PROGRAMS:
        fits = key == recommended or rng.random() < 0.3
        out[key] = {
            "fits": fits,
            "score": round(rng.uniform(0.5, 1.0) if fits else rng.uniform(0.0, 0.5), 2),
            "reasons": ["schedule fits the evening track"] if fits else ["clashes with work"],
            "track": "evening" if fits else None,
        }
    out["need_level"] = recommended
    return out


def conversation(rng: random.Random, start: float) -> list[dict[str, Any]]:
    """One plausible conversation starting at ``start`` (unix seconds)."""
    ts = start
    out = session_start(ts)
    turns = rng.randint(2, 9)
    crisis = rng.random() < 0.05
    for i in range(turns):
        ts += rng.uniform(5, 60)
        intent, text, reply = _TURNS[i % len(_TURNS)] if i else _TURNS[0]
        out.append(user_event(text, ts, intent=intent, confidence=rng.uniform(0.4, 1.0)))
        out.append(
            {"event": "user_featurization", "timestamp": ts, "use_text_for_featurization": False}
        )
        out.append(action_event("action_extract_facts", ts))
        out.append(action_event("utter_synthetic", ts + 0.5))
        out.append(bot_event(reply, ts + 0.5))
        out.append(action_event("action_listen", ts + 0.5))
    if crisis:
        ts += 10
        out.append(user_event("I don't want to be here anymore", ts, intent="crisis"))
        out.append(slot_event("crisis_detected", True, ts))
        out.append(bot_event("If you are in danger call 911 or 988 now.", ts + 0.2))
    complete = rng.random() < 0.6
    if complete:
        ts += 20
        recommended = rng.choice((*PROGRAMS, UNDETERMINED))
        out.append(action_event("action_score_fit", ts))
        out.append(slot_event("recommended_program", recommended, ts))
        out.append(slot_event("program_fit", program_fit(recommended, rng), ts))
        out.append(slot_event("visitor_summary", "Synthetic visitor: works weekdays.", ts))
        out.append(slot_event("assessment_complete", True, ts))
    if complete or rng.random() < 0.3:
        ts += 5
        out.append(action_event("action_handoff", ts))
        out.append(slot_event("reference_code", reference_code(rng), ts))
        if rng.random() < 0.35:
            ts += 60
            n = rng.randint(0, 99)
            out.append(slot_event("callback_name", f"Sam Synthetic {n}", ts))
            out.append(slot_event("callback_phone", f"(555) 555-01{n:02d}", ts))
            out.append(slot_event("callback_best_time", "after 6 pm", ts))
            out.append(slot_event("consent_voicemail", rng.random() < 0.5, ts))
            out.append(slot_event("consent_text", rng.random() < 0.5, ts))
            out.append(slot_event("callback_requested", True, ts))
    if rng.random() < 0.02:
        out.append(slot_event("forget_requested", True, ts + 1))
    return out


def conversations(
    count: int, *, now: float, days: float = 30.0, seed: int = 0
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """``count`` synthetic conversations spread over the ``days`` before ``now``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    for _ in range(count):
        suffix = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(24))
        start = now - rng.uniform(0, days * 86400.0)
        yield SYNTHETIC_PREFIX + suffix, conversation(rng, start)


def insert_conversation(
    connection: sa.Connection, sender_id: str, evts: list[dict[str, Any]]
) -> None:
    """Write one conversation's events as Rasa's SQL tracker store would."""
    connection.execute(events.insert(), [event_row(sender_id, e) for e in evts])


def seed(
    connection: sa.Connection, count: int, *, now: float, days: float = 30.0, seed: int = 0
) -> int:
    """Create the events table if needed and add ``count`` conversations; returns events added."""
    create_tracker_schema(connection)
    added = 0
    batch: list[dict[str, Any]] = []
    for sender_id, evts in conversations(count, now=now, days=days, seed=seed):
        batch.extend(event_row(sender_id, e) for e in evts)
        if len(batch) >= 5000:
            connection.execute(events.insert(), batch)
            added += len(batch)
            batch = []
    if batch:
        connection.execute(events.insert(), batch)
        added += len(batch)
    return added


def has_real_conversations(connection: sa.Connection) -> bool:
    """True when the tracker store holds any conversation that is not synthetic."""
    if not sa.inspect(connection).has_table("events"):
        return False
    query = sa.select(events.c.id).where(~events.c.sender_id.startswith(SYNTHETIC_PREFIX)).limit(1)
    return connection.execute(query).first() is not None
