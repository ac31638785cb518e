"""The assessment form: its validation action and one "ask" action per question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.questions import QUESTIONS, render
from actions.slots import ASSESSMENT_SLOTS, DIGRESSIONS
from admissions.profile import WeeklyPicture


class ValidateAssessmentForm(FormValidationAction):
    """Validates the assessment answers and keeps the form going on unclear answers."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "validate_assessment_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Validate, warn about dangerous withdrawal once, and mark the assessment as started."""
        events = await super().run(dispatcher, tracker, domain)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        extracted = [
            e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"
        ]
        if extracted or intent not in DIGRESSIONS:
            # A SlotSet keeps Rasa from rejecting the form: unclear answers are re-asked
            # (with an example, then buttons) instead of falling out of the form.
            events.append(SlotSet("assessment_started", True))
        return events

    def validate_availability(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept only a weekly picture that says something about time."""
        if WeeklyPicture.from_slot(value).is_empty():
            return {"availability": None}
        return {"availability": value}


def _filled_something(tracker: Tracker) -> bool:
    """Did the visitor's last message fill some assessment answer (just not this one)?"""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") in ASSESSMENT_SLOTS:
            if event.get("value") is not None:
                return True
    return False


def _ask_action(slot: str) -> type[Action]:
    """Make the ``action_ask_<slot>`` class that asks, re-asks with an example, then helps."""

    class AskAction(Action):
        def name(self) -> str:
            return f"action_ask_{slot}"

        async def run(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> list[dict[str, Any]]:
            counts = dict(tracker.get_slot("ask_counts") or {})
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            resumed = (intent in DIGRESSIONS and intent != "nlu_fallback") or _filled_something(
                tracker
            )
            # Resuming after a digression or a crisis is not a failed answer.
            counts[slot] = max(1, int(counts.get(slot, 0))) if resumed else counts.get(slot, 0) + 1
            loved_one = tracker.get_slot("visitor_role") == "loved_one"
            events: list[dict[str, Any]] = [SlotSet("ask_counts", counts)]
            if tracker.get_slot("severe_withdrawal") and not tracker.get_slot("withdrawal_warned"):
                # Seizures, hallucinations or DTs (now or before): warn before anything else.
                dispatcher.utter_message(response="utter_withdrawal_warning")
                events.append(SlotSet("withdrawal_warned", True))
            text, buttons = render(slot, counts[slot], loved_one)
            dispatcher.utter_message(text=text, buttons=buttons)
            return events

    AskAction.__name__ = AskAction.__qualname__ = f"Ask_{slot}"
    AskAction.__doc__ = f"Ask the visitor about {slot.replace('_', ' ')}."
    return AskAction


ASK_ACTIONS = [_ask_action(slot) for slot in QUESTIONS]
