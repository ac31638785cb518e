"""Handoff to the admissions line, callback requests and honest cost answers."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.questions import CALL_BUTTON, PHONE
from admissions.hours import line_status

logger = logging.getLogger(__name__)

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"  # no look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G)
CALLBACK_BUTTON = {"title": "Ask admissions to call me", "payload": "/request_callback"}


def new_reference_code() -> str:
    """A short code like ``K7F-2Q`` that a visitor can read out on the phone."""
    chars = [secrets.choice(CODE_ALPHABET) for _ in range(5)]
    return "".join(chars[:3]) + "-" + "".join(chars[3:])


def normalise_us_phone(text: str) -> str | None:
    """Return ``(555) 123-4567`` for a valid US number in any common format, else None."""
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return None
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


class ActionHandoff(Action):
    """Offer the admissions line: call now when open, else next opening and a callback."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say whether the line is open and how to reach a person; show the reference code."""
        status = line_status(runtime.facility(), runtime.now())
        code = tracker.get_slot("reference_code") or new_reference_code()
        if status.is_open:
            text = (
                f"{status.message} Tap to call {PHONE} and a person will pick up where we left "
                f"off. Mention code {code} so they can find this chat."
            )
            buttons = [CALL_BUTTON, CALLBACK_BUTTON]
        else:
            text = (
                f"{status.message} You can call {PHONE} then, or I can ask admissions to call "
                f"you back. Mention code {code} so they can find this chat."
            )
            buttons = [CALLBACK_BUTTON, CALL_BUTTON]
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("reference_code", code)]


class ActionAnswerCost(Action):
    """Answer cost questions honestly from facility.yml: no promises, no invented prices."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_answer_cost"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """List accepted payers and options; quote prices only when the facility wrote them."""
        payers = runtime.facility().payers
        lines = ["I can't promise coverage or quote a total here, but here's what I can tell you."]
        if payers.accepted:
            lines.append("We work with many plans, including " + ", ".join(payers.accepted) + ".")
        lines.append("Admissions will verify your benefits for free before anything starts.")
        if not payers.medicaid:
            lines.append(
                "We can't accept Medicaid; the SAMHSA Helpline (1-800-662-4357) and "
                "FindTreatment.gov list programs that do."
            )
        if payers.self_pay:
            plans = " and payment plans" if payers.payment_plans else ""
            lines.append(
                f"If you don't have insurance or money is tight, ask about self-pay{plans}."
            )
        for program, price in payers.prices.items():
            lines.append(f"{program.upper()}: {price} (as published by the facility).")
        dispatcher.utter_message(text=" ".join(lines), buttons=[CALL_BUTTON])
        return []


class ValidateCallbackForm(FormValidationAction):
    """Callback request: consent first, then name, a valid US number and contact preferences."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "validate_callback_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask nothing more once the visitor declines to have details saved."""
        if tracker.get_slot("callback_consent") is False:
            return []
        return domain_slots

    def validate_callback_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any short name or alias; trimmed."""
        name = " ".join(str(value or "").split())[:40]
        if not name or name.startswith("/"):
            return {"callback_name": None}
        return {"callback_name": name}

    def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A valid US number, normalised; anything else is re-asked."""
        phone = normalise_us_phone(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
        return {"callback_phone": phone}

    def validate_callback_best_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Free text, trimmed to a sensible length."""
        when = " ".join(str(value or "").split())[:120]
        return {"callback_best_time": when or None}


class ActionSubmitCallback(Action):
    """Confirm the callback request (the tracker's slot events are its record) or drop it."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Show the reference code and what happens next."""
        if tracker.get_slot("callback_consent") is not True:
            dispatcher.utter_message(response="utter_callback_declined")
            return [
                SlotSet(slot, None)
                for slot in ("callback_name", "callback_phone", "callback_best_time")
            ] + [SlotSet("callback_consent", None), SlotSet("callback_requested", False)]
        code = tracker.get_slot("reference_code") or new_reference_code()
        name = tracker.get_slot("callback_name")
        dispatcher.utter_message(
            text=(
                f"Thank you, {name}. Admissions will call you at the time you asked for. "
                f"Your reference code is {code}: mention it if you call us first at {PHONE}."
            ),
            buttons=[CALL_BUTTON],
        )
        logger.info("callback requested")
        return [SlotSet("callback_requested", True), SlotSet("reference_code", code)]
