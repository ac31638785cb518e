"""``action_forget_me``: honour a visitor's request to delete this conversation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionForgetMe(Action):
    """Queue the conversation (and any callback request) for deletion and say so."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Clear what the assistant holds in memory and flag the stored transcript for purge."""
        dispatcher.utter_message(
            text=(
                "Okay. I've asked for this conversation and any callback request to be deleted; "
                "the deletion job erases it within 24 hours. I won't use anything you told me. "
                "You can still call admissions at 833-820-2922."
            )
        )
        return [ActiveLoop(None), AllSlotsReset(), SlotSet("forget_requested", True)]
