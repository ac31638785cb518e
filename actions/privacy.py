"""Forget me, in two steps: say what would be deleted and ask, then delete only on a yes.

``action_confirm_forget_me`` answers a ``forget_me`` intent: it names what the deletion would
remove (this conversation, and a callback request if there is one) and asks with buttons
[Yes, delete it] [No, keep it]. ``action_forget_me`` flags the conversation for the purge only
when the bot's last action was that question and the reply is a yes; otherwise (a misread
message, a model that predicts it directly) it asks instead, so one misclassified message can
never remove a conversation or a crisis callback from the queue. A "no" keeps everything
(``utter_forget_me_kept``, rules in ``data/rules/safety.yml``).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.questions import phone

CONFIRM_ACTION = "action_confirm_forget_me"
# the actions that can ask the question (action_forget_me asks when it was not confirmed)
ASKING_ACTIONS = {CONFIRM_ACTION, "action_forget_me"}
YES, NO = "/affirm", "/deny"
# actions Rasa records between the question and the visitor's reply
_BOOKKEEPING = {"action_listen", "action_extract_slots", "action_session_start"}


def what_would_be_deleted(tracker: Tracker) -> str:
    """The question, naming everything the deletion removes."""
    slots = tracker.current_slot_values()
    parts = ["this whole conversation and everything you've told me in it"]
    if slots.get("callback_requested") or slots.get("callback_phone"):
        parts.append(
            "your callback request, so admissions would not call you back"
            if not slots.get("callback_phone")
            else f"your callback request, so admissions would not call you back at "
            f"{slots['callback_phone']}"
        )
    listed = parts[0] if len(parts) == 1 else f"{parts[0]}, and {parts[1]}"
    return (
        f"Just to be sure before I delete anything: this would erase {listed}. "
        "It can't be undone. Do you want me to delete it?"
    )


def ask(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Say what would be deleted, offer yes/no buttons, and pause any form."""
    dispatcher.utter_message(
        text=what_would_be_deleted(tracker),
        buttons=[
            {"title": "Yes, delete it", "payload": YES},
            {"title": "No, keep it", "payload": NO},
        ],
    )
    return [ActiveLoop(None)]


def confirmed(tracker: Tracker) -> bool:
    """Whether the latest message is a yes to the forget-me question asked just before it."""
    if (tracker.latest_message.get("intent") or {}).get("name") != "affirm":
        return False
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    if last_user is None:
        return False
    for event in reversed(events[:last_user]):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in _BOOKKEEPING:
            return event.get("name") in ASKING_ACTIONS
    return False


class ActionConfirmForgetMe(Action):
    """Ask before deleting: what would go, with [Yes, delete it] [No, keep it]."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return CONFIRM_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask the confirmation question; nothing is flagged yet."""
        return ask(dispatcher, tracker)


class ActionForgetMe(Action):
    """After a confirmed yes: queue the conversation (and any callback request) for deletion."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Clear what the assistant holds in memory and flag the stored transcript for purge."""
        if not confirmed(tracker):
            return ask(dispatcher, tracker)  # never delete on a single predicted intent
        dispatcher.utter_message(
            text=(
                "Okay. I've asked for this conversation and any callback request to be deleted; "
                "the deletion job erases it within 24 hours. I won't use anything you told me. "
                f"You can still call admissions at {phone()}."
            )
        )
        return [ActiveLoop(None), AllSlotsReset(), SlotSet("forget_requested", True)]
