"""The "help admissions prepare" step (issue 16) over REST, through real Rasa and action servers.

The step is offered after the fit and after a booked callback; every question can be skipped;
a reply that can't be read gets one re-ask with an example and keeps what was given; a crisis
message inside it gets the crisis reply at once and the step does not resume over it.
"""

from __future__ import annotations

import uuid

from servers import Stack

OFFER = "Only our admissions team reads the answers"


def _texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def _titles(replies: list[dict]) -> list[str]:
    return [b["title"] for r in replies for b in r.get("buttons", [])]


def _slots(live: Stack, sender: str) -> dict:
    return dict(live.tracker(sender)["slots"])


def _until_the_offer(live: Stack, sender: str, first: str, answers: list[tuple[str, str]]) -> list:
    """Answer whatever the assessment asks (by the question's words) until the step is offered."""
    replies = live.say(sender, first)
    for _ in range(20):
        text = _texts(replies)
        if OFFER in text:
            return replies
        lowered = text.lower()
        said = next((a for cue, a in answers if cue in lowered), None)
        if said is None:
            said = "yes that's right" if "Yes, that's right" in _titles(replies) else "no"
        replies = live.say(sender, said)
    raise AssertionError(f"the fit never came:\n{_texts(replies)}")


def _assessment(live: Stack, sender: str) -> list[dict]:
    """A 9-to-5 worker with kids and Aetna finishes the assessment; returns the fit's replies."""
    live.say(sender, "hi")
    return _until_the_offer(
        live,
        sender,
        "I work 9-5 monday to friday and I have two kids",
        [
            ("how ready", "I want to start as soon as possible"),
            ("how would you pay", "I have Aetna through my job"),
            ("work or go to school", "I work 9-5 monday to friday"),
            ("depend on you", "my two kids"),
            ("usually free", "I'm free weekday evenings after 5"),
        ],
    )


def _loved_one_assessment(live: Stack, sender: str) -> list[dict]:
    """Someone asking for her husband (Cigna) answers whatever is asked until the fit."""
    return _until_the_offer(
        live,
        sender,
        "I'm asking for my husband, he drinks every day",
        [
            ("how ready", "he wants to start as soon as possible"),
            ("how would they pay", "he has Cigna through work"),
            ("work or go to school", "he works 9 to 5 monday to friday"),
            ("depend on them", "no one"),
            ("usually free", "he's free weekday evenings after 5"),
        ],
    )


def _book_callback(live: Stack, sender: str) -> list[dict]:
    """A callback booked (no voicemail, no texts); returns the booking's replies."""
    for message in ["/request_callback", "yes", "Sam", "212-555-0187", "after 6pm", "no"]:
        live.say(sender, message)
    return live.say(sender, "no")


def _answer(live: Stack, sender: str, steps: list[tuple[str, str]]) -> list[dict]:
    """Say each answer after checking the question asked before it mentions ``expect``."""
    replies: list[dict] = []
    for expect, answer in steps:
        replies = live.say(sender, answer)
        assert expect.lower() in _texts(replies).lower(), (answer, _texts(replies))
        assert "Skip" in _titles(replies) or "Thank you" in _texts(replies)
    return replies


def test_everything_given_after_the_fit(live: Stack) -> None:
    """The offer says why and who reads; every answer lands in the packet, normalised."""
    sender = f"p-{uuid.uuid4().hex}"
    fit = _assessment(live, sender)
    assert OFFER in _texts(fit) and "Yes, help admissions prepare" in _titles(fit)
    first = live.say(sender, "yes")
    assert "your first name" in _texts(first)
    dob = live.say(sender, "Sam")
    assert "date of birth" in _texts(dob)
    assert any((r.get("custom") or {}).get("input", {}).get("type") == "date" for r in dob)
    payer = live.say(sender, "March 14 1988")
    assert "You mentioned Aetna" in _texts(payer)  # known from the assessment: confirmed
    last = _answer(
        live,
        sender,
        [
            ("member ID", "yes"),
            ("group number", "XJ4-55821"),
            ("in your own name", "0045-12"),
            ("full name", "My spouse's or partner's"),
            ("date of birth", "Maria Lopez"),
            ("drink or use", "06/02/1985"),
            ("last drink or use", "alcohol and xanax"),
            ("mental-health care", "yesterday"),
            ("court-ordered", "no"),
            ("hear about us", "yes"),
            ("language", "my doctor"),
            ("call you or text", "Spanish"),
            ("good time", "text me"),
            ("won't have to repeat", "weekday mornings"),
        ],
    )
    assert "Ask admissions to call me" in _titles(last)  # no number yet: a callback is offered
    slots = _slots(live, sender)
    assert slots["handoff_packet_complete"] is True
    assert slots["crisis_detected"] is False  # dates and IDs never look like a crisis
    assert slots["callback_best_time"] == "weekday mornings"
    assert slots["handoff_packet"] == {
        "first_name": "Sam",
        "dob": "1988-03-14",
        "relationship": "self",
        "payer": "Aetna",
        "member_id": "XJ4-55821",
        "group_number": "0045-12",
        "subscriber_relationship": "spouse",
        "subscriber_name": "Maria Lopez",
        "subscriber_dob": "1985-06-02",
        "substances": ["alcohol", "benzodiazepines"],
        "last_use": "1-3 days",
        "mental_health_care": False,
        "court_mandated": True,
        "referral_source": "my doctor",
        "language": "Spanish",
        "callback_channel": "text",
        "skipped": [],
    }


def test_everything_skipped(live: Stack) -> None:
    """Every question offers Skip and takes "skip", "pass" or "rather not say"."""
    sender = f"p-{uuid.uuid4().hex}"
    _assessment(live, sender)
    replies = live.say(sender, "yes")
    words = ["skip", "pass", "rather not say"]
    asked = 0
    while "Skip" in _titles(replies) and asked < 20:
        replies = live.say(sender, words[asked % 3])
        asked += 1
    assert "Admissions will ask what they need" in _texts(replies)
    slots = _slots(live, sender)
    assert slots["handoff_packet_complete"] is True
    packet = slots["handoff_packet"]
    assert packet["relationship"] == "self"
    assert set(packet["skipped"]) >= {"first_name", "dob", "payer", "member_id", "substances"}
    assert not ({"subscriber_name", "subscriber_dob", "payer_other"} & set(packet["skipped"]))
    assert asked == len(packet["skipped"]) + 1  # the best time to call is skipped too


def test_bad_values_are_asked_again_once_and_nothing_is_lost(live: Stack) -> None:
    """A bad date and a bad member ID get one re-ask with an example; the rest is kept.

    Offered after a booked callback: the best time and the channel (no texts) are not asked.
    """
    sender = f"p-{uuid.uuid4().hex}"
    booked = _book_callback(live, sender)
    assert OFFER in _texts(booked)
    live.say(sender, "yes")
    live.say(sender, "Sam")
    again = _texts(live.say(sender, "02/30/1990"))
    assert "couldn't read that" in again and "03/14/1988" in again and "kept" in again
    live.say(sender, "1988-03-14")
    live.say(sender, "Cigna")
    again = _texts(live.say(sender, "12"))
    assert "XJ4-55821" in again and "member ID" in again
    group = _texts(live.say(sender, "W123456789"))
    assert "group number" in group
    done = _texts(live.say(sender, "no more questions please"))
    assert "Thank you" in done and "good time" not in done
    slots = _slots(live, sender)
    packet = slots["handoff_packet"]
    assert packet["first_name"] == "Sam" and packet["dob"] == "1988-03-14"
    assert packet["payer"] == "Cigna" and packet["member_id"] == "W123456789"
    assert packet["callback_channel"] == "phone"  # the callback form said: no texts
    assert "group_number" in packet["skipped"] and "substances" in packet["skipped"]
    assert slots["callback_best_time"] == "after 6 PM"  # from the callback form, kept
    assert slots["handoff_packet_complete"] is True


def test_loved_one_mode_asks_about_them(live: Stack) -> None:
    """Asking for a husband: questions about "them", the relationship, their own insurance."""
    sender = f"p-{uuid.uuid4().hex}"
    _loved_one_assessment(live, sender)
    assert "their first name" in _texts(live.say(sender, "yes"))
    assert "their date of birth" in _texts(live.say(sender, "Dan"))
    assert "How are you related to them" in _texts(live.say(sender, "07/04/1980"))
    assert "You mentioned Cigna" in _texts(live.say(sender, "my husband"))
    _answer(
        live,
        sender,
        [
            ("member ID on their", "yes"),
            ("group number", "skip"),
            ("in their own name", "skip"),
            ("do they mostly drink", "Yes, it's theirs"),
            ("did they last", "alcohol"),
            ("are they getting", "Today"),
            ("court-ordered", "no"),
            ("hear about us", "no"),
            ("language", "Web search"),
            ("call you or text", "English"),
            ("good time", "Call me"),
        ],
    )
    live.say(sender, "evenings")
    slots = _slots(live, sender)
    assert slots["visitor_role"] == "loved_one"
    packet = slots["handoff_packet"]
    assert packet["first_name"] == "Dan" and packet["dob"] == "1980-07-04"
    assert packet["relationship"] == "spouse_partner"
    assert packet["payer"] == "Cigna" and packet["subscriber_relationship"] == "self"
    assert "subscriber_name" not in packet  # their own plan: no subscriber questions
    assert packet["skipped"] == ["member_id", "group_number"]
    assert packet["callback_channel"] == "phone" and packet["last_use"] == "today"


def test_a_crisis_inside_the_step_gets_the_crisis_reply_and_the_step_does_not_resume(
    live: Stack,
) -> None:
    """The crisis reply comes at once, no question after it, and "I'm safe" does not resume."""
    sender = f"p-{uuid.uuid4().hex}"
    _book_callback(live, sender)
    live.say(sender, "yes")
    live.say(sender, "Sam")
    crisis = _texts(live.say(sender, "honestly i just want to kill myself"))
    assert "988" in crisis and "911" in crisis and "Are you safe right now?" in crisis
    assert "date of birth" not in crisis
    tracker = live.tracker(sender)
    assert not (tracker.get("active_loop") or {}).get("name")
    safe = _texts(live.say(sender, "I'm safe now"))
    assert "glad" in safe.lower() and "date of birth" not in safe
    slots = _slots(live, sender)
    assert slots["crisis_detected"] is True
    assert slots["handoff_packet"]["first_name"] == "Sam"  # what was given is kept
    assert slots["handoff_packet_complete"] is not True


def test_the_whole_step_can_be_declined(live: Stack) -> None:
    """ "No thanks" to the offer: nothing is asked, the step is over."""
    sender = f"p-{uuid.uuid4().hex}"
    _book_callback(live, sender)
    replies = live.say(sender, "/deny")
    assert "No problem" in _texts(replies) and "Skip" not in _titles(replies)
    slots = _slots(live, sender)
    assert slots["handoff_packet_complete"] is True
    assert slots["handoff_packet"]["skipped"][:2] == ["first_name", "dob"]
