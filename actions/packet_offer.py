"""Offering the "help admissions prepare" step, and ending it: declined, or done and thanked.

The questions themselves are asked by ``actions.packet_ask`` and read by the form in
``actions.packet``.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import CALLBACK_BUTTON
from actions.packet import answers
from actions.packet_questions import OFFER
from actions.questions import call_button
from admissions.handoff import answers as step

logger = logging.getLogger("actions.packet")  # the step logs under one name, as before


def _offer_open(tracker: Tracker) -> bool:
    if tracker.get_slot("handoff_packet_complete") or tracker.get_slot("crisis_active"):
        return False
    return tracker.get_slot("callback_consent") is not False


class ActionOfferPacket(Action):
    """After the fit (or a booked callback): offer the optional step, saying why and who reads."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_offer_packet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """The offer with [Yes, help admissions prepare] [No thanks]; silent when done."""
        if not _offer_open(tracker):
            return []
        dispatcher.utter_message(
            text=OFFER,
            buttons=[
                {"title": "Yes, help admissions prepare", "payload": "/affirm"},
                {"title": "No thanks", "payload": "/deny"},
            ],
        )
        return []


class ActionDeclinePacket(Action):
    """The visitor declined the whole step: nothing is asked, the step is over."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_decline_packet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say it's fine, and record every question as skipped."""
        dispatcher.utter_message(
            text="No problem. Admissions will ask what they need when you talk.",
            buttons=[call_button()],
        )
        skipped = {key: step.SKIP for key in step.PACKET_KEYS}
        return [
            SlotSet("handoff_packet", step.build_packet(skipped, declined=True)),
            SlotSet("handoff_packet_complete", True),
        ]


class ActionSubmitPacket(Action):
    """The step is over: thank the visitor and mark the packet complete."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_submit_packet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Thank them; offer a callback when admissions has no number to call yet."""
        built = step.build_packet(answers(tracker.current_slot_values()))
        given = [k for k in built if k not in ("skipped", "relationship")]
        if given:
            text = (
                "Thank you. I've passed this to the admissions team so they can prepare before "
                "they talk with you, and you won't have to repeat it."
            )
        else:
            text = "That's fine. Admissions will ask what they need when you talk."
        buttons = [call_button()]
        if not tracker.get_slot("callback_phone"):
            text += " If you'd like them to call you, tap the button and leave a number."
            buttons = [CALLBACK_BUTTON, call_button()]
        dispatcher.utter_message(text=text, buttons=buttons)
        skipped = built["skipped"] if isinstance(built["skipped"], list) else []
        logger.info("handoff packet complete: %d answered, %d skipped", len(given), len(skipped))
        return [SlotSet("handoff_packet", built), SlotSet("handoff_packet_complete", True)]
