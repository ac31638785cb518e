"""The handoff packet built from real tracker events: valid against its versioned JSON Schema
and, exported as a FHIR R4 QuestionnaireResponse, valid against the FHIR models and the shipped
Questionnaire — whether the visitor gave everything, skipped everything, chatted for a loved
one, or typed values that are not what the step promises."""

from __future__ import annotations

import json
import time
from typing import Any

import jsonschema
import pytest
from fhir.resources import __fhir_version__
from fhir.resources.questionnaire import Questionnaire
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from admissions.db.synthetic import slot_event
from admissions.handoff import fhir, packet
from tests.web.conftest import REPO
from tests.web.fixtures import Conversation
from tests.web.packet_fixtures import (
    ALL_SKIPPED,
    DOB,
    EVERYTHING,
    LOVED_ONE,
    MEMBER_ID,
    handoff_conversation,
)

SCHEMA = json.loads((REPO / "schemas" / "handoff-packet.v1.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def events_of(conv: Any) -> list[dict[str, Any]]:
    """The conversation's events as the app reads them back (``_id`` = row id)."""
    return [{**e, "_id": i} for i, e in enumerate(conv.events, start=1)]


def valid(record: dict[str, Any]) -> dict[str, Any]:
    """Validate against the JSON Schema, and its FHIR form against R4; return the record."""
    VALIDATOR.validate(record)
    response = fhir.questionnaire_response(record)
    QuestionnaireResponse.parse_obj(response)  # raises on any R4 violation
    _answers_fit_the_questionnaire(response["item"], _questions())
    return record


def _questions() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            out[item["linkId"]] = item
            walk(item.get("item", []))

    walk(fhir.questionnaire()["item"])
    return out


VALUE_KEYS = {
    "string": "valueString",
    "date": "valueDate",
    "boolean": "valueBoolean",
    "choice": "valueCoding",
}


def _answers_fit_the_questionnaire(items: list[dict[str, Any]], questions: dict) -> None:
    for item in items:
        question = questions[item["linkId"]]
        assert item["text"] == question["text"]
        if question["type"] == "group":
            _answers_fit_the_questionnaire(item["item"], questions)
            continue
        assert len(item["answer"]) == 1 or question.get("repeats"), item
        for answer in item["answer"]:
            (key,) = answer
            assert key == VALUE_KEYS[question["type"]], (item, question)
            if key == "valueCoding":
                assert answer[key] in [o["valueCoding"] for o in question["answerOption"]]


def answers_by_link(response: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if "answer" in item:
                out[item["linkId"]] = [next(iter(a.values())) for a in item["answer"]]
            walk(item.get("item", []))

    walk(response["item"])
    return out


def test_the_shipped_questionnaire_is_valid_fhir_r4():
    assert __fhir_version__ == "4.0.1"
    q = Questionnaire.parse_obj(fhir.questionnaire())
    assert q.status == "active"
    # every packet field the staff page shows has a question
    links = set(_questions())
    for path in ("person.date_of_birth", "insurance.member_id", "clinical.last_use"):
        assert path in links


def test_everything_given():
    conv = handoff_conversation("conv-all", time.time() - 600)
    record = valid(packet.from_events("conv-all", events_of(conv)))
    assert record["schema_version"] == "handoff-packet.v1"
    assert record["reference_code"] == "K7F-2Q"
    assert record["person"] == {"first_name": "Jordan", "date_of_birth": DOB}
    assert record["insurance"]["member_id"] == MEMBER_ID
    assert record["insurance"]["payer"] == "Aetna"
    assert record["contact"]["phone"] == "+14125550143"
    assert record["contact"]["channel"] == "text"
    assert record["contact"]["voicemail_ok"] is True and record["contact"]["texts_ok"] is False
    assert record["clinical"]["substances"] == ["alcohol", "opioids"]
    # asked once in the assessment, reused: never asked twice
    assert record["clinical"]["withdrawal_seizures_or_dts"] is True
    assert record["program"] == {"recommended": "iop", "provisional": True}
    assert record["skipped"] == []
    fhir_form = fhir.questionnaire_response(record)
    assert fhir_form["status"] == "completed"
    assert fhir_form["questionnaire"] == fhir.canonical()
    answers = answers_by_link(fhir_form)
    assert answers["insurance.member_id"] == [MEMBER_ID]
    assert answers["person.date_of_birth"] == [DOB]
    assert answers["clinical.substances"] == ["alcohol", "opioids"]
    assert answers["contact.relationship"][0]["code"] == "self"


def test_everything_skipped():
    conv = handoff_conversation("conv-skip", time.time() - 600, ALL_SKIPPED, severe_withdrawal=None)
    record = valid(packet.from_events("conv-skip", events_of(conv)))
    assert record["person"] == {"first_name": None, "date_of_birth": None}
    assert record["insurance"]["member_id"] is None
    assert record["insurance"]["payer"] == "Aetna"  # what the assessment already knew
    assert record["clinical"]["substances"] == []
    assert record["clinical"]["withdrawal_seizures_or_dts"] is None
    assert record["contact"]["relationship"] == "self"  # the greeting said "for me"
    assert record["completed_at"] is not None
    assert set(record["skipped"]) == set(ALL_SKIPPED["skipped"])
    answers = answers_by_link(fhir.questionnaire_response(record))
    assert "insurance.member_id" not in answers and "person.first_name" not in answers


def test_loved_one_mode():
    conv = handoff_conversation("conv-mom", time.time() - 600, LOVED_ONE, role="loved_one")
    record = valid(packet.from_events("conv-mom", events_of(conv)))
    assert record["contact"]["relationship"] == "parent"
    assert record["person"]["first_name"] == "Casey"
    assert record["insurance"]["payer_other"] == "Keystone Health Plan"
    assert record["insurance"]["subscriber_relationship"] == "parent"
    assert record["clinical"]["court_mandated"] is True
    assert record["skipped"] == ["group_number"]
    answers = answers_by_link(fhir.questionnaire_response(record))
    assert answers["insurance.subscriber_relationship"][0]["code"] == "parent"
    assert answers["clinical.court_mandated"] == [True]


@pytest.mark.parametrize(
    "field, bad, path, kept",
    [
        ("dob", "04/12/1990", "person.date_of_birth", None),
        ("dob", "1990-02-30", "person.date_of_birth", None),
        ("subscriber_dob", 19900412, "insurance.subscriber_date_of_birth", None),
        ("relationship", "cousin", "contact.relationship", "self"),  # the greeting's answer
        ("callback_channel", "carrier pigeon", "contact.channel", None),
        ("mental_health_care", "yes", "clinical.mental_health_care", None),
        ("substances", "alcohol", "clinical.substances", []),
        ("member_id", "X" * 500, "insurance.member_id", "X" * 64),
        ("skipped", ["member_id", "not_a_field"], "skipped", ["member_id"]),
    ],
)
def test_values_not_in_their_promised_form_are_left_out_not_guessed(field, bad, path, kept):
    conv = handoff_conversation("conv-bad", time.time() - 600, {**EVERYTHING, field: bad})
    record = valid(packet.from_events("conv-bad", events_of(conv)))
    value: Any = record
    for part in path.split("."):
        value = value[part]
    assert value == kept


def test_the_crm_gets_the_packet_as_it_stood_when_the_step_ended():
    conv = handoff_conversation("conv-later", time.time() - 600)
    conv.events.append(slot_event("handoff_packet", {**EVERYTHING, "member_id": "CHANGED"}, 1e10))
    events = events_of(conv)
    _, sent = packet.as_sent("conv-later", events)
    assert sent["insurance"]["member_id"] == MEMBER_ID
    assert packet.from_events("conv-later", events)["insurance"]["member_id"] == "CHANGED"
    assert sent["packet_id"] == packet.packet_id("conv-later")
    assert "conv-later" not in json.dumps(sent)  # the conversation id is not disclosed
    valid(sent)


def test_no_packet_before_the_step_and_an_open_step_reads_in_progress():
    before = handoff_conversation("conv-open", time.time() - 600, complete=False)
    record = valid(packet.from_events("conv-open", events_of(before)))
    assert record["completed_at"] is None
    assert fhir.questionnaire_response(record)["status"] == "in-progress"
    assert packet.as_sent("conv-open", events_of(before)) is None
    plain = Conversation("conv-none").visitor("hi").fit("op")
    assert packet.from_events("conv-none", events_of(plain)) is None


def test_the_shipped_examples_are_what_the_builder_makes_and_valid():
    conv = handoff_conversation(
        "example-conversation", 1796270400.0, LOVED_ONE, role="loved_one", code="M0M-22"
    )
    _, record = packet.as_sent("example-conversation", events_of(conv))
    examples = REPO / "schemas" / "examples"
    shipped = json.loads((examples / "handoff-packet.v1.example.json").read_text())
    assert shipped == valid(record)
    shipped_fhir = json.loads(
        (examples / "handoff-questionnaire-response.example.json").read_text()
    )
    assert shipped_fhir == fhir.questionnaire_response(record)
    assert QuestionnaireResponse.parse_obj(shipped_fhir).questionnaire == fhir.canonical()


def test_what_the_conversation_step_stores_builds_a_valid_packet():
    """The slot contract with the step (admissions/handoff/answers.py fills ``handoff_packet``)."""
    from admissions.handoff import answers as step

    given = {k: v for k, v in EVERYTHING.items() if k != "skipped"}
    declined = {key: step.SKIP for key in step.PACKET_KEYS}
    for answers, member_id in ((given, MEMBER_ID), (declined, None)):
        conv = handoff_conversation("conv-step", time.time() - 600, step.build_packet(answers))
        record = valid(packet.from_events("conv-step", events_of(conv)))
        assert record["insurance"]["member_id"] == member_id
    assert set(record["skipped"]) == set(step.PACKET_KEYS) == set(packet.FIELDS)


def test_a_declined_step_is_shown_to_staff_but_never_sent_to_the_crm():
    """Saying no to the questions is not consent to disclose what the chat already knew."""
    from admissions.handoff import answers as step

    skipped_all = {key: step.SKIP for key in step.PACKET_KEYS}
    conv = handoff_conversation(
        "conv-declined", time.time() - 600, step.build_packet(skipped_all, declined=True)
    )
    events = events_of(conv)
    assert packet.as_sent("conv-declined", events) is None
    shown = valid(packet.from_events("conv-declined", events))
    assert shown["declined"] is True
    everything = handoff_conversation("conv-all", time.time() - 600)
    _, sent = packet.as_sent("conv-all", events_of(everything))
    assert sent["declined"] is False


def test_a_restart_forgets_the_packet():
    conv = handoff_conversation("conv-restart", time.time() - 600)
    conv.events.append({"event": "restart", "timestamp": conv._tick()})
    assert packet.from_events("conv-restart", events_of(conv)) is None
