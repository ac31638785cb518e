"""``action_default_ask_affirmation``: the "Did you mean…?" step of the two-stage fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

INTENT_LABELS: dict[str, str] = {
    "ready_to_start": "you'd like help starting treatment",
    "not_ready": "you're not sure yet and are just looking",
    "for_someone_else": "you're asking for someone you care about",
    "ask_cost": "you're asking about cost or insurance",
    "inform_cost": "you're telling me how you'd pay",
    "inform_work_school": "you're telling me about work or school",
    "inform_caregiving": "you're telling me who depends on you",
    "inform_schedule": "you're telling me when you're free",
    "ask_program_info": "you'd like to know about our programs",
    "ask_confidentiality": "you're asking about privacy",
    "request_human": "you'd like to talk to a person",
    "greet": "you're saying hello",
    "goodbye": "you're saying goodbye",
    "thanks": "you're saying thanks",
    "bot_challenge": "you're asking whether I'm a bot",
    "forget_me": "you'd like this conversation deleted",
}


class ActionDefaultAskAffirmation(Action):
    """Ask whether the most likely intent is what the visitor meant, in plain words."""

    def name(self) -> str:
        """Rasa's built-in name for this step, overridden here."""
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Offer the best guess that isn't a fallback, plus "something else"."""
        ranking = tracker.latest_message.get("intent_ranking") or []
        guess = next(
            (r["name"] for r in ranking if r.get("name") in INTENT_LABELS),
            None,
        )
        if guess is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        dispatcher.utter_message(
            text=f"Just to check: did you mean {INTENT_LABELS[guess]}?",
            buttons=[
                {"title": "Yes", "payload": f"/{guess}"},
                {"title": "No, something else", "payload": "/out_of_scope"},
            ],
        )
        return []
