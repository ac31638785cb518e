"""The actions take the admissions number from facility.yml: change one line, every reply follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.handoff import ActionHandoff
from actions.privacy import ActionForgetMe
from actions.questions import render

ROOT = Path(__file__).resolve().parents[2]
NEW_NUMBER, NEW_TEL = "412-555-0143", "tel:+14125550143"


@pytest.fixture()
def new_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A facility file whose only change is the phone line, in ``$FACILITY_FILE``."""
    shipped = (ROOT / "facility.yml").read_text(encoding="utf-8")
    path = tmp_path / "facility.yml"
    path.write_text(shipped.replace('"833-820-2922"', f'"{NEW_NUMBER}"'), encoding="utf-8")
    monkeypatch.setenv("FACILITY_FILE", str(path))
    runtime.facility.cache_clear()
    yield
    runtime.facility.cache_clear()


@pytest.mark.parametrize(
    "clock", ["2026-12-01T15:00:00+00:00", "2026-12-06T15:00:00+00:00"], ids=["open", "closed"]
)
async def test_the_handoff_names_the_new_number(
    new_number, make_tracker, domain, monkeypatch, clock
) -> None:
    """Open or closed, the handoff's text and call button carry the number in facility.yml."""
    monkeypatch.setenv("ADMISSIONS_CLOCK", clock)
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, make_tracker(), domain)
    message = dispatcher.messages[0]
    assert NEW_NUMBER in message["text"] and "833-820-2922" not in message["text"]
    assert {"title": f"Call {NEW_NUMBER}", "payload": NEW_TEL} in message["buttons"]


async def test_the_third_ask_and_forget_me_name_the_new_number(
    new_number, make_tracker, domain
) -> None:
    """The easy re-ask's call button and the forget-me confirmation follow the file too."""
    text, buttons = render("payment", 3, loved_one=False)
    assert f"call admissions at {NEW_NUMBER} and a person will help" in text
    assert buttons[-1] == {"title": f"Call {NEW_NUMBER}", "payload": NEW_TEL}
    tracker = make_tracker("/affirm", "affirm")
    tracker.events = [
        {"event": "action", "name": "action_confirm_forget_me"},
        {"event": "user", "text": "/affirm", "parse_data": tracker.latest_message},
    ]
    dispatcher = CollectingDispatcher()
    await ActionForgetMe().run(dispatcher, tracker, domain)
    assert f"You can still call admissions at {NEW_NUMBER}." in dispatcher.messages[0]["text"]
