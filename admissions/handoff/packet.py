"""Build the handoff packet (``schemas/handoff-packet.v1.json``) from a conversation's slots.

The conversation step (``handoff_packet_form``) leaves its answers in the ``handoff_packet``
slot and sets ``handoff_packet_complete`` when it ends; the rest comes from what the
conversation already knew (``severe_withdrawal``, ``payer``, the callback request...).
Every field is present in the record, ``null`` when unknown or skipped, so a receiver reads
one stable shape. Values that do not have their documented form are left out, never guessed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from admissions.handoff import answers as step
from admissions.profile import PROGRAMS as PROGRAM_KEYS
from admissions.profile import UNDETERMINED

SCHEMA_VERSION = "handoff-packet.v1"
PACKET_SLOT = "handoff_packet"
COMPLETE_SLOT = "handoff_packet_complete"
FORM_NAME = "handoff_packet_form"
# uuid5 namespace of packet ids: the id says nothing about the conversation it came from
_NAMESPACE = uuid.UUID("6f1c2b1e-3d0a-5b7e-9a51-16a0d0c0f116")

# the values each answer may take: the step's own keys (admissions/handoff/answers.py)
RELATIONSHIPS = ("self", *step.RELATIONSHIPS)
SUBSCRIBER_RELATIONSHIPS = tuple(step.SUBSCRIBERS)
CHANNELS = step.CHANNELS
PROGRAMS = (*PROGRAM_KEYS, UNDETERMINED)
FIELDS = step.PACKET_KEYS  # the step's answers (keys of the ``handoff_packet`` slot), as asked
SHORT, LONG = 64, 200  # longest identifier / free text kept
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass(frozen=True)
class Completion:
    """When the step ended: the ``handoff_packet_complete`` event (id and unix time)."""

    event_id: int
    timestamp: float


def slots_from_events(
    events: Iterable[Mapping[str, Any]], until_event_id: int | None = None
) -> dict[str, Any]:
    """The slot values after ``events`` (Rasa order; ``_id`` = row id), up to an event id."""
    slots: dict[str, Any] = {}
    for event in events:
        event_id = event.get("_id")
        if until_event_id is not None and isinstance(event_id, int) and event_id > until_event_id:
            break
        kind = event.get("event")
        if kind == "slot" and isinstance(event.get("name"), str):
            slots[str(event["name"])] = event.get("value")
        elif kind in ("reset_slots", "restart"):
            slots = {}
    return slots


def first_completion(events: Iterable[Mapping[str, Any]]) -> Completion | None:
    """The first time the step ended (one packet per conversation: later ends change nothing)."""
    for event in events:
        if (
            event.get("event") == "slot"
            and event.get("name") == COMPLETE_SLOT
            and event.get("value") is True
            and isinstance(event.get("_id"), int)
        ):
            return Completion(int(event["_id"]), float(event.get("timestamp") or 0.0))
    return None


def packet_id(conversation_id: str) -> str:
    """The packet's id, also the webhook's idempotency key: stable, one per conversation."""
    return str(uuid.uuid5(_NAMESPACE, conversation_id))


def declined(slots: Mapping[str, Any]) -> bool:
    """Whether the visitor said no to the whole "help admissions prepare" step."""
    answers = slots.get(PACKET_SLOT)
    return isinstance(answers, dict) and answers.get("declined") is True


def has_packet(slots: Mapping[str, Any]) -> bool:
    """Whether the conversation got to the step (some answers, or the step ended)."""
    answers = slots.get(PACKET_SLOT)
    return slots.get(COMPLETE_SLOT) is True or (isinstance(answers, dict) and bool(answers))


def _text(value: Any, limit: int = LONG) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.split())
    return cleaned[:limit] or None


def _choice(value: Any, allowed: tuple[str, ...]) -> str | None:
    return value if isinstance(value, str) and value in allowed else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _date(value: Any) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def e164(value: Any) -> str | None:
    """A callback number as E.164 (``+14125550143``); a bare US number is given its +1."""
    text = _text(value, SHORT)
    if text is None:
        return None
    compact = re.sub(r"[\s().-]", "", text)
    if _E164.match(compact):
        return compact
    digits = "".join(ch for ch in compact if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+1{digits}" if len(digits) == 10 and not compact.startswith("+") else None


def _substances(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for item in value:
        text = _text(item, SHORT)
        if text and text not in out:
            out.append(text)
    return out[:20]


def _relationship(answers: Mapping[str, Any], slots: Mapping[str, Any]) -> str | None:
    given = _choice(answers.get("relationship"), RELATIONSHIPS)
    if given is None and slots.get("visitor_role") == "self":
        return "self"  # the greeting already said the help is for themselves
    return given


def iso_utc(ts: float) -> str:
    """Unix seconds as ISO 8601 UTC with a ``Z`` (``2026-12-03T04:05:06Z``)."""
    moment = datetime.fromtimestamp(ts, timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def build(
    conversation_id: str, slots: Mapping[str, Any], completed_at: float | None
) -> dict[str, Any]:
    """The packet (a JSON-ready dict, ``schemas/handoff-packet.v1.json``) from final slots."""
    raw = slots.get(PACKET_SLOT)
    answers: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    skipped = answers.get("skipped")
    payer = _text(answers.get("payer"), SHORT) or _text(slots.get("payer"), SHORT)
    recommended = _choice(slots.get("recommended_program"), PROGRAMS)
    return {
        "schema_version": SCHEMA_VERSION,
        "packet_id": packet_id(conversation_id),
        "reference_code": _text(slots.get("reference_code"), SHORT),
        "completed_at": iso_utc(completed_at) if completed_at is not None else None,
        "crisis_detected": slots.get("crisis_detected") is True,
        "contact": {
            "relationship": _relationship(answers, slots),
            "name": _text(slots.get("callback_name"), SHORT),
            "phone": e164(slots.get("callback_phone")),
            "best_time": _text(slots.get("callback_best_time")) or _text(answers.get("best_time")),
            "channel": _choice(answers.get("callback_channel"), CHANNELS),
            "voicemail_ok": slots.get("consent_voicemail") is True,
            "texts_ok": slots.get("consent_text") is True,
            "language": _text(answers.get("language"), SHORT),
        },
        "person": {
            "first_name": _text(answers.get("first_name"), SHORT),
            "date_of_birth": _date(answers.get("dob")),
        },
        "insurance": {
            "payment": _text(slots.get("payment"), SHORT),
            "payer": payer,
            "payer_other": _text(answers.get("payer_other"), SHORT),
            "member_id": _text(answers.get("member_id"), SHORT),
            "group_number": _text(answers.get("group_number"), SHORT),
            "subscriber_name": _text(answers.get("subscriber_name"), SHORT),
            "subscriber_date_of_birth": _date(answers.get("subscriber_dob")),
            "subscriber_relationship": _choice(
                answers.get("subscriber_relationship"), SUBSCRIBER_RELATIONSHIPS
            ),
        },
        "clinical": {
            "substances": _substances(answers.get("substances")),
            "substances_other": _text(answers.get("substances_other")),
            "last_use": _text(answers.get("last_use"), SHORT),
            "withdrawal_seizures_or_dts": _bool(slots.get("severe_withdrawal")),
            "mental_health_care": _bool(answers.get("mental_health_care")),
            "court_mandated": _bool(answers.get("court_mandated")),
        },
        "referral_source": _text(answers.get("referral_source")),
        "program": {"recommended": recommended, "provisional": True},
        "declined": answers.get("declined") is True,
        "skipped": sorted(
            {s for s in skipped if isinstance(s, str) and s in FIELDS}
            if isinstance(skipped, list)
            else set()
        ),
    }


def from_events(conversation_id: str, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The packet as staff see it now (latest answers), or None before the step began."""
    slots = slots_from_events(events)
    if not has_packet(slots):
        return None
    done = first_completion(events)
    return build(conversation_id, slots, done.timestamp if done else None)


def as_sent(
    conversation_id: str, events: list[dict[str, Any]]
) -> tuple[Completion, dict[str, Any]] | None:
    """The packet as it stood when the step first ended (what the CRM receives), or None.

    None too when the visitor declined the step: the questions were asked with consent, and a
    visitor who said no has not agreed to anything being sent on (42 CFR Part 2 disclosures).
    """
    done = first_completion(events)
    if done is None:
        return None
    slots = slots_from_events(events, until_event_id=done.event_id)
    if declined(slots):
        return None
    return done, build(conversation_id, slots, done.timestamp)
