"""Shape Rasa events into what staff read: chat turns, NLU details, final slots, program fit.

Pure functions over event dicts; the templates escape every string they print.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from admissions.facility import tel_link
from admissions.profile import PROGRAMS
from admissions.web.chat_rasa import GREET, REQUEST_HUMAN, TALK_TO_A_PERSON
from admissions.web.rereading import Rereading

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

    kind: str  # "visitor" | "assistant" | "session" | "opened" (the widget's greeting trigger)
    timestamp: float
    text: str = ""  # what the visitor saw or chose: a tapped button shows as its title
    payload: str | None = None  # the button payload Rasa received ("/affirm"), when tapped
    intent: str | None = None
    confidence: float | None = None
    entities: list[Entity] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    event_id: int | None = None  # the tracker store row (visitor messages; for flagging)
    crisis: bool = False  # a crisis message, or the assistant's crisis reply

    @property
    def tapped(self) -> bool:
        """Whether the visitor tapped a button instead of typing."""
        return self.payload is not None


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
        skip = HIDDEN_SLOTS | {"program_fit", "visitor_summary", "handoff_packet"}
        return [
            (k, show_value(v))
            for k, v in sorted(self.slots.items())
            if k not in skip and not k.startswith("packet_")  # the handoff packet's answers
        ]


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


def _user_turn(event: dict[str, Any], ts: float, titles: dict[str, str]) -> Turn:
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
    text = _text(event.get("text"))
    payload: str | None = None
    kind = "visitor"
    if text.startswith("/"):
        payload = text
        if text in titles:
            text = titles[text]
        elif text == REQUEST_HUMAN:
            text = TALK_TO_A_PERSON
        elif text == GREET:
            kind, text = "opened", "The visitor opened the chat"
    intent_name = _text(intent.get("name")) or None
    return Turn(
        kind=kind,
        timestamp=ts,
        text=text,
        payload=payload,
        crisis=intent_name == "crisis",
        intent=intent_name,
        confidence=_float(intent.get("confidence")),
        entities=entities,
        ranking=ranking,
        event_id=event["_id"] if isinstance(event.get("_id"), int) else None,
    )


def _buttons(event: dict[str, Any]) -> list[dict[str, Any]]:
    data = _mapping(event.get("data"))
    return [b for b in data.get("buttons") or [] if isinstance(b, dict)]


def _bot_turn(event: dict[str, Any], ts: float) -> Turn:
    utter = _text(_mapping(event.get("metadata")).get("utter_action"))
    return Turn(
        kind="assistant",
        timestamp=ts,
        text=_text(event.get("text")),
        buttons=[_text(b.get("title")) for b in _buttons(event)],
        crisis=utter.startswith("utter_crisis"),
    )


def _fit(value: Any) -> tuple[list[ProgramFitView], str | None]:
    if not isinstance(value, dict):
        return [], None
    rows: list[ProgramFitView] = []
    keys = [k for k in PROGRAMS if k in value] + sorted(
        k for k in value if k not in PROGRAMS and k != "need_level"
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
    titles: dict[str, str] = {}  # payload -> title of the buttons the assistant offers now
    after_visitor = True
    rereading = Rereading()
    for event in events:
        kind = event.get("event")
        ts = _float(event.get("timestamp")) or 0.0
        if kind == "rewind":
            rereading.rewind()
        elif kind == "user":
            started = ts if started is None else started
            turn = _user_turn(event, ts, titles)
            again = rereading.visitor(_text(event.get("text")))
            if again and turns and turns[-1].kind in ("visitor", "opened"):
                # said once, read twice (two-stage fallback): one turn, with the final reading
                earlier = turns[-1]
                turn.timestamp, turn.text, turn.kind = earlier.timestamp, earlier.text, earlier.kind
                turns[-1] = turn
            else:
                turns.append(turn)
            titles, after_visitor = {}, True
        elif kind == "bot":
            if after_visitor:
                titles, after_visitor = {}, False
            for button in _buttons(event):
                payload, title = _text(button.get("payload")), _text(button.get("title"))
                if payload and title:
                    titles[payload] = title
            turns.append(_bot_turn(event, ts))
            rereading.assistant()
        elif kind == "session_started":
            if not (event.get("metadata") or {}).get("rolled"):  # a long chat rolled on: same visit
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
    while turns and turns[0].kind in ("session", "opened"):
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


def contact_wishes(slots: dict[str, Any]) -> str:
    """The visitor's discreet-contact wishes in words: "No voicemail · no texts".

    Anything but an explicit yes counts as no (the discreet choice).
    """
    voicemail = "Voicemail OK" if slots.get("consent_voicemail") is True else "No voicemail"
    texts = "texts OK" if slots.get("consent_text") is True else "no texts"
    return f"{voicemail} · {texts}"


def tel_href(phone: Any) -> str | None:
    """A ``tel:`` link for a US phone number as the visitor gave it, or None (built by
    ``admissions.facility.tel_link``, the one builder of tel: links)."""
    digits = "".join(ch for ch in _text(phone) if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return tel_link(digits) if len(digits) == 10 else None


def phone_words(phone: Any) -> str:
    """A US number as people read it, "(412) 555-0143"; anything else as it was given."""
    href = tel_href(phone)
    if href is None:
        return _text(phone)
    digits = href.removeprefix("tel:+1")
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def fit_words(fit: ProgramFitView) -> str:
    """What a program's fit score (0-100) means, in a sentence."""
    if fit.fits:
        return "Fits: the visitor is free for enough of a track's sessions each week."
    if fit.score is None:
        return "Does not fit the visitor's week."
    return (
        f"Does not fit: the visitor's free time covers about {fit.score:.0f} % of what the "
        "best track needs each week."
    )


PAYMENT_WORDS: dict[str, str] = {
    "insurance": "insurance",
    "medicaid": "Medicaid",
    "medicare": "Medicare",
    "self_pay": "self-pay",
    "no_insurance": "no insurance",
    "tight_money": "worried about cost",
}


def payer_text(slots: dict[str, Any]) -> str:
    """The insurer, or how the visitor would pay: "Aetna", "Medicaid", "self-pay", "—"."""
    payer = _text(slots.get("payer")).strip()
    payment = _text(slots.get("payment")).strip()
    kind = PAYMENT_WORDS.get(payment, payment.replace("_", " "))
    if payer and kind and kind != "insurance" and kind.lower() != payer.lower():
        return f"{payer} ({kind})"
    return payer or kind or "—"
