"""The handoff packet form's validation and questions, on real rasa_sdk trackers and the domain."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.packet import ASK_ACTIONS, SLOTS, ValidateHandoffPacketForm


def _answer(
    domain: dict[str, Any],
    text: str,
    requested: str,
    slots: dict[str, Any] | None = None,
    intent: str = "out_of_scope",
) -> tuple[dict[str, Any], list[str]]:
    """The slot values the validator sets for ``text`` as the answer to ``requested``."""
    values = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    values.update({s: "skipped" for s in SLOTS[: SLOTS.index(requested)]})  # answered before
    values.update(slots or {}, requested_slot=requested)
    message = {"text": text, "intent": {"name": intent}, "intent_ranking": [], "entities": []}
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "parse_data": message}]
    if intent not in ("crisis", "request_human"):  # the domain's from_text mapping
        events.append({"event": "slot", "name": requested, "value": text})
        values[requested] = text
    tracker = Tracker("t", values, message, events, False, None, {"name": "x"}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateHandoffPacketForm().run(dispatcher, tracker, domain))
    set_ = {e["name"]: e["value"] for e in result if e.get("event") == "slot"}
    return set_, [m["text"] for m in dispatcher.messages if m.get("text")]


def test_a_good_answer_is_stored_and_the_packet_updated(domain: dict[str, Any]) -> None:
    slots, _ = _answer(domain, "March 14 1988", "packet_dob", {"packet_first_name": "Sam"})
    assert slots["packet_dob"] == "1988-03-14"
    assert slots["handoff_packet"]["first_name"] == "Sam"
    assert slots["requested_slot"] == "packet_payer"


def test_a_bad_date_is_asked_again_once_then_left_for_admissions(domain: dict[str, Any]) -> None:
    slots, _ = _answer(domain, "02/30/1990", "packet_dob")
    assert slots["packet_dob"] is None and slots["requested_slot"] == "packet_dob"
    second, said = _answer(domain, "soon", "packet_dob", {"packet_reasks": slots["packet_reasks"]})
    assert second["packet_dob"] == "skipped" and second["requested_slot"] == "packet_payer"
    assert "leave that one for admissions" in said[0]


def test_a_crisis_message_is_not_an_answer(domain: dict[str, Any]) -> None:
    """Nothing but the question pending is set, so Rasa rejects the form for the crisis rule."""
    slots, said = _answer(domain, "i want to kill myself", "packet_dob", intent="crisis")
    assert set(slots) == {"requested_slot"} and said == []


def test_a_known_payer_is_confirmed_and_other_plans_kept_as_said(domain: dict[str, Any]) -> None:
    assert _answer(domain, "yes", "packet_payer", {"payer": "Aetna"})[0]["packet_payer"] == "Aetna"
    other, _ = _answer(domain, "Kaiser", "packet_payer")
    assert (other["packet_payer"], other["packet_payer_other"]) == ("other", "Kaiser")
    none, _ = _answer(domain, "no insurance", "packet_payer")
    assert none["packet_payer"] == "none" and none["requested_slot"] == "packet_substances"


def test_something_else_asks_which_substance(domain: dict[str, Any]) -> None:
    slots, _ = _answer(domain, "something else", "packet_substances")
    assert slots["packet_substances"] == ["other"]
    assert slots["requested_slot"] == "packet_substances_other"


def test_no_more_questions_ends_the_step(domain: dict[str, Any]) -> None:
    slots, _ = _answer(
        domain, "no more questions please", "packet_member_id", {"packet_payer": "x"}
    )
    assert slots["requested_slot"] is None
    assert "substances" in slots["handoff_packet"]["skipped"]


def test_questions_offer_skip_and_the_date_question_a_date_field(domain: dict[str, Any]) -> None:
    values = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    values["visitor_role"] = "loved_one"
    tracker = Tracker("t", values, {}, [], False, None, {}, "action_listen")
    for action in ASK_ACTIONS:
        dispatcher = CollectingDispatcher()
        asyncio.run(action().run(dispatcher, tracker, domain))
        message = dispatcher.messages[0]
        assert message["buttons"][-1] == {"title": "Skip", "payload": "skip"}
        if action().name() == "action_ask_packet_dob":
            assert "their date of birth" in message["text"]
            assert message["custom"]["input"]["type"] == "date"


def test_call_me_or_text_me_is_an_answer_even_when_read_as_a_request_for_a_person(
    domain: dict[str, Any],
) -> None:
    """The mapping leaves request_human out; the validator reads the words next to the question."""
    slots, _ = _answer(domain, "text me", "packet_callback_channel", intent="request_human")
    assert slots["packet_callback_channel"] == "text"
    assert slots["requested_slot"] == "packet_best_time"
    person, _ = _answer(domain, "can I talk to a person", "packet_language", intent="request_human")
    assert set(person) == {"packet_language"}  # stepped aside: the rule hands off
