"""The consented "help admissions prepare" step: the handoff packet form and its actions.

Offered once the fit is explained (and again after a callback is booked, while not yet done).
Each answer is read next to its question (``from_text`` mappings on ``requested_slot``), checked
by ``admissions.handoff.answers``, and gathered into the ``handoff_packet`` slot, which the back end
reads. Every question can be skipped; an answer that can't be read gets one re-ask with an
example, then is left for admissions. A crisis message is never taken as an answer: the form
steps aside and the crisis rule answers (``data/rules/safety.yml``).

The questions are asked by ``actions.packet_ask``; the offer and the step's end are in
``actions.packet_offer``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.assessment import _leaves
from actions.packet_ask import ASK_ACTIONS as ASK_ACTIONS  # the form's ask actions, kept here
from actions.packet_ask import SLOTS, for_loved_one, local_today
from actions.packet_questions import WHY
from admissions.callback import tidy_time
from admissions.handoff import answers as step
from admissions.handoff.packet import SHORT

logger = logging.getLogger(__name__)

FORM = "handoff_packet_form"


_PERSON = re.compile(
    r"\b(person|human|someone|somebody|agent|representative|staff|counselor|real people)\b"
)
INSURANCE_DETAILS = {
    "packet_member_id",
    "packet_group_number",
    "packet_subscriber_relationship",
    "packet_subscriber_name",
    "packet_subscriber_dob",
}


def answers(slots: dict[str, Any]) -> dict[str, Any]:
    """The step's answers by packet key, from slot values (plus what is known without asking)."""
    found = {key: slots.get(f"packet_{key}") for key in step.PACKET_KEYS}
    if slots.get("visitor_role") != "loved_one":
        found["relationship"] = "self"
    if found["callback_channel"] is None and slots.get("consent_text") is False:
        found["callback_channel"] = "phone"  # the callback form said: no texts
    return found


def _read(
    key: str, text: str, tracker: Tracker
) -> Any:  # the value, or None when the reply can't be read
    today = local_today()
    readers: dict[str, Callable[[str], Any]] = {
        "first_name": step.read_first_name,
        "dob": lambda t: step.read_birth_date(t, today),
        "relationship": step.read_relationship,
        "member_id": step.read_member_id,
        "group_number": step.read_group_number,
        "subscriber_name": step.read_name,
        "subscriber_dob": lambda t: step.read_birth_date(t, today),
        "last_use": step.read_last_use,
        "mental_health_care": step.read_yes_no,
        "court_mandated": step.read_yes_no,
        "referral_source": step.read_free_text,
        "language": step.read_language,
        "callback_channel": step.read_channel,
        "best_time": lambda t: tidy_time(t)[:120] or None,
        "payer_other": lambda t: step.read_free_text(t, SHORT),
        "substances_other": step.read_free_text,
    }
    if key == "subscriber_relationship":
        value = step.read_subscriber_relationship(text)
        if value == "self" and for_loved_one(tracker) and "mine" in text.lower():
            mine = {"parent": "parent", "spouse_partner": "spouse"}
            return mine.get(str(tracker.get_slot("packet_relationship")), "other")
        return value
    return readers[key](text)


def _read_payer(text: str, tracker: Tracker) -> dict[str, Any] | None:
    """Slot values for the payer answer; None when it can't be read."""
    accepted = runtime.facility().payers.accepted
    lowered = text.lower()
    known = tracker.get_slot("payer")
    matched = step.match_payer(text, accepted)
    if matched:
        return {"packet_payer": matched}
    if any(w in lowered for w in ("no insurance", "uninsured", "don't have", "self pay")):
        return {"packet_payer": "none", "packet_payer_other": None}
    if known and step.read_yes_no(text) is True:
        if known in accepted:
            return {"packet_payer": known}
        return {"packet_payer": "other", "packet_payer_other": known}
    if lowered.strip() in ("another plan", "other", "another", "a different one", "different"):
        return {"packet_payer": "other"}
    if step.read_yes_no(text) is not None:
        return None
    free = step.read_free_text(text, SHORT)  # the schema's limit
    return {"packet_payer": "other", "packet_payer_other": free} if free else None


class ValidateHandoffPacketForm(FormValidationAction):
    """Reads each answer of the step, keeps what was given, and gathers the packet."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "validate_handoff_packet_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The questions that apply: loved-one only, insurance details, what is already known."""
        slots = [s for s in domain_slots if s in SLOTS]
        drop: set[str] = set()
        if not for_loved_one(tracker):
            drop.add("packet_relationship")
        payer = tracker.get_slot("packet_payer")
        if payer != "other":
            drop.add("packet_payer_other")
        if payer == "none":
            drop |= INSURANCE_DETAILS | {"packet_payer_other"}
        if tracker.get_slot("packet_subscriber_relationship") not in ("spouse", "parent", "other"):
            drop |= {"packet_subscriber_name", "packet_subscriber_dob"}
        if tracker.get_slot("packet_substances") != ["other"]:
            drop.add("packet_substances_other")
        if tracker.get_slot("consent_text") is False:
            drop.add("packet_callback_channel")  # no texts: admissions calls
        if tracker.get_slot("callback_best_time"):
            drop.add("packet_best_time")  # given in the callback form: not asked twice
        return [s for s in slots if s not in drop]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Validate; step aside for a person, a goodbye or forget-me; keep the packet current."""
        text = str(tracker.latest_message.get("text") or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        requested = tracker.get_slot("requested_slot")
        if requested in SLOTS and self._steps_aside(text, intent):
            return [SlotSet(requested, None), ActionExecutionRejected(FORM)]
        if requested in SLOTS and intent == "request_human":
            # "text me", "call me": the classifier's guess, but an answer to the question
            # (the domain's mapping leaves request_human out, so it is read here)
            result = await self._validate(requested, text, dispatcher, tracker)
            tracker.slots.update(result)
            events = [SlotSet(name, value) for name, value in result.items()]
            following = await self.next_requested_slot(dispatcher, tracker, domain)
            events += [following] if following else []
        else:
            events = await super().run(dispatcher, tracker, domain)
        if any(e.get("event") == "slot" and e.get("name") in SLOTS for e in events):
            values = dict(tracker.current_slot_values())
            for e in events:
                if e.get("event") == "slot":
                    values[e["name"]] = e.get("value")
            events.append(SlotSet("handoff_packet", step.build_packet(answers(values))))
        return events

    @staticmethod
    def _steps_aside(text: str, intent: str | None) -> bool:
        """A person asked for, a goodbye, a forget-me or a button payload is not an answer: the
        rules take it."""
        if text.startswith("/") or (intent == "request_human" and _PERSON.search(text.lower())):
            return True
        if intent == "goodbye" and _leaves(text):
            return True
        return intent == "forget_me" and any(
            w in text.lower() for w in ("delete", "forget", "erase", "remove")
        )

    async def _validate(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        key = slot.removeprefix("packet_")
        text = " ".join(str(value or "").split())[:300]
        if step.wants_to_stop(text):
            remaining = await self.required_slots(list(SLOTS), dispatcher, tracker, {})
            return {s: step.SKIP for s in remaining if s == slot or tracker.get_slot(s) is None}
        if step.is_skip(text):
            return {slot: step.SKIP, **self._reset(tracker, slot)}
        if key == "payer":
            result = _read_payer(text, tracker)
        elif key == "substances":
            read = step.read_substances(text)
            result = (
                None
                if read is None
                else {"packet_substances": read[0], "packet_substances_other": read[1]}
            )
        else:
            read_value = _read(key, text, tracker)
            result = None if read_value is None else {slot: read_value}
            if result and key == "best_time":
                result["callback_best_time"] = read_value
        if result is not None:
            return {**result, **self._reset(tracker, slot)}
        if "?" in text:
            dispatcher.utter_message(text=WHY)  # a question about the question: not a failure
            return {slot: None}
        reasks = dict(tracker.get_slot("packet_reasks") or {})
        if reasks.get(slot):
            dispatcher.utter_message(text="No problem, I'll leave that one for admissions.")
            return {slot: step.SKIP, **self._reset(tracker, slot)}
        reasks[slot] = 1
        logger.info("handoff packet: answer not read for %s", slot)
        return {slot: None, "packet_reasks": reasks}

    @staticmethod
    def _reset(tracker: Tracker, slot: str) -> dict[str, Any]:
        reasks = dict(tracker.get_slot("packet_reasks") or {})
        if not reasks.pop(slot, None):
            return {}
        return {"packet_reasks": reasks}


def _validator(slot: str) -> Callable[..., Any]:
    async def validate(
        self: ValidateHandoffPacketForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._validate(slot, value, dispatcher, tracker)

    validate.__doc__ = f"Read and check the answer for {slot}."
    return validate


for _slot in SLOTS:
    setattr(ValidateHandoffPacketForm, f"validate_{_slot}", _validator(_slot))
