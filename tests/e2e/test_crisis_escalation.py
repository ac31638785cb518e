"""After the crisis reply, "not safe" escalates to 911 at once; it never softens (REST, real servers)."""

from __future__ import annotations

import uuid

import pytest
from servers import Stack


def _texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def _first_button(replies: list[dict]) -> dict:
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert buttons, f"no buttons in {replies}"
    return buttons[0]


def _assert_emergency(replies: list[dict]) -> None:
    text = _texts(replies)
    assert "call 911 right now" in text.lower(), text
    assert "staying right here with you" in text
    assert _first_button(replies) == {"title": "Call 911", "payload": "tel:911"}
    assert "I'll keep these here" not in text  # never the soft reply


def _in_crisis_mid_assessment(live: Stack) -> str:
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "I want help to stop drinking")
    replies = live.say(sender, "I took all my pills")
    assert "Are you safe right now?" in _texts(replies)
    return sender


@pytest.mark.parametrize(
    "reply",
    ["no", "not really", "nope", "I already took them", "no I'm not safe", "i dont know", "idk"],
)
def test_not_safe_after_the_crisis_reply_gets_911_first(live: Stack, reply: str) -> None:
    """The issue's case: "I took all my pills", then "no" to "Are you safe right now?"."""
    sender = _in_crisis_mid_assessment(live)
    _assert_emergency(live.say(sender, reply))
    slots = live.tracker(sender)["slots"]
    assert slots["crisis_active"] is True  # a "no" never ends the crisis flow


def test_the_crisis_flow_stays_until_the_visitor_is_safe(live: Stack) -> None:
    """Two "no"s in a row both escalate; "I'm safe" then resumes the assessment."""
    sender = _in_crisis_mid_assessment(live)
    _assert_emergency(live.say(sender, "no"))
    _assert_emergency(live.say(sender, "no"))
    resumed = _texts(live.say(sender, "I'm safe now, the ambulance came and I'm ok"))
    assert "glad" in resumed.lower()


def test_a_loved_one_who_wont_wake_up_gets_911_first(live: Stack) -> None:
    """Loved-one mode: "she won't wake up" after the crisis reply is the emergency step, about them."""
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "i'm asking for my daughter, she uses heroin")
    crisis = _texts(live.say(sender, "she just took a bunch of pills"))
    assert "Are you safe right now?" in crisis
    replies = live.say(sender, "she won't wake up")
    _assert_emergency(replies)
    assert "stay with them" in _texts(replies)


@pytest.mark.parametrize("reply", ["he's not breathing", "no"])
def test_a_loved_ones_emergency_after_a_first_message_crisis(live: Stack, reply: str) -> None:
    """A crisis as the very first message, then "he's not breathing" or "no": 911 first."""
    sender = f"t-{uuid.uuid4().hex}"
    first = live.say(sender, "my brother overdosed on fentanyl")
    assert "Are you safe right now?" in _texts(first)
    _assert_emergency(live.say(sender, reply))


def test_the_first_crisis_message_always_gets_the_full_crisis_reply(live: Stack) -> None:
    """At the start, and again after "I'm safe": 988, SAMHSA and "Are you safe right now?"."""
    sender = f"t-{uuid.uuid4().hex}"
    first = _texts(live.say(sender, "i want to kill myself"))
    assert "Are you safe right now?" in first and "1-800-662-4357" in first
    live.say(sender, "I'm safe now")
    again = _texts(live.say(sender, "i took a whole bottle of pills"))
    assert "Are you safe right now?" in again and "988" in again
