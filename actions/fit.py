"""``action_score_fit``: score the answers against each program and explain the fit."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.slots import profile_from_slots
from admissions import fit

logger = logging.getLogger(__name__)


class ActionScoreFit(Action):
    """Compute the provisional program fit, explain it, and store it for admissions."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_score_fit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Score, say the result in plain words, and set the contract slots."""
        facility = runtime.facility()
        profile = profile_from_slots(tracker.current_slot_values())
        result = fit.score(profile, facility)
        summary = fit.summarize(profile)
        if tracker.get_slot("assessment_complete"):
            dispatcher.utter_message(text="Thanks, I've updated that.")
        if profile.severe_withdrawal and not tracker.get_slot("withdrawal_warned"):
            dispatcher.utter_message(response="utter_withdrawal_warning")
        dispatcher.utter_message(text=fit.explain(result, profile, facility))
        dispatcher.utter_message(
            text=f"Here's what you told me, so you don't have to repeat it:\n{summary}"
        )
        if result.recommended == fit.UNDETERMINED:
            dispatcher.utter_message(response="utter_referral")
        logger.info("fit scored: recommended=%s need=%s", result.recommended, result.need_level)
        return [
            SlotSet("recommended_program", result.recommended),
            SlotSet("program_fit", result.to_slot()),
            SlotSet("visitor_summary", summary),
            SlotSet("assessment_complete", True),
        ]
