"""``action_extract_facts``: fill assessment slots from whatever the visitor writes.

Runs after every user message (custom slot mapping), so facts volunteered early
("I work 9-5 Mon–Fri and have two kids") are kept and not asked again, and corrections
("actually I work nights") replace the earlier answer.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.slots import DIGRESSIONS, NONE_VALUE, READY_WORDS, SCREENING_SLOTS
from admissions.extract import Facts, extract_facts, to_first_person
from admissions.extract_schedule import BARE_WORK_DESCRIPTIONS
from admissions.profile import WEEKDAYS, WeeklyPicture, merge_windows

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
YES_INTENTS = {"affirm"}
NO_INTENTS = {"deny"}


ASKED_ABOUT = {"work_school": "work", "availability": "free"}


def _merged(new: WeeklyPicture, old_slot: Any, replace: bool) -> dict[str, Any]:
    """The new picture, added to the old one unless the visitor is correcting it."""
    old = WeeklyPicture.from_slot(old_slot)
    if replace or old.is_empty():
        return new.to_slot()
    windows = {
        day: merge_windows(old.windows.get(day, []) + new.windows.get(day, [])) for day in WEEKDAYS
    }
    max_days = new.max_days if new.max_days is not None else old.max_days
    max_hours = new.max_hours if new.max_hours is not None else old.max_hours
    return WeeklyPicture({d: w for d, w in windows.items() if w}, max_days, max_hours).to_slot()


def _facts_events(facts: Facts, tracker: Tracker) -> list[dict[str, Any]]:
    """Slot events for every fact the message stated."""
    events: list[dict[str, Any]] = []
    if facts.payment is not None:
        events.append(SlotSet("payment", facts.payment))
    if facts.payer is not None:
        events.append(SlotSet("payer", facts.payer))
        if facts.payment is None:
            events.append(SlotSet("payment", "insurance"))
    if facts.work_school is not None:
        events.append(SlotSet("work_school", facts.work_school))
        busy = (
            _merged(facts.busy, tracker.get_slot("busy_schedule"), facts.correction)
            if facts.busy is not None and facts.work_school != NONE_VALUE
            else None
        )
        events.append(SlotSet("busy_schedule", busy))
    if facts.can_take_leave is not None:
        events.append(SlotSet("can_take_leave", facts.can_take_leave))
    if facts.caregiving is not None:
        events.append(SlotSet("caregiving", ", ".join(facts.caregiving) or NONE_VALUE))
    if facts.free is not None and not facts.free.is_empty():
        merged = _merged(facts.free, tracker.get_slot("availability"), facts.correction)
        events.append(SlotSet("availability", merged))
    if facts.severe_withdrawal:
        events.append(SlotSet("severe_withdrawal", True))
        events.append(SlotSet("screen_withdrawal", True))
    return events


def _keep_details(events: list[dict[str, Any]], tracker: Tracker) -> list[dict[str, Any]]:
    """Drop a bare "works"/"student" (and its empty busy hours) when a fuller answer is on file.

    "I don't want my job finding out" mentions a job; it must not erase "works Thu–Sat
    19:00–7:00". A correction ("actually I work nights") still replaces the old answer.
    """
    new = next((e for e in events if e["name"] == "work_school"), None)
    old = tracker.get_slot("work_school")
    if new is None or new["value"] not in BARE_WORK_DESCRIPTIONS or old in (None, "", NONE_VALUE):
        return events
    if str(old) == new["value"] or not str(old).startswith(new["value"].split()[0]):
        return events  # same answer, or a different kind (a student who now says "I work")
    return [e for e in events if e["name"] not in ("work_school", "busy_schedule")]


def _readiness(intent: str | None, answer: bool | None, text: str) -> str | None:
    """Any answer to "how ready do you feel?" says something: ready, or not sure yet."""
    if intent in DIGRESSIONS:
        return None
    if answer is True or intent in ("ready_to_start", "for_someone_else", "affirm"):
        return "ready"
    if answer is False or intent in ("not_ready", "deny"):
        return "unsure"
    return "ready" if any(w in text.lower().split() for w in READY_WORDS) else "unsure"


def _answer_events(
    requested: str | None, intent: str | None, facts: Facts, text: str = ""
) -> list[dict[str, Any]]:
    """Slot events for a plain answer to the question being asked (yes/no, "nobody")."""
    answer: bool | None = None
    if intent in YES_INTENTS:
        answer = True
    elif intent in NO_INTENTS:
        answer = False
    elif facts.answer is not None:
        answer = facts.answer
    if requested in SCREENING_SLOTS and answer is not None:
        return [SlotSet(requested, answer)]
    if requested == "caregiving" and facts.caregiving is None and answer is False:
        return [SlotSet("caregiving", NONE_VALUE)]
    if requested == "work_school" and facts.work_school is None and answer is False:
        return [SlotSet("work_school", NONE_VALUE), SlotSet("busy_schedule", None)]
    if requested == "readiness":
        value = _readiness(intent, answer, text)
        return [SlotSet("readiness", value)] if value else []
    return []


class ActionExtractFacts(Action):
    """Extract payment, work/school, caregiving, free time and screening answers."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_extract_facts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Parse the latest user message and return the slots it fills."""
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")[:MAX_TEXT]
        intent = (message.get("intent") or {}).get("name")
        if intent == "crisis":
            return []  # the crisis reply comes first; nothing else is read from this message
        if tracker.active_loop_name == "callback_form":
            return []  # a callback time or name is not an answer to the assessment
        requested = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
        facts = (
            Facts()
            if text.startswith("/")
            else extract_facts(text, runtime.nlp(), asked_about=ASKED_ABOUT.get(str(requested)))
        )
        if (
            tracker.get_slot("visitor_role") == "loved_one"
            and not text.startswith("/")
            and not facts.mentioned()
        ):
            # "he works 7 to 3, his kids…": read it as the loved one speaking
            facts = extract_facts(
                to_first_person(text), runtime.nlp(), asked_about=ASKED_ABOUT.get(str(requested))
            )
        events = _facts_events(facts, tracker)
        if intent in DIGRESSIONS and intent != "nlu_fallback" and not facts.correction:
            # A question is not a correction: "is this confidential? my job can't find out"
            # must not replace the work hours given earlier with a bare "works".
            events = [e for e in events if tracker.get_slot(e["name"]) in (None, "", {}, [])]
        if not facts.correction:
            events = _keep_details(events, tracker)
        filled = {e["name"] for e in events}
        events += [
            e for e in _answer_events(requested, intent, facts, text) if e["name"] not in filled
        ]
        logger.info("extracted %d slot(s) for requested=%s", len(events), requested)
        return events
