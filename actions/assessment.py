"""The assessment form: its validation action and one "ask" action per question."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.questions import QUESTIONS, render, render_clarify
from actions.slots import ASSESSMENT_SLOTS, DIGRESSIONS, QUESTIONS_TO_ANSWER, profile_from_slots
from admissions.fit import read_back, summary_lines
from admissions.profile import WeeklyPicture
from admissions.stretch import find_stretch


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
            e
            for e in events
            if e.get("event") == "slot"
            and e["name"] != "requested_slot"
            and not (e["name"] == "clarify" and e.get("value") is None)
        ]
        requested = tracker.get_slot("requested_slot")
        answered = any(e["name"] == requested and e.get("value") is not None for e in extracted)
        text = str(tracker.latest_message.get("text") or "")
        if (
            extracted
            and intent in QUESTIONS_TO_ANSWER
            and not (answered and not _asks(text) and not _leaves(text))
        ):
            # The facts stay, but a question must not be swallowed: step aside so the
            # digression rule answers it, then the form resumes with the next question.
            events.append(ActionExecutionRejected("assessment_form"))
        elif extracted or intent not in DIGRESSIONS:
            # A SlotSet keeps Rasa from rejecting the form: unclear answers are re-asked
            # (with an example, then buttons) instead of falling out of the form.
            events.append(SlotSet("assessment_started", True))
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The domain's questions, then one near-miss question when a track almost fits."""
        slots = list(domain_slots)
        if tracker.get_slot("near_miss_ok") is not None:
            return [*slots, "near_miss_ok"]
        if any(tracker.get_slot(s) is None for s in slots):
            return slots
        if find_stretch(profile_from_slots(tracker.slots), runtime.facility()) is not None:
            slots.append("near_miss_ok")
        return slots

    def validate_availability(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept only a weekly picture that says something about time."""
        if WeeklyPicture.from_slot(value).is_empty():
            return {"availability": None}
        return {"availability": value}


_QUESTION_START = re.compile(
    r"^\W*(what|how|is|are|can|could|do|does|will|would|who|where|when|why|which)\b"
)


_LEAVING = re.compile(
    r"\b(bye|goodbye|good night|goodnight|gtg|g2g|gotta go|got to go|have to go|need to go|"
    r"talk later|ttyl|see ya|see you|done for now)\b"
)


def _leaves(text: str) -> bool:
    """Does the message say goodbye in words ("fine, bye"), not only by the classifier's guess?"""
    return bool(_LEAVING.search(text.lower()))


def _asks(text: str) -> bool:
    """Does the message ask something (so an answer in it must not swallow the question)?"""
    return "?" in text or bool(_QUESTION_START.match(text.lower()))


def _filled_something(tracker: Tracker) -> bool:
    """Did the visitor's last message fill some assessment answer (just not this one)?"""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") in ASSESSMENT_SLOTS:
            if event.get("value") is not None:
                return True
    return False


# Answers whose change is read back ("Got it, I've updated that"), by their summary line.
_SUMMARY_LINE = ("readiness", "payment", "work_school", "caregiving", "availability")


def _changed_answers(tracker: Tracker) -> list[str]:
    """Answers the visitor's last message changed ("actually I work nights"), in summary words."""
    last_user = max(
        (i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=None
    )
    if last_user is None:
        return []
    before: dict[str, Any] = {}
    started = False  # before the first question, a changed answer is not worth announcing
    for event in tracker.events[:last_user]:
        if event.get("event") == "slot" and event.get("name") in _SUMMARY_LINE:
            before[event["name"]] = event.get("value")
        elif event.get("event") == "slot" and event.get("name") == "assessment_started":
            started = bool(event.get("value"))
    if not started:
        return []
    changed = {
        e["name"]
        for e in tracker.events[last_user:]
        if e.get("event") == "slot"
        and e.get("name") in _SUMMARY_LINE
        and before.get(e["name"]) not in (None, e.get("value"))
        and e.get("value") is not None
    }
    if not changed:
        return []
    lines = dict(summary_lines(profile_from_slots(tracker.slots)))
    return [lines[name] for name in _SUMMARY_LINE if name in changed and name in lines]


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
            clarify = tracker.get_slot("clarify")
            clarify = clarify if isinstance(clarify, dict) and clarify.get("slot") == slot else None
            resumed = (
                (intent in DIGRESSIONS and intent != "nlu_fallback")
                or _filled_something(tracker)
                or clarify is not None  # a specific follow-up is not a failed answer
            )
            # Resuming after a digression or a crisis is not a failed answer.
            counts[slot] = max(1, int(counts.get(slot, 0))) if resumed else counts.get(slot, 0) + 1
            loved_one = tracker.get_slot("visitor_role") == "loved_one"
            events: list[dict[str, Any]] = [SlotSet("ask_counts", counts)]
            if tracker.get_slot("severe_withdrawal") and not tracker.get_slot("withdrawal_warned"):
                # Seizures, hallucinations or DTs (now or before): warn before anything else.
                dispatcher.utter_message(response="utter_withdrawal_warning")
                events.append(SlotSet("withdrawal_warned", True))
            updated = _changed_answers(tracker)
            if updated:
                dispatcher.utter_message(text="Got it, I've updated that. " + " ".join(updated))
            text, buttons = (
                render_clarify(slot, clarify, loved_one)
                if clarify
                else render(slot, counts[slot], loved_one)
            )
            dispatcher.utter_message(text=text, buttons=buttons)
            return events

    AskAction.__name__ = AskAction.__qualname__ = f"Ask_{slot}"
    AskAction.__doc__ = f"Ask the visitor about {slot.replace('_', ' ')}."
    return AskAction


ASK_ACTIONS = [_ask_action(slot) for slot in QUESTIONS]

CONFIRM_BUTTONS = [
    {"title": "Yes, that's right", "payload": "/affirm"},
    {"title": "Change it", "payload": "/deny"},
]


class ActionAskAvailabilityConfirmed(Action):
    """Read the weekly picture back before scoring, so a misreading costs one turn."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_ask_availability_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say what was understood of the free time, with [Yes] [Change it]."""
        events: list[dict[str, Any]] = []
        if tracker.get_slot("severe_withdrawal") and not tracker.get_slot("withdrawal_warned"):
            dispatcher.utter_message(response="utter_withdrawal_warning")
            events.append(SlotSet("withdrawal_warned", True))
        dispatcher.utter_message(
            text=read_back(profile_from_slots(tracker.slots)), buttons=CONFIRM_BUTTONS
        )
        return events


class ActionAskNearMissOk(Action):
    """Ask whether a track that almost fits could be made to work ("until 1 PM?")."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_ask_near_miss_ok"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """The near-miss question with [Yes, I could] [No]; skipped when nothing almost fits."""
        stretch = find_stretch(profile_from_slots(tracker.slots), runtime.facility())
        if stretch is None:
            return [SlotSet("near_miss_ok", False)]
        loved_one = tracker.get_slot("visitor_role") == "loved_one"
        dispatcher.utter_message(
            text=stretch.question,
            buttons=[
                {"title": "Yes, they could" if loved_one else "Yes, I could", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
            ],
        )
        return []
