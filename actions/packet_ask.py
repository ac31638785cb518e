"""Asking the "help admissions prepare" questions: the ``action_ask_packet_*`` actions.

Each question's text and buttons come from ``actions.packet_questions`` (self or loved-one
mode); here they are fitted to the conversation (a payer already named, texts allowed) and
turned into the one re-ask with an example after a reply that couldn't be read. The form that
reads the answers is ``actions.packet``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.packet_questions import ASKS, SKIP_BUTTON, b
from admissions.handoff import answers as step

SLOTS: tuple[str, ...] = tuple(f"packet_{key}" for key in ASKS)
DATE_INPUT = {"packet_dob", "packet_subscriber_dob"}


def for_loved_one(tracker: Tracker) -> bool:
    """Whether the visitor asks for someone else (the questions say "they")."""
    return tracker.get_slot("visitor_role") == "loved_one"


def local_today() -> date:
    """Today at the facility (dates of birth are checked against it)."""
    return runtime.now().date()


def _payer_buttons(tracker: Tracker) -> list[dict[str, str]]:
    accepted = runtime.facility().payers.accepted
    known = tracker.get_slot("payer")
    buttons = []
    if known:
        buttons.append({"title": f"Yes, {known}", "payload": known})
    buttons += [{"title": p, "payload": p} for p in accepted if p != known]
    buttons += [
        {"title": "Another plan", "payload": "another plan"},
        {"title": "No insurance", "payload": "no insurance"},
    ]
    return buttons


def _subscriber_buttons(loved_one: bool) -> list[dict[str, str]]:
    if loved_one:
        return b("Yes, it's theirs", "Their spouse's or partner's", "A parent's",
                  "Someone else's")  # fmt: skip
    return b("Yes, it's mine", "My spouse's or partner's", "A parent's", "Someone else's")


def question(slot: str, tracker: Tracker, again: bool) -> tuple[str, list[dict[str, str]]]:
    """The text and buttons asking ``slot`` (``again``: after a reply that couldn't be read)."""
    key = slot.removeprefix("packet_")
    ask = ASKS[key]
    loved_one = for_loved_one(tracker)
    text = ask.loved_one_text if loved_one else ask.self_text
    buttons = list(ask.buttons)
    if key == "payer":
        buttons = _payer_buttons(tracker)
        known = tracker.get_slot("payer")
        if known:
            whose = "their" if loved_one else "your"
            text = (
                f"You mentioned {known}. Is that the plan admissions should check {whose} "
                f"benefits with? If it's a different one, tap it or type its name."
            )
    elif key == "subscriber_relationship":
        buttons = _subscriber_buttons(loved_one)
    elif key == "callback_channel" and tracker.get_slot("consent_text") is True:
        text = "You said admissions may text you. Would you rather they call or text?"
    if again:
        text = (
            f"Sorry, I couldn't read that. {text} {ask.example} Or tap Skip. "
            "I've kept your other answers."
        )
    return text, [*buttons, SKIP_BUTTON]


def _ask_action(slot: str) -> type[Action]:
    """Make ``action_ask_<slot>``: the question, or its one re-ask with an example."""

    class AskPacket(Action):
        def name(self) -> str:
            return f"action_ask_{slot}"

        async def run(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> list[dict[str, Any]]:
            again = bool((tracker.get_slot("packet_reasks") or {}).get(slot))
            text, buttons = question(slot, tracker, again)
            custom = None
            if slot in DATE_INPUT:
                today = local_today()
                oldest = today - timedelta(days=365 * step.MAX_AGE + 28)
                custom = {
                    "input": {
                        "type": "date",
                        "label": "Date of birth",
                        "min": oldest.isoformat(),
                        "max": today.isoformat(),
                    }
                }
            dispatcher.utter_message(text=text, buttons=buttons, json_message=custom)
            return []

    AskPacket.__name__ = AskPacket.__qualname__ = f"Ask_{slot}"
    AskPacket.__doc__ = f"Ask the {slot.replace('_', ' ')} question of the handoff packet."
    return AskPacket


ASK_ACTIONS = [_ask_action(slot) for slot in SLOTS]
