"""The custom actions, run on real trackers with the real domain and facility.yml."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import ASK_ACTIONS, ValidateAssessmentForm
from actions.facts import ActionExtractFacts
from actions.fallback import ActionDefaultAskAffirmation
from actions.fit import ActionScoreFit
from actions.handoff import (
    ActionAnswerCost,
    ActionAskCallbackPhone,
    ActionHandoff,
    ActionSubmitCallback,
    ValidateCallbackForm,
    new_reference_code,
)
from actions.privacy import ActionConfirmForgetMe, ActionForgetMe


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _said(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)


async def test_one_message_fills_several_slots(make_tracker, dispatcher, domain) -> None:
    """ "I work 9-5 Mon–Fri and have two kids" fills work, busy hours and caregiving at once."""
    tracker = make_tracker("I work 9-5 Mon-Fri and have two kids", "inform_work_school")
    slots = _slots(await ActionExtractFacts().run(dispatcher, tracker, domain))
    assert slots["work_school"]
    assert slots["busy_schedule"]["mon"] == [["09:00", "17:00"]]
    assert "child" in slots["caregiving"]


async def test_yes_answers_the_screening_question_being_asked(make_tracker, dispatcher, domain):
    """A plain "yes" fills only the question that was asked."""
    tracker = make_tracker(
        "yes", "affirm", {"requested_slot": "screen_relapse"}, active_loop="assessment_form"
    )
    assert _slots(await ActionExtractFacts().run(dispatcher, tracker, domain)) == {
        "screen_relapse": True
    }


async def test_correction_replaces_earlier_work_hours(make_tracker, dispatcher, domain) -> None:
    """ "actually I work nights" replaces 9-to-5 rather than adding to it."""
    earlier = {"work_school": "works Mon–Fri", "busy_schedule": {"mon": [["09:00", "17:00"]]}}
    tracker = make_tracker("actually I work nights", "inform_work_school", earlier)
    slots = _slots(await ActionExtractFacts().run(dispatcher, tracker, domain))
    assert ["09:00", "17:00"] not in slots["busy_schedule"].get("mon", [])


async def test_crisis_message_fills_nothing(make_tracker, dispatcher, domain) -> None:
    """A crisis message is not mined for assessment answers."""
    tracker = make_tracker("I work 9-5 and I want to die", "crisis")
    assert await ActionExtractFacts().run(dispatcher, tracker, domain) == []


async def test_callback_answers_are_not_read_as_free_time(make_tracker, dispatcher, domain):
    """ "after 6pm" as a callback time does not change the visitor's availability."""
    tracker = make_tracker(
        "after 6pm", "inform_schedule", {"requested_slot": "callback_best_time"}, "callback_form"
    )
    assert await ActionExtractFacts().run(dispatcher, tracker, domain) == []


@pytest.mark.parametrize(
    ("attempt", "expect"),
    [(1, "When are you usually free"), (2, "For example"), (3, "833-820-2922")],
)
async def test_unclear_answer_is_reasked_with_example_then_buttons(
    make_tracker, domain, attempt: int, expect: str
) -> None:
    """First ask, then an example, then buttons and the phone number."""
    ask = next(a for a in ASK_ACTIONS if a().name() == "action_ask_availability")()
    tracker = make_tracker(
        "blah", "nlu_fallback", {"ask_counts": {"availability": attempt - 1}}, "assessment_form"
    )
    dispatcher = CollectingDispatcher()
    events = await ask.run(dispatcher, tracker, domain)
    assert expect in _said(dispatcher)
    assert _slots(events)["ask_counts"]["availability"] == attempt
    if attempt >= 3:
        payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
        assert "tel:+18338202922" in payloads


async def test_loved_one_mode_asks_about_them(make_tracker, dispatcher, domain) -> None:
    """In loved-one mode the questions are about "them"."""
    ask = next(a for a in ASK_ACTIONS if a().name() == "action_ask_caregiving")()
    tracker = make_tracker("", "for_someone_else", {"visitor_role": "loved_one"}, "assessment_form")
    await ask.run(dispatcher, tracker, domain)
    assert "depend on them" in _said(dispatcher)


async def test_digression_is_not_swallowed_by_the_form(make_tracker, dispatcher, domain) -> None:
    """ "what is IOP?" mid-form returns no slot, so Rasa lets the digression rule answer."""
    tracker = make_tracker(
        "what is iop", "ask_program_info", {"requested_slot": "payment"}, "assessment_form"
    )
    events = await ValidateAssessmentForm().run(dispatcher, tracker, domain)
    assert not [e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"]


NIGHT_SHIFTS = {
    "work_school": "works Thu–Sat 19:00–7:00",
    "busy_schedule": {"thu": [["19:00", "24:00"]], "fri": [["00:00", "07:00"], ["19:00", "24:00"]]},
}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("is this confidential? i don't want my job finding out", "ask_confidentiality"),
        ("my job is so stressful honestly", "inform_work_school"),
    ],
)
async def test_a_passing_mention_of_work_keeps_the_hours_given(
    make_tracker, dispatcher, domain, text: str, intent: str
) -> None:
    """A question or a bare "my job" is not a new answer: the night shifts stay on file."""
    slots = {**NIGHT_SHIFTS, "requested_slot": "availability"}
    tracker = make_tracker(text, intent, slots, "assessment_form")
    filled = _slots(await ActionExtractFacts().run(dispatcher, tracker, domain))
    assert "work_school" not in filled and "busy_schedule" not in filled


async def test_a_question_that_carries_a_fact_is_answered_and_the_fact_kept(
    make_tracker, dispatcher, domain
) -> None:
    """ "i have aetna, will it cover iop?" keeps Aetna, and the form steps aside for the answer."""
    text = "i have aetna, will it cover iop?"
    tracker = make_tracker(text, "ask_cost", {"requested_slot": "payment"}, "assessment_form")
    extracted = await ActionExtractFacts().run(dispatcher, tracker, domain)
    assert _slots(extracted) == {"payment": "insurance", "payer": "Aetna"}
    tracker.events.extend(extracted)
    tracker.slots.update(_slots(extracted))
    events = await ValidateAssessmentForm().run(dispatcher, tracker, domain)
    assert _slots(events)["payment"] == "insurance"
    assert any(e.get("event") == "action_execution_rejected" for e in events)


async def test_a_correction_is_confirmed_before_the_next_question(
    make_tracker, dispatcher, domain
) -> None:
    """ "actually I work Thu–Sat, not Wed" gets "I've updated that" with the new hours."""
    text = "actually wait, i work 7pm to 7am thursday friday saturday, not wednesday"
    slots = {"work_school": "works 12-hour night shifts Wed–Fri 19:00–7:00"}
    tracker = make_tracker(text, "inform_work_school", slots, "assessment_form")
    tracker.events[:0] = [
        {"event": "slot", "name": "work_school", "value": slots["work_school"]},
        {"event": "slot", "name": "assessment_started", "value": True},
    ]
    extracted = await ActionExtractFacts().run(dispatcher, tracker, domain)
    tracker.events.extend(extracted)
    tracker.slots.update(_slots(extracted))
    ask = next(a for a in ASK_ACTIONS if a().name() == "action_ask_screen_withdrawal")
    await ask().run(dispatcher, tracker, domain)
    said = _said(dispatcher)
    assert "I've updated that. Work/school: works Thu–Sat 19:00–7:00" in said
    assert said.index("updated") < said.index("withdrawal")


async def test_an_answer_given_before_the_first_question_is_not_called_an_update(
    make_tracker, dispatcher, domain
) -> None:
    """ "how much is it without insurance?" then "money is tight" as the form starts: no notice."""
    tracker = make_tracker("i dont have insurance and money is tight", "inform_cost")
    tracker.events[:0] = [{"event": "slot", "name": "payment", "value": "no_insurance"}]
    tracker.events.extend(await ActionExtractFacts().run(dispatcher, tracker, domain))
    ask = next(a for a in ASK_ACTIONS if a().name() == "action_ask_work_school")
    await ask().run(dispatcher, tracker, domain)
    assert "updated" not in _said(dispatcher)


async def test_a_first_answer_is_not_called_an_update(make_tracker, dispatcher, domain) -> None:
    tracker = make_tracker("i work 9 to 5", "inform_work_school", None, "assessment_form")
    tracker.events.extend(await ActionExtractFacts().run(dispatcher, tracker, domain))
    ask = next(a for a in ASK_ACTIONS if a().name() == "action_ask_caregiving")
    await ask().run(dispatcher, tracker, domain)
    assert "updated" not in _said(dispatcher)


ANSWERS = {
    "readiness": "ready",
    "payment": "insurance",
    "payer": "Aetna",
    "work_school": "works Mon–Fri 09:00–17:00",
    "busy_schedule": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "caregiving": "children",
    "availability": {d: [["17:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "screen_daily_use": True,
    "screen_withdrawal": False,
    "screen_relapse": True,
    "screen_home_unsafe": False,
}


async def test_score_fit_sets_contract_slots_and_explains(make_tracker, dispatcher, domain):
    """A 9-to-5 worker with two yes answers gets IOP (evening track), explained plainly."""
    events = await ActionScoreFit().run(dispatcher, make_tracker(slots=ANSWERS), domain)
    slots = _slots(events)
    assert slots["recommended_program"] == "iop"
    assert set(slots["program_fit"]) >= {"php", "iop", "op", "residential"}
    assert slots["program_fit"]["iop"]["fits"] is True
    assert 0 <= slots["program_fit"]["php"]["score"] <= 100
    assert slots["assessment_complete"] is True
    said = _said(dispatcher)
    assert "evening" in said.lower()
    assert "Aetna" in said  # the summary repeats what the visitor told


@pytest.mark.parametrize(
    ("clock", "open_"),
    [("2026-12-01T15:00:00+00:00", True), ("2026-12-06T15:00:00+00:00", False)],
    ids=["tuesday-10am-open", "sunday-closed"],
)
async def test_handoff_knows_the_hours(make_tracker, dispatcher, domain, monkeypatch, clock, open_):
    """Open: call now. Closed: when it opens and a callback offer. Always a code and tel: link."""
    monkeypatch.setenv("ADMISSIONS_CLOCK", clock)
    events = await ActionHandoff().run(dispatcher, make_tracker(), domain)
    text = _said(dispatcher)
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert "tel:+18338202922" in payloads and "/request_callback" in payloads
    assert ("open now" in text.lower()) is open_
    if not open_:
        assert "opens" in text  # when the line opens next
    assert re.search(r"code [A-Z0-9]{3}-[A-Z0-9]{2}", text)
    assert _slots(events)["reference_code"]


async def test_cost_answer_never_promises_or_invents_prices(make_tracker, dispatcher, domain):
    """Lists accepted plans, says benefits are verified, quotes no price the facility lacks."""
    await ActionAnswerCost().run(dispatcher, make_tracker(), domain)
    text = _said(dispatcher)
    assert "verify your benefits" in text
    assert "$" not in text
    assert "can't promise" in text


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("212-555-0187", "+12125550187"),
        ("(212) 555-0187", "+12125550187"),
        ("+1 212 555 0187", "+12125550187"),
        ("2125550187", "+12125550187"),
        ("212.555.0187", "+12125550187"),
        ("my cell is 1 (212) 555-0187", "+12125550187"),
        ("555-123-4567", None),  # no area code 555
        ("212-155-0187", None),  # exchange codes never start with 1
        ("12345", None),
        ("call me maybe", None),
        ("011 212 555 0187", None),  # dialled abroad: not a US number
        ("+44 20 7946 0958", None),  # admissions calls US numbers
    ],
)
async def test_phone_numbers_are_read_in_any_common_format(
    raw: str, stored: str | None, make_tracker, dispatcher, domain
) -> None:
    """US numbers as people type them are stored as E.164; anything else is refused."""
    result = ValidateCallbackForm().validate_callback_phone(
        raw, dispatcher, make_tracker(raw, "out_of_scope"), domain
    )
    assert result["callback_phone"] == stored


async def test_a_number_and_a_best_time_in_one_message(make_tracker, dispatcher, domain) -> None:
    """Issue 13 §2: "you can reach me at (412) 555-0143, best after 1pm" fills the number and
    the best time, and the confirmation reads both back in the visitor's own format."""
    text = "you can reach me at (412) 555-0143, best after 1pm"
    slots = ValidateCallbackForm().validate_callback_phone(
        text, dispatcher, make_tracker(text, "out_of_scope"), domain
    )
    assert slots == {"callback_phone": "+14125550143", "callback_best_time": "after 1 PM"}
    tracker = make_tracker(
        "no", "deny", {"callback_consent": True, "callback_name": "Sam", **slots}
    )
    events = await ActionSubmitCallback().run(dispatcher, tracker, domain)
    said = _said(dispatcher)
    assert "I'll ask admissions to call (412) 555-0143 after 1 PM." in said
    assert "+1412" not in said
    assert _slots(events)["reference_code"] in said


def _phone_tracker(make_tracker, answers: list[str], slots: dict[str, Any]) -> Any:
    """A callback form at the phone question, after each of ``answers`` was refused."""
    tracker = make_tracker(
        answers[-1] if answers else "Sam", "out_of_scope", slots, "callback_form"
    )
    events: list[dict[str, Any]] = [
        {"event": "slot", "name": "requested_slot", "value": "callback_name"},
        {"event": "user", "text": "Sam"},
        {"event": "slot", "name": "callback_name", "value": "Sam"},
        {"event": "slot", "name": "requested_slot", "value": "callback_phone"},
    ]
    for answer in answers:
        events += [
            {"event": "bot", "text": "What number should we call?"},
            {"event": "user", "text": answer},
            {"event": "slot", "name": "callback_phone", "value": answer},
            {"event": "slot", "name": "callback_phone", "value": None},
            {"event": "slot", "name": "requested_slot", "value": "callback_phone"},
        ]
    tracker.events = events
    return tracker


async def test_the_phone_question_gives_an_example(make_tracker, dispatcher, domain) -> None:
    """The first time, one plain question with an example number."""
    tracker = _phone_tracker(make_tracker, [], {"callback_name": "Sam"})
    await ActionAskCallbackPhone().run(dispatcher, tracker, domain)
    assert len(dispatcher.messages) == 1
    assert _said(dispatcher) == (
        "What number should we call? A US number with its area code, for example (212) 555-0187."
    )


async def test_a_bad_number_gets_one_clear_reask_and_keeps_the_rest(
    make_tracker, dispatcher, domain
) -> None:
    """ "412 555, after 6pm": the number is refused, the best time is kept, and the visitor
    gets one message that says what was wrong, with an example, and what is kept."""
    text = "412 555, after 6pm"
    form = ValidateCallbackForm()
    slots = form.validate_callback_phone(text, dispatcher, make_tracker(text), domain)
    assert slots == {"callback_phone": None, "callback_best_time": "after 6 PM"}
    assert dispatcher.messages == []  # the validation itself says nothing: the re-ask does
    tracker = _phone_tracker(
        make_tracker, [text], {"callback_consent": True, "callback_name": "Sam", **slots}
    )
    await ActionAskCallbackPhone().run(dispatcher, tracker, domain)
    assert len(dispatcher.messages) == 1
    said = _said(dispatcher)
    assert said.startswith("I couldn't read a US phone number there.")
    assert "for example (212) 555-0187" in said
    assert "I've kept your name and the best time to call." in said
    assert not dispatcher.messages[0].get("buttons")
    assert tracker.get_slot("callback_name") == "Sam"


async def test_a_second_bad_number_also_offers_the_line(make_tracker, dispatcher, domain) -> None:
    """Refused twice: the same clear re-ask, and the admissions line to call instead."""
    tracker = _phone_tracker(make_tracker, ["12345", "call me"], {"callback_name": "Sam"})
    await ActionAskCallbackPhone().run(dispatcher, tracker, domain)
    said = _said(dispatcher)
    assert "I couldn't read a US phone number there." in said
    assert "call admissions yourself at 833-820-2922" in said
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Call 833-820-2922", "payload": "tel:+18338202922"}
    ]


async def test_talk_to_a_person_after_booking_shows_the_booking(
    make_tracker, dispatcher, domain
) -> None:
    """Once a callback is booked, "Talk to a person" shows when they'll be called, the code and
    the line, and never offers to book again."""
    booked = {
        "callback_requested": True,
        "callback_consent": True,
        "callback_name": "Sam",
        "callback_phone": "+14125550143",
        "callback_best_time": "after 1 PM",
        "reference_code": "K7F-2Q",
    }
    tracker = make_tracker("/request_human", "request_human", booked)
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    said = _said(dispatcher)
    assert "You've asked admissions to call you at (412) 555-0143 after 1 PM." in said
    assert "Your reference code is K7F-2Q." in said
    assert "833-820-2922" in said
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons == [{"title": "Call 833-820-2922", "payload": "tel:+18338202922"}]
    assert events == []  # the code stays the same


async def test_talk_to_a_person_before_booking_offers_a_callback(
    make_tracker, dispatcher, domain
) -> None:
    """Before any booking the handoff still offers to book one."""
    await ActionHandoff().run(dispatcher, make_tracker("/request_human", "request_human"), domain)
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert "/request_callback" in payloads


async def test_declined_consent_stores_nothing(make_tracker, dispatcher, domain) -> None:
    """Saying no to the callback clears every callback slot and asks nothing more."""
    tracker = make_tracker("no", "deny", {"callback_consent": False})
    assert (
        await ValidateCallbackForm().required_slots(
            ["callback_consent"], dispatcher, tracker, domain
        )
        == []
    )
    slots = _slots(await ActionSubmitCallback().run(dispatcher, tracker, domain))
    assert slots["callback_requested"] is False
    assert slots["callback_phone"] is None and slots["callback_name"] is None


async def test_callback_confirmation_gives_a_reference_code(make_tracker, dispatcher, domain):
    """The visitor gets a code to mention; the request is marked for the staff queue."""
    tracker = make_tracker(
        "yes",
        "affirm",
        {"callback_consent": True, "callback_name": "Sam", "callback_phone": "+12125550187"},
    )
    slots = _slots(await ActionSubmitCallback().run(dispatcher, tracker, domain))
    assert slots["callback_requested"] is True
    assert slots["reference_code"] in _said(dispatcher)


def test_reference_codes_are_readable_and_vary() -> None:
    """Codes look like K7F-2Q, avoid look-alike characters, and rarely repeat."""
    codes = {new_reference_code() for _ in range(500)}
    assert len(codes) > 490
    assert all(re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{2}", c) for c in codes)
    assert not any(ch in c for c in codes for ch in "0O1IL")


def _after_question(tracker: Any, asked_by: str = "action_confirm_forget_me") -> Any:
    """``tracker`` as it is when its latest message answers a question asked by ``asked_by``."""
    latest = tracker.events[-1]
    tracker.events = [
        {"event": "user", "text": "forget me", "parse_data": {"intent": {"name": "forget_me"}}},
        {"event": "action", "name": "action_extract_slots"},
        {"event": "action", "name": asked_by},
        {"event": "bot", "text": "Just to be sure before I delete anything..."},
        {"event": "action", "name": "action_listen"},
        latest,
        {"event": "action", "name": "action_extract_slots"},
    ]
    return tracker


async def test_forget_me_asks_first_and_says_what_would_be_deleted(
    make_tracker, dispatcher, domain
) -> None:
    """Issue 15 #12: the forget-me intent alone deletes nothing; it names what would go."""
    slots = {
        "callback_requested": True,
        "callback_phone": "(555) 555-0103",
        "crisis_detected": True,
    }
    tracker = make_tracker("forget me", "forget_me", slots, active_loop="callback_form")
    events = await ActionConfirmForgetMe().run(dispatcher, tracker, domain)
    assert "forget_requested" not in _slots(events)
    assert events == [{"event": "active_loop", "timestamp": None, "name": None}]  # form paused
    said = _said(dispatcher)
    assert "this whole conversation" in said and "callback request" in said
    assert "(555) 555-0103" in said and "can't be undone" in said
    buttons = dispatcher.messages[0]["buttons"]
    assert [(b["title"], b["payload"]) for b in buttons] == [
        ("Yes, delete it", "/affirm"),
        ("No, keep it", "/deny"),
    ]


async def test_forget_me_question_without_a_callback_names_only_the_conversation(
    make_tracker, dispatcher, domain
) -> None:
    await ActionConfirmForgetMe().run(dispatcher, make_tracker("delete this", "forget_me"), domain)
    assert "callback" not in _said(dispatcher)
    assert "this whole conversation" in _said(dispatcher)


async def test_a_predicted_forget_me_without_the_question_deletes_nothing(
    make_tracker, dispatcher, domain
) -> None:
    """A misread message that reaches action_forget_me directly gets the question instead."""
    slots = {"callback_requested": True, "callback_phone": "(555) 555-0103"}
    for tracker in (
        make_tracker("forget the rest, I want to start", "forget_me", slots),
        make_tracker("yes", "affirm", slots),  # a yes to some other question
        _after_question(make_tracker("yes", "affirm", slots), asked_by="utter_ask_callback_phone"),
    ):
        said = CollectingDispatcher()
        events = await ActionForgetMe().run(said, tracker, domain)
        assert "forget_requested" not in _slots(events)
        assert not any(e.get("event") == "reset_slots" for e in events)
        assert "Do you want me to delete it?" in _said(said)


async def test_forget_me_deletes_after_a_yes_to_its_question(make_tracker, dispatcher, domain):
    """The visitor is told, and the transcript is flagged for the deletion job."""
    tracker = _after_question(make_tracker("yes", "affirm"))
    events = await ActionForgetMe().run(dispatcher, tracker, domain)
    assert _slots(events)["forget_requested"] is True
    assert any(e.get("event") == "reset_slots" for e in events)
    assert "deleted" in _said(dispatcher)


async def test_a_no_to_the_forget_me_question_deletes_nothing(make_tracker, dispatcher, domain):
    tracker = _after_question(make_tracker("no keep it", "deny"))
    events = await ActionForgetMe().run(dispatcher, tracker, domain)
    assert "forget_requested" not in _slots(events)


async def test_fallback_offers_a_plain_language_guess(make_tracker, dispatcher, domain) -> None:
    """ "Did you mean…?" uses words, not intent names."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_cost", "confidence": 0.4},
    ]
    await ActionDefaultAskAffirmation().run(
        dispatcher, make_tracker("how much $$", "nlu_fallback", ranking=ranking), domain
    )
    assert "cost" in _said(dispatcher)
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/ask_cost"


async def test_dangerous_withdrawal_history_gets_a_warning_once(make_tracker, domain) -> None:
    """Seizures before: warn not to stop alone, once, before the next question."""
    ask = next(a for a in ASK_ACTIONS if a().name() == "action_ask_payment")()
    first = CollectingDispatcher()
    slots = {"severe_withdrawal": True}
    events = await ask.run(first, make_tracker("i had seizures", "ready_to_start", slots), domain)
    assert first.messages[0]["response"] == "utter_withdrawal_warning"
    assert _slots(events)["withdrawal_warned"] is True
    again = CollectingDispatcher()
    slots["withdrawal_warned"] = True
    await ask.run(again, make_tracker("aetna", "inform_cost", slots), domain)
    assert all(m.get("response") != "utter_withdrawal_warning" for m in again.messages)


@pytest.mark.parametrize(
    ("text", "intent", "rejected"),
    [
        ("fine", "goodbye", False),  # an answer the classifier took for a goodbye
        ("it's fine", "thanks", False),
        ("fine, bye", "goodbye", True),  # a goodbye in words still leaves
        ("fine? how much does it cost", "ask_cost", True),  # a question is still answered
    ],
)
async def test_an_answer_to_the_question_asked_is_not_sent_elsewhere(
    make_tracker, dispatcher, domain, text: str, intent: str, rejected: bool
) -> None:
    """The form keeps a reply that answers its question, whatever the intent guessed."""
    tracker = make_tracker(
        text, intent, {"requested_slot": "screen_home_unsafe"}, "assessment_form"
    )
    tracker.events.append({"event": "slot", "name": "screen_home_unsafe", "value": False})
    tracker.slots["screen_home_unsafe"] = False
    events = await ValidateAssessmentForm().run(dispatcher, tracker, domain)
    assert any(e.get("event") == "action_execution_rejected" for e in events) is rejected


KINDERGARTEN_VISITOR = {
    "readiness": "ready",
    "payment": "insurance",
    "work_school": "none",
    "caregiving": "child",
    "availability": {d: [["08:30", "12:30"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "availability_confirmed": True,
    "screen_daily_use": True,
    "screen_withdrawal": True,
    "screen_relapse": False,
    "screen_home_unsafe": False,
}


async def test_a_near_miss_is_asked_before_scoring_and_a_yes_makes_it_fit(
    make_tracker, dispatcher, domain
) -> None:
    """Kindergarten hours half an hour short of IOP mornings: one question, then IOP fits."""
    from actions.assessment import ActionAskNearMissOk
    from actions.fit import ActionScoreFit

    form = ValidateAssessmentForm()
    tracker = make_tracker("no", "deny", {**KINDERGARTEN_VISITOR}, "assessment_form")
    slots = await form.required_slots(form.domain_slots(domain), dispatcher, tracker, domain)
    assert slots[-1] == "near_miss_ok"
    await ActionAskNearMissOk().run(dispatcher, tracker, domain)
    assert "Could you be free until 1 PM on those days?" in _said(dispatcher)

    answer = make_tracker(
        "yeah i could", "affirm", {**KINDERGARTEN_VISITOR, "requested_slot": "near_miss_ok"},
        "assessment_form",
    )  # fmt: skip
    filled = _slots(await ActionExtractFacts().run(dispatcher, answer, domain))
    assert filled["near_miss_ok"] is True
    assert filled["availability"]["mon"] == [["08:30", "13:00"]]
    scored = make_tracker("", "affirm", {**KINDERGARTEN_VISITOR, **filled})
    result = _slots(await ActionScoreFit().run(CollectingDispatcher(), scored, domain))
    assert result["recommended_program"] == "iop"


async def test_the_answer_to_a_work_follow_up_resolves_after_my_shift(
    make_tracker, dispatcher, domain
) -> None:
    """ "after my shift" with no hours on file asks when the shift ends; the answer resolves it."""
    first = make_tracker("after my shift", "inform_schedule", {"requested_slot": "availability"})
    first.active_loop = {"name": "assessment_form"}
    asked = _slots(await ActionExtractFacts().run(dispatcher, first, domain))
    assert asked["clarify"]["kind"] == "after_work" and "shift" in asked["clarify"]["text"]
    answer = make_tracker(
        "7 to 3 monday to friday", "inform_work_school",
        {"requested_slot": "availability", "clarify": asked["clarify"]}, "assessment_form",
    )  # fmt: skip
    slots = _slots(await ActionExtractFacts().run(dispatcher, answer, domain))
    assert slots["busy_schedule"]["mon"] == [["07:00", "15:00"]]
    assert slots["availability"]["fri"] == [["15:00", "22:00"]]
    assert slots.get("clarify") is None
