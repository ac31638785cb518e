"""The domain and the facility file agree, and the contract names exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FACILITY = yaml.safe_load((ROOT / "facility.yml").read_text())


def _filled(text: str) -> str:
    """The responses as a visitor reads them: facility values filled in (rasa_addons/nlg.py)."""
    from admissions.facility import load_facility, reply_values

    for key, value in reply_values(load_facility(ROOT / "facility.yml")).items():
        text = text.replace("{" + key + "}", value)
    return text


DOMAIN = yaml.safe_load(_filled((ROOT / "domain.yml").read_text()))

CONTRACT_INTENTS = {
    "greet", "goodbye", "affirm", "deny", "bot_challenge", "ready_to_start", "not_ready",
    "for_someone_else", "ask_cost", "inform_cost", "inform_work_school", "inform_caregiving",
    "inform_schedule", "ask_program_info", "ask_confidentiality", "request_human", "crisis",
    "out_of_scope",
}  # fmt: skip


def _all_texts() -> list[str]:
    return [v["text"] for variants in DOMAIN["responses"].values() for v in variants if "text" in v]


def test_every_phone_number_in_responses_is_the_facility_line_or_a_hotline() -> None:
    """A visitor never sees a stale admissions number."""
    line = FACILITY["admissions"]["phone"]
    allowed = {line, "1-800-662-4357", "212-555-0187"}  # the last is a fictional example
    numbers = {
        m
        for text in _all_texts()
        for m in re.findall(r"\d{1}-?\d{3}-\d{3}-\d{4}|\d{3}-\d{3}-\d{4}", text)
    }
    assert numbers, "responses should name the admissions line"
    assert numbers <= allowed, f"unexpected numbers in domain.yml: {numbers - allowed}"


def test_contract_intents_and_slots_exist() -> None:
    """The names an outside evaluation reads are all declared."""
    assert CONTRACT_INTENTS <= set(DOMAIN["intents"])
    slots = DOMAIN["slots"]
    assert set(slots["recommended_program"]["values"]) == {
        "php",
        "iop",
        "op",
        "residential",
        "undetermined",
    }
    assert "program_fit" in slots and "crisis_detected" in slots


def test_crisis_reply_is_static_and_complete() -> None:
    """The crisis reply needs no action server and names every resource."""
    crisis = DOMAIN["responses"]["utter_crisis"][0]
    text = crisis["text"]
    for needle in ("911", "988", "1-800-662-4357", FACILITY["admissions"]["phone"], "naloxone"):
        assert needle in text
    payloads = {b["payload"] for b in crisis["buttons"]}
    assert {"tel:911", "tel:988"} <= payloads


def test_greeting_discloses_automation_privacy_and_emergency_numbers() -> None:
    """The opening says it's automated, not a clinician, private, and names 911/988."""
    text = DOMAIN["responses"]["utter_greet"][0]["text"]
    for needle in (
        "automated",
        "not a clinician",
        "private",
        "911",
        "988",
        FACILITY["admissions"]["phone"],
    ):
        assert needle in text


def test_domain_entities_match_the_spacy_pattern_labels() -> None:
    """Every label the entity ruler can produce is declared, and nothing else."""
    from admissions.understanding.pipeline import load_patterns

    assert set(DOMAIN["entities"]) == {p["label"] for p in load_patterns()}


def test_greeting_says_when_a_person_answers_in_the_facility_time_zone() -> None:
    """The greeting never says "any time": it gives the line's hours from facility.yml."""
    from admissions.facility import load_facility
    from admissions.hours import weekly_hours_text

    text = " ".join(DOMAIN["responses"]["utter_greet"][0]["text"].split())
    assert "any time" not in text
    assert weekly_hours_text(load_facility(ROOT / "facility.yml").admissions) in text
