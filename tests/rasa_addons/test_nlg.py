"""``FacilityNLG``: responses get the admissions number from facility.yml, and only from there."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from admissions.facility import FacilityConfigError
from rasa_addons import replies
from rasa_addons.nlg import FacilityNLG, ResponsePlaceholderError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "facility.yml").read_text(encoding="utf-8")
NEW_NUMBER, NEW_TEL = "412-555-0143", "tel:+14125550143"


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The real domain.yml."""
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture(autouse=True)
def _endpoints_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What endpoints.yml reads from the environment; and ``replies`` left as it was (a
    generator built here hands its number to it)."""
    monkeypatch.setenv("ACTIONS_PORT", "5055")
    monkeypatch.setenv("TRACKER_DB_PATH", "unused.db")
    monkeypatch.setattr(replies, "_phone", list(replies._phone))


def facility_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """Write ``text`` as the facility file and point ``$FACILITY_FILE`` at it."""
    path = tmp_path / "facility.yml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FACILITY_FILE", str(path))
    return path


def loaded(domain: Domain) -> FacilityNLG:
    """The generator as ``rasa run`` makes it: from endpoints.yml, then the model's responses."""
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "nlg")
    nlg = NaturalLanguageGenerator.create(config, None)
    assert isinstance(nlg, FacilityNLG)
    nlg.responses = domain.responses  # what Agent.load_model does
    return nlg


def say(nlg: TemplatedNaturalLanguageGenerator, utter: str, domain: Domain) -> dict[str, Any]:
    """The response as a visitor would get it (no slot set)."""
    tracker = DialogueStateTracker.from_events("t", [], slots=domain.slots)
    reply = asyncio.run(nlg.generate(utter, tracker, "rest"))
    assert reply is not None
    return reply


def test_the_shipped_number_fills_every_response(domain: Domain) -> None:
    """No response keeps a raw placeholder; the crisis reply names the shipped line."""
    nlg = loaded(domain)
    for utter in domain.responses:
        reply = say(nlg, utter, domain)
        assert not re.search(r"\{[^{}'\s]+\}", str(reply)), utter
    crisis = say(nlg, "utter_crisis", domain)["text"]
    assert "Our admissions line is 833-820-2922." in crisis
    greet = say(nlg, "utter_greet", domain)
    assert {"title": "Call 833-820-2922", "payload": "tel:+18338202922"} in greet["buttons"]


def test_a_changed_number_in_facility_yml_reaches_the_crisis_reply(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A center that changes its number edits one line, and every response follows."""
    facility_file(tmp_path, monkeypatch, SHIPPED.replace('"833-820-2922"', f'"{NEW_NUMBER}"'))
    nlg = loaded(domain)
    crisis = say(nlg, "utter_crisis", domain)["text"]
    assert f"Our admissions line is {NEW_NUMBER}." in crisis and "833-820-2922" not in crisis
    still_here = say(nlg, "utter_crisis_still_here", domain)["text"]
    assert f"our admissions line {NEW_NUMBER}." in still_here
    declined = say(nlg, "utter_callback_declined", domain)
    assert declined["buttons"] == [{"title": f"Call {NEW_NUMBER}", "payload": NEW_TEL}]
    for utter in domain.responses:
        assert "833-820-2922" not in str(say(nlg, utter, domain)), utter
    assert NEW_NUMBER in replies.action_failed()  # the channel's own replies follow too


def test_a_broken_facility_file_stops_the_server_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa builds the generator before serving: a bad phone line fails there, by name."""
    facility_file(tmp_path, monkeypatch, SHIPPED.replace('"833-820-2922"', '"call us"'))
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "nlg")
    with pytest.raises(FacilityConfigError, match=r"admissions\.phone"):
        NaturalLanguageGenerator.create(config, None)


def test_an_unknown_placeholder_refuses_the_model(domain: Domain) -> None:
    """A typo in a response is caught when the model loads, never shown to a visitor."""
    nlg = loaded(domain)
    responses = dict(domain.responses)
    responses["utter_crisis"] = [{"text": "Call {admissions_phon} now."}]
    with pytest.raises(ResponsePlaceholderError, match=r"utter_crisis: \{admissions_phon\}"):
        nlg.responses = responses


def test_facility_values_win_over_slots_and_action_values(domain: Domain) -> None:
    """A value passed with a response cannot change the facility's number."""
    nlg = loaded(domain)
    reply = nlg.generate_from_slots(
        "utter_goodbye", {"admissions_phone": "000"}, "rest", admissions_phone="111"
    )
    assert reply is not None and "833-820-2922" in reply["text"]
