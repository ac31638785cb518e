"""Shape Rasa events into what staff read: chat turns, NLU details, final slots, program fit.

Pure functions over event dicts; the templates escape every string they print.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROGRAM_ORDER: tuple[str, ...] = ("op", "iop", "php", "residential")
HIDDEN_SLOTS: frozenset[str] = frozenset({"requested_slot"})


@dataclass
class Entity:
    """An entity the NLU found in a visitor message."""

    entity: str
    value: str
    extractor: str | None


@dataclass
class Turn:
    """One line of the chat: a visitor message, an assistant message, or a session marker."""

    kind: str  # "visitor" | "assistant" | "session"
    timestamp: float
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: list[Entity] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    event_id: int | None = None  # the tracker store row (visitor messages; for flagging)


@dataclass
class ProgramFitView:
    """One program's provisional fit."""

    program: str
    fits: bool
    score: float | None
    track: str | None
    reasons: list[str]


@dataclass
class Transcript:
    """Everything the transcript page shows about one conversation."""

    conversation_id: str
    turns: list[Turn]
    slots: dict[str, Any]
    crisis_ever: bool
    forget_requested: bool
    started_at: float | None
    fit: list[ProgramFitView]
    need_level: str | None

    @property
    def reference_code(self) -> str | None:
        """The code the visitor may quote on the phone."""
        code = self.slots.get("reference_code")
        return str(code) if code else None

    @property
    def callback_requested(self) -> bool:
        """Whether the visitor asked for a call (current slot value)."""
        return self.slots.get("callback_requested") is True

    def slot_rows(self) -> list[tuple[str, str]]:
        """Slots as (name, printable value), program fit and summary shown elsewhere."""
        skip = HIDDEN_SLOTS | {"program_fit", "visitor_summary"}
        return [(k, show_value(v)) for k, v in sorted(self.slots.items()) if k not in skip]


def show_value(value: Any) -> str:
    """A slot value as plain text (JSON for lists and dicts)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
    return str(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _user_turn(event: dict[str, Any], ts: float) -> Turn:
    parse = _mapping(event.get("parse_data"))
    intent = _mapping(parse.get("intent"))
    entities = [
        Entity(_text(e.get("entity")), _text(e.get("value")), e.get("extractor"))
        for e in parse.get("entities") or []
        if isinstance(e, dict)
    ]
    ranking = [
        (_text(r.get("name")), _float(r.get("confidence")) or 0.0)
        for r in (parse.get("intent_ranking") or [])[:3]
        if isinstance(r, dict)
    ]
    return Turn(
        kind="visitor",
        timestamp=ts,
        text=_text(event.get("text")),
        intent=_text(intent.get("name")) or None,
        confidence=_float(intent.get("confidence")),
        entities=entities,
        ranking=ranking,
        event_id=event["_id"] if isinstance(event.get("_id"), int) else None,
    )


def _bot_turn(event: dict[str, Any], ts: float) -> Turn:
    data = _mapping(event.get("data"))
    buttons = [_text(b.get("title")) for b in data.get("buttons") or [] if isinstance(b, dict)]
    return Turn(kind="assistant", timestamp=ts, text=_text(event.get("text")), buttons=buttons)


def _fit(value: Any) -> tuple[list[ProgramFitView], str | None]:
    if not isinstance(value, dict):
        return [], None
    rows: list[ProgramFitView] = []
    keys = [k for k in PROGRAM_ORDER if k in value] + sorted(
        k for k in value if k not in PROGRAM_ORDER and k != "need_level"
    )
    for key in keys:
        item = value.get(key)
        if not isinstance(item, dict):
            continue
        reasons = item.get("reasons") or []
        rows.append(
            ProgramFitView(
                program=key,
                fits=item.get("fits") is True,
                score=_float(item.get("score")),
                track=_text(item.get("track")) or None,
                reasons=[_text(r) for r in reasons] if isinstance(reasons, list) else [],
            )
        )
    need = value.get("need_level")
    return rows, (_text(need) or None)


def build(conversation_id: str, events: list[dict[str, Any]]) -> Transcript:
    """Turn the conversation's events (Rasa order) into a ``Transcript``."""
    turns: list[Turn] = []
    slots: dict[str, Any] = {}
    crisis = False
    forget = False
    started: float | None = None
    for event in events:
        kind = event.get("event")
        ts = _float(event.get("timestamp")) or 0.0
        if kind == "user":
            started = ts if started is None else started
            turns.append(_user_turn(event, ts))
        elif kind == "bot":
            turns.append(_bot_turn(event, ts))
        elif kind == "session_started":
            turns.append(Turn(kind="session", timestamp=ts))
        elif kind == "slot":
            name = _text(event.get("name"))
            value = event.get("value")
            slots[name] = value
            crisis = crisis or (name == "crisis_detected" and value is True)
            forget = forget or (name == "forget_requested" and value is True)
        elif kind in ("reset_slots", "restart"):
            slots = {}
    # Leading session markers before anything was said add nothing.
    while turns and turns[0].kind == "session":
        turns.pop(0)
    fit, need = _fit(slots.get("program_fit"))
    return Transcript(
        conversation_id=conversation_id,
        turns=turns,
        slots=slots,
        crisis_ever=crisis,
        forget_requested=forget,
        started_at=started,
        fit=fit,
        need_level=need,
    )
