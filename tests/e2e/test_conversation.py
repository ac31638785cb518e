"""A real visitor conversation over the REST channel, through real Rasa and action servers."""

from __future__ import annotations

import uuid

from servers import Stack

PHONE = "833-820-2922"


def _texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def _buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons", [])]


def test_greeting_names_the_admissions_line(live: Stack) -> None:
    """The first answer to "hi" says who the assistant is and gives the number."""
    replies = live.say(f"t-{uuid.uuid4().hex}", "hi")
    text = _texts(replies)
    assert PHONE in text
    assert "not a clinician" in text
    assert any(b["payload"] == "tel:+18338202922" for b in _buttons(replies))


def test_full_assessment_recommends_and_hands_off(live: Stack) -> None:
    """A 9-to-5 worker with kids who drinks daily and relapsed gets IOP, evening track."""
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "hi")
    first = live.say(sender, "I work 9-5 monday to friday and I have two kids")
    assert "work or go to school" not in _texts(first).lower()  # volunteered: not asked again
    script = [
        "I want to start as soon as possible",
        "I have Aetna through my job",
        "I'm free weekday evenings after 5",
        "yes that's right",
        "yes",
        "no",
        "yes",
        "no",
    ]
    replies: list[dict] = []
    for message in script:
        replies = live.say(sender, message)
    text = _texts(replies)
    assert PHONE in text
    assert any(b["payload"].startswith("tel:") for b in _buttons(replies))
    slots = live.tracker(sender)["slots"]
    assert slots["recommended_program"] == "iop"
    assert slots["program_fit"]["iop"]["fits"] is True
    assert slots["program_fit"]["php"]["fits"] is False
    assert slots["crisis_detected"] is False
    assert slots["reference_code"]
    assert "provisional" in text.lower() or "confirm" in text.lower()


def test_crisis_mid_assessment_interrupts_then_resumes(live: Stack) -> None:
    """A crisis message inside the form gets the crisis reply at once; "I'm safe" resumes."""
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "I want help to stop drinking")
    replies = live.say(sender, "honestly i just want to kill myself")
    text = _texts(replies)
    assert "988" in text and "911" in text and "1-800-662-4357" in text
    assert live.tracker(sender)["slots"]["crisis_detected"] is True
    still = live.say(sender, "no")  # "no" to "Are you safe right now?": the emergency step
    assert "call 911 right now" in _texts(still).lower()
    assert [b["payload"] for b in _buttons(still)][:2] == ["tel:911", "tel:988"]
    resumed = _texts(live.say(sender, "I'm safe now, I promise"))
    assert "glad" in resumed.lower()
    assert live.tracker(sender)["active_loop"].get("name") == "assessment_form"


def test_questions_mid_form_are_answered_and_keep_what_was_said(live: Stack) -> None:
    """A question carrying a fact is answered, the fact kept; a question never erases an answer."""
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "I want help to stop drinking, as soon as possible")
    cost = _texts(live.say(sender, "i have aetna, will it cover iop?"))
    assert "verify your benefits" in cost  # the cost question is answered...
    assert "how would you pay" not in cost.lower()  # ...Aetna is kept, not asked again
    assert "work or go to school" in cost.lower()  # and the form goes on
    live.say(sender, "i work 7pm to 7am thursday friday saturday")
    private = _texts(live.say(sender, "is this confidential? i don't want my job finding out"))
    assert "42 CFR Part 2" in private
    slots = live.tracker(sender)["slots"]
    assert slots["payer"] == "Aetna"
    assert slots["work_school"]["kind"] == "work"  # work as data: the days as said, not a sentence
    assert slots["work_school"]["job_hours"][0]["days"] == ["thu", "fri", "sat"]
    assert slots["busy_schedule"]["fri"] == [["00:00", "07:00"], ["19:00", "24:00"]]
    fixed = _texts(live.say(sender, "actually i work fri sat sun nights, 7pm to 7am"))
    assert "I've updated that. Work/school: works Fri–Sun" in fixed
    assert live.tracker(sender)["slots"]["busy_schedule"].get("thu") is None


def test_a_loved_ones_seizure_history_gets_the_withdrawal_warning_not_the_crisis_reply(
    live: Stack,
) -> None:
    """ "he once had a seizure when he stopped" is history: warn about detox, keep assessing."""
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "i'm asking for my husband, he says he wants to stop drinking")
    replies = _texts(
        live.say(sender, "he gets really shaky and once had a seizure when he stopped")
    )
    assert "don't stop alone without medical help" in replies
    assert "Are you safe right now?" not in replies
    slots = live.tracker(sender)["slots"]
    assert slots["severe_withdrawal"] is True and slots["crisis_detected"] is False
    assert live.tracker(sender)["active_loop"].get("name") == "assessment_form"


def test_mentioning_someone_else_mid_assessment_does_not_switch_to_loved_one_mode(
    live: Stack,
) -> None:
    """ "my husband drinks every night too" mid-form is about home, not a request for him."""
    sender = f"t-{uuid.uuid4().hex}"
    live.say(sender, "I want help to stop drinking, as soon as possible")
    reply = _texts(live.say(sender, "my husband drinks every night too"))
    assert live.tracker(sender)["slots"]["visitor_role"] != "loved_one"
    assert "they" not in reply.lower().split()
