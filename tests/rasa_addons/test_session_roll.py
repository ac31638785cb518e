"""A long conversation rolls into a new session at a quiet turn, through the real tracker store.

What the visitor would notice if this were wrong: a forgotten answer (slots not carried), a
question they just answered read out of context (the last bot action lost), a message shown
twice to admissions, or a form cut in half. What they notice when it is right: turn 300 is as
quick as turn 10 (measured by ``make bench-load LONG=300``, not here).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.session_roll import roll_events, roll_limit
from rasa_addons.tracker_store import DurableSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DB_TIMEOUT", "0.5")


def chat(
    tracker: DialogueStateTracker, turns: int, last_action: str = "utter_anything_else"
) -> None:
    """``turns`` visitor turns, each answered by one bot action and a listen."""
    for n in range(turns):
        tracker.update(UserUttered(f"message {n}", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted(last_action))
        tracker.update(BotUttered(f"reply {n}"))
        tracker.update(ActionExecuted("action_listen"))


def started(domain: Domain, sender: str = "roll-1") -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(SlotSet("payment", "insurance"))
    tracker.update(SlotSet("visitor_role", "self"))
    return tracker


def test_a_long_quiet_conversation_continues_in_a_short_session_with_everything_it_knew(
    tmp_path: Path, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_ROLL_EVENTS", "40")
    db = tmp_path / "tracker.db"

    async def run() -> tuple[DialogueStateTracker, DialogueStateTracker, DurableSQLTrackerStore]:
        store = DurableSQLTrackerStore(domain=domain, db=str(db), spool_dir=str(tmp_path / "s"))
        tracker = started(domain)
        for _ in range(5):  # 5 turns a save, as Rasa saves once a turn
            chat(tracker, 3, last_action="utter_ask_availability_confirmed")
            await store.save(tracker)
            tracker = await store.retrieve("roll-1")
            assert tracker is not None
        full = await store.retrieve_full_tracker("roll-1")
        assert full is not None
        return tracker, full, store

    tracker, full, store = asyncio.run(run())
    assert store.stats["sessions_rolled"] >= 1
    # the working session is short again, and it knows the answers given before
    assert len(tracker.events) < 40
    assert tracker.get_slot("payment") == "insurance"
    assert tracker.get_slot("visitor_role") == "self"
    # the question just asked is still the context of the next reply
    assert tracker.latest_action_name == "action_listen"
    before_listen = [e for e in tracker.events if isinstance(e, ActionExecuted)][-2]
    assert before_listen.action_name == "utter_ask_availability_confirmed"
    # admissions still has every message, once, in order; the roll marks its own events
    said = [e.text for e in full.events if isinstance(e, UserUttered)]
    assert said == [f"message {n}" for _ in range(5) for n in range(3)]
    rolled = [e for e in full.events if isinstance(e, SessionStarted)]
    assert rolled[0].metadata in (None, {}) and all(
        e.metadata == {"rolled": True} for e in rolled[1:]
    )


def test_a_form_in_progress_is_never_cut(domain: Domain) -> None:
    tracker = started(domain)
    tracker.update(ActiveLoop("assessment_form"))
    tracker.update(SlotSet("requested_slot", "work_school"))
    chat(tracker, 30)
    assert roll_events(tracker, 40) == []


def test_a_turn_still_running_is_never_cut(domain: Domain) -> None:
    tracker = started(domain)
    chat(tracker, 30)
    tracker.update(UserUttered("one more", {"name": "greet", "confidence": 1.0}))
    assert roll_events(tracker, 40) == []


def test_a_short_conversation_stays_as_it_is(domain: Domain) -> None:
    tracker = started(domain)
    chat(tracker, 5)
    assert roll_events(tracker, 300) == []
    assert roll_events(started(domain), 0) == []  # 0 turns rolling off


@pytest.mark.parametrize("raw", ["lots", "-1", "2.5"])
def test_a_malformed_setting_stops_start_up_with_its_name(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_ROLL_EVENTS", raw)
    with pytest.raises(ValueError, match="TRACKER_ROLL_EVENTS"):
        roll_limit()
