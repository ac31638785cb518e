"""A message Rasa reads twice (the two-stage fallback reverts it with a ``rewind`` event and
reads it again) was said once: the widget's history and the staff transcript show it once."""

from __future__ import annotations

from typing import Any

from admissions.web.chat_rasa import history_from_tracker
from admissions.web.transcript import build


def _user(text: str, intent: str, ts: float, event_id: int) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "_id": event_id,
        "parse_data": {"intent": {"name": intent, "confidence": 0.5}},
    }


def _bot(text: str, ts: float, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"event": "bot", "timestamp": ts, "text": text, "data": {"buttons": buttons}}


# as recorded from Rasa 3.6 (action and slot events left out)
EVENTS: list[dict[str, Any]] = [
    _user("/greet", "greet", 1.0, 1),
    _bot("Hi!", 2.0),
    _user("my week is odd", "nlu_fallback", 3.0, 2),
    _bot(
        "Just to check: did you mean you're telling me about work?",
        4.0,
        [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
    ),
    _user("I'm not sure I'm ready", "not_ready", 5.0, 3),
    {"event": "rewind", "timestamp": 6.0},
    _user("I'm not sure I'm ready", "not_ready", 7.0, 4),
    _bot("That's completely okay.", 8.0),
    _user("I'm not sure I'm ready", "not_ready", 9.0, 5),  # said again, for real
    _bot("Okay.", 10.0),
]


def test_history_shows_a_re_read_message_once() -> None:
    messages, _ = history_from_tracker({"events": EVENTS})
    said = [m["text"] for m in messages if m["from"] == "visitor"]
    assert said == ["my week is odd", "I'm not sure I'm ready", "I'm not sure I'm ready"]
    texts = [m["text"] for m in messages]
    assert texts.index("That's completely okay.") == 4  # one visitor message before it


def test_transcript_shows_a_re_read_message_once_with_its_final_reading() -> None:
    turns = [t for t in build("c", EVENTS).turns if t.kind == "visitor"]
    assert [t.text for t in turns] == [
        "my week is odd",
        "I'm not sure I'm ready",
        "I'm not sure I'm ready",
    ]
    assert [t.event_id for t in turns] == [2, 4, 5]  # the reading Rasa acted on
    assert turns[1].timestamp == 5.0  # when the visitor sent it


def test_a_different_message_after_a_rewind_is_kept() -> None:
    events = [*EVENTS[:6], _user("call me", "request_callback", 7.0, 4)]
    said = [
        m["text"] for m in history_from_tracker({"events": events})[0] if m["from"] == "visitor"
    ]
    assert said == ["my week is odd", "I'm not sure I'm ready", "call me"]
    assert [t.text for t in build("c", events).turns if t.kind == "visitor"] == said


def test_after_the_default_fallbacks_rewind_every_new_message_is_kept() -> None:
    """The default fallback answers ("Sorry, ...") and then rewinds: the visitor's next message
    is new even when they said the same words earlier in the chat (recorded from Rasa 3.6: a
    visitor cycling through questions inside the assessment)."""
    events = [
        _user("how long is the program", "ask_program_info", 1.0, 1),
        _bot("Here's how our programs differ ...", 2.0),
        _user("thanks", "thanks", 3.0, 2),
        _bot("Sorry, I didn't quite get that. Could you say it another way?", 4.0),
        {"event": "rewind", "timestamp": 5.0},
        _user("how long is the program", "ask_program_info", 6.0, 3),
        _bot("Here's how our programs differ ...", 7.0),
        _user("thanks", "thanks", 8.0, 4),
        _bot("Sorry, I didn't quite get that. Could you say it another way?", 9.0),
        {"event": "rewind", "timestamp": 10.0},
        _user("thanks", "thanks", 11.0, 5),  # typed again after "Sorry": said twice
    ]
    said = [
        m["text"] for m in history_from_tracker({"events": events})[0] if m["from"] == "visitor"
    ]
    expected = ["how long is the program", "thanks"] * 2 + ["thanks"]
    assert said == expected
    turns = [t for t in build("c", events).turns if t.kind == "visitor"]
    assert [t.text for t in turns] == expected
    assert [t.event_id for t in turns] == [1, 2, 3, 4, 5]
