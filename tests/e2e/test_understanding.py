"""Answers read next to their question, over REST through real Rasa and action servers."""

from __future__ import annotations

import uuid

import pytest
from servers import Stack


def _texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def _sender() -> str:
    return f"t-{uuid.uuid4().hex}"


@pytest.mark.parametrize(
    "reply", ["me", "myself", "for me", "for myself", "just me", "it's for me"]
)
def test_a_short_answer_to_the_greeting_starts_the_assessment_for_themselves(
    live: Stack, reply: str
) -> None:
    """ "myself" is not a crisis, "me" not a goodbye: both start the questions."""
    sender = _sender()
    live.say(sender, "hi")
    text = _texts(live.say(sender, reply))
    assert "Are you safe right now?" not in text
    assert "did you mean" not in text.lower()
    assert "how would you pay" in text.lower() or "how ready" in text.lower()
    slots = live.tracker(sender)["slots"]
    assert slots["crisis_detected"] is False and slots["visitor_role"] != "loved_one"


def _answer_until_fit(live: Stack, sender: str, answers: dict[str, str]) -> str:
    """Answer each question by its topic until the fit is explained; return every bot text."""
    said: list[str] = []
    replies = live.say(sender, answers["start"])
    for _ in range(20):
        text = _texts(replies)
        said.append(text)
        if "first look" in text:
            return "\n".join(said)
        lowered = text.lower()
        topic = next((t for t in answers if t != "start" and t in lowered), None)
        assert topic is not None, f"unexpected question: {text}"
        replies = live.say(sender, answers[topic])
    raise AssertionError("no fit after 20 turns:\n" + "\n".join(said))


def test_terse_visitor_in_one_to_three_words_gets_the_right_program(live: Stack) -> None:
    """Every answer in one to three words; the free time is read back and confirmed."""
    sender = _sender()
    live.say(sender, "hi")
    said = _answer_until_fit(
        live,
        sender,
        {
            "start": "me",
            "how ready": "asap",
            "how would you pay": "aetna",
            "work or go to school": "nope",
            "depend on you": "no one",
            "when are you usually free": "weekday mornings",
            "did i get that right": "yes",
            "every day": "yep",
            "withdrawal": "yeah",
            "tried to stop": "nope",
            "hard place": "fine",
            "could you be free": "yep",
        },
    )
    assert "So you're free weekdays 8 AM–noon. Did I get that right?" in said
    assert "didn't catch" not in said
    slots = live.tracker(sender)["slots"]
    assert slots["screen_home_unsafe"] is False
    # two yeses point to IOP; its 9-1 morning track runs an hour past noon: asked, and "yep"
    assert slots["recommended_program"] == "iop"


def test_no_with_a_reason_that_means_yes_is_read_by_its_content(live: Stack) -> None:
    """ "no — my brother still uses in the house" answers the home question with a yes."""
    sender = _sender()
    live.say(sender, "hi")
    _answer_until_fit(
        live,
        sender,
        {
            "start": "I want help for myself",
            "how ready": "ready now",
            "how would you pay": "cigna",
            "work or go to school": "I don't work",
            "depend on you": "nobody",
            "when are you usually free": "any time, every day",
            "did i get that right": "yes",
            "every day": "yes",
            "withdrawal": "no",
            "tried to stop": "no",
            "hard place": "no — my brother still uses in the house",
        },
    )
    assert live.tracker(sender)["slots"]["screen_home_unsafe"] is True


def test_free_time_by_the_kindergarten_schedule_and_a_near_miss_rescored(live: Stack) -> None:
    """Kindergarten 8:30–12:30, "whenever he's at kindergarten", then "yes" to 9–1: IOP."""
    sender = _sender()
    live.say(sender, "hi")
    said = _answer_until_fit(
        live,
        sender,
        {
            "start": "for me",
            "how ready": "i want to start soon",
            "how would you pay": "blue cross",
            "work or go to school": "no",
            "depend on you": "my son, he's at kindergarten 8:30 to 12:30 on weekdays",
            "when are you usually free": "whenever my son's at kindergarten",
            "did i get that right": "yes",
            "every day": "yes",
            "withdrawal": "yes, the shakes",
            "tried to stop": "no",
            "hard place": "no",
            "could you be free": "yes",
        },
    )
    assert "So you're free weekdays 8:30 AM–12:30 PM" in said
    assert "Could you be free until 1 PM on those days?" in said
    slots = live.tracker(sender)["slots"]
    assert slots["recommended_program"] == "iop"
    assert slots["program_fit"]["iop"]["track"] == "morning"


def test_changing_the_read_back_asks_the_free_time_again(live: Stack) -> None:
    """[Change it] goes back to the free-time question, asked plainly (not "didn't catch")."""
    sender = _sender()
    live.say(sender, "hi")
    for reply in ("me", "ready now", "medicaid", "I don't work", "no one", "evenings"):
        replies = live.say(sender, reply)
    assert "Did I get that right?" in _texts(replies)
    again = _texts(live.say(sender, "/deny"))
    assert "When are you usually free" in again and "didn't catch" not in again
    fixed = _texts(live.say(sender, "mornings"))
    assert "So you're free every day 8 AM–noon" in fixed
