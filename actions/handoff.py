"""Handoff to the admissions line, callback requests and honest cost answers."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.questions import call_button, phone
from admissions.callback import EXAMPLE, best_time_in, call_at, find_phone, tidy_time
from admissions.hours import line_status

logger = logging.getLogger(__name__)

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"  # no look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G)
CALLBACK_BUTTON = {"title": "Ask admissions to call me", "payload": "/request_callback"}


def new_reference_code() -> str:
    """A short code like ``K7F-2Q`` that a visitor can read out on the phone."""
    chars = [secrets.choice(CODE_ALPHABET) for _ in range(5)]
    return "".join(chars[:3]) + "-" + "".join(chars[3:])


def refused_phones(tracker: Tracker) -> int:
    """How many numbers in a row the callback form has refused for the question pending."""
    refused = 0
    for event in reversed(tracker.events):
        if event.get("event") != "slot":
            continue
        if event.get("name") == "requested_slot" and event.get("value") != "callback_phone":
            break
        if event.get("name") == "callback_phone" and event.get("value") is None:
            refused += 1
    return refused


def booking_text(tracker: Tracker) -> str:
    """What the visitor booked, in one sentence: the number, the best time and the code."""
    code = tracker.get_slot("reference_code")
    number = call_at(tracker.get_slot("callback_phone"), tracker.get_slot("callback_best_time"))
    text = f"You've asked admissions to call you at {number}."
    if code:
        text += f" Your reference code is {code}."
    return text


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
        if tracker.get_slot("callback_requested") is True and tracker.get_slot("callback_phone"):
            # booked already: show the booking and the line, never a second booking
            text = (
                f"{booking_text(tracker)} {status.message} If you'd rather not wait, you can "
                f"call {phone()} yourself and mention your code."
            )
            dispatcher.utter_message(text=text, buttons=[call_button()])
            return []
        if status.is_open:
            text = (
                f"{status.message} Tap to call {phone()} and a person will pick up where we left "
                f"off. Mention code {code} so they can find this chat."
            )
            buttons = [call_button(), CALLBACK_BUTTON]
        else:
            text = (
                f"{status.message} You can call {phone()} then, or I can ask admissions to call "
                f"you back. Mention code {code} so they can find this chat."
            )
            buttons = [CALLBACK_BUTTON, call_button()]
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
        dispatcher.utter_message(text=" ".join(lines), buttons=[call_button()])
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
        """A valid US number found anywhere in the answer, stored as E.164; a best time said in
        the same message is kept too, even when the number is refused (the form asks again)."""
        text = str(value or "")
        result: dict[str, Any] = {"callback_phone": find_phone(text)}
        when = best_time_in(text)
        if when and not tracker.get_slot("callback_best_time"):
            result["callback_best_time"] = when
        if result["callback_phone"] is None:
            logger.info("callback: phone number refused")
        return result

    def validate_callback_best_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Free text, trimmed to a sensible length."""
        when = tidy_time(str(value or ""))[:120]
        return {"callback_best_time": when or None}


class ActionAskCallbackPhone(Action):
    """The phone question; after a refused number, one clear re-ask with an example."""

    def name(self) -> str:
        """Action name used in domain.yml (the form calls it instead of utter_ask_...)."""
        return "action_ask_callback_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask for the number; say what was wrong with the last one when it was refused."""
        refused = refused_phones(tracker)
        if not refused:
            dispatcher.utter_message(
                text=f"What number should we call? A US number with its area code, for example "
                f"{EXAMPLE}."
            )
            return []
        kept = "your name" + (
            " and the best time to call" if tracker.get_slot("callback_best_time") else ""
        )
        text = (
            f"I couldn't read a US phone number there. Could you type it with the area code, "
            f"for example {EXAMPLE}? I've kept {kept}."
        )
        if refused > 1:
            dispatcher.utter_message(
                text=f"{text} Or call admissions yourself at {phone()}.", buttons=[call_button()]
            )
        else:
            dispatcher.utter_message(text=text)
        return []


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
        number = call_at(tracker.get_slot("callback_phone"), tracker.get_slot("callback_best_time"))
        dispatcher.utter_message(
            text=(
                f"Thank you, {name}. I'll ask admissions to call {number}. "
                f"Your reference code is {code}: mention it if you call us first at {phone()}."
            ),
            buttons=[call_button()],
        )
        logger.info("callback requested")
        return [SlotSet("callback_requested", True), SlotSet("reference_code", code)]
