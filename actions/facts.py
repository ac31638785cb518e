"""``action_extract_facts``: fill assessment slots from whatever the visitor writes.

Runs after every user message (custom slot mapping), so facts volunteered early
("I work 9-5 Mon–Fri and have two kids") are kept and not asked again, and corrections
("actually I work nights") replace the earlier answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.slots import (
    DIGRESSIONS,
    NONE_VALUE,
    READY_WORDS,
    SCREENING_SLOTS,
    profile_from_slots,
)
from admissions.profile import WEEKDAYS, WeeklyPicture, WorkSchool, merge_windows
from admissions.stretch import find_stretch
from admissions.understanding import (
    DAY_END,
    DAY_START,
    UNCLEAR,
    Facts,
    care_away_picture,
    extract_facts,
    mentions_care_away,
    parse,
    read_relative,
    read_screening,
    to_first_person,
)

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
YES_INTENTS = {"affirm"}
NO_INTENTS = {"deny"}


ASKED_ABOUT = {
    "work_school": "work",
    "availability": "free",
    "availability_confirmed": "free",
    "caregiving": "care",
}
ON_LEAVE = WorkSchool(job="works", on_leave=True)  # a visitor who can step away from the job
NO_WORK = WorkSchool()  # "I don't work or go to school"
# Intents the classifier guesses for short replies ("scared honestly", "now"): the reply
# still answers the question that was asked.
SHORT_ANSWER_GUESSES = {
    "nlu_fallback",
    "greet",
    "thanks",
    "out_of_scope",
    "bot_challenge",
}


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
        if facts.payer is None and facts.payment != "insurance" and tracker.get_slot("payer"):
            events.append(SlotSet("payer", None))  # "I'd pay myself" after "Humana"
    if facts.payer is not None:
        events.append(SlotSet("payer", facts.payer))
        if facts.payment is None:
            events.append(SlotSet("payment", "insurance"))
    if facts.work_school is not None:
        events.append(SlotSet("work_school", facts.work_school.to_slot()))
        busy = (
            _merged(facts.busy, tracker.get_slot("busy_schedule"), facts.correction)
            if facts.busy is not None and not facts.work_school.is_none()
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
    event = next((e for e in events if e["name"] == "work_school"), None)
    new = WorkSchool.from_slot(event["value"]) if event else None
    old = WorkSchool.from_slot(tracker.get_slot("work_school"))
    if new is None or old is None or not new.is_bare() or new.is_none() or old.is_none():
        return events
    if old == new or old.kind != new.kind:
        return events  # same answer, or a different kind (a student who now says "I work")
    return [e for e in events if e["name"] not in ("work_school", "busy_schedule")]


def _readiness(intent: str | None, answer: bool | None, text: str) -> str | None:
    """Any answer to "how ready do you feel?" says something: ready, or not sure yet."""
    if (intent in DIGRESSIONS and intent not in SHORT_ANSWER_GUESSES) or "?" in text:
        return None  # a question or a digression, not an answer
    if answer is True or intent in ("ready_to_start", "for_someone_else", "affirm"):
        return "ready"
    if answer is False or intent in ("not_ready", "deny"):
        return "unsure"
    words = set(re.findall(r"[a-z]+", text.lower()))
    return "ready" if words & set(READY_WORDS) else "unsure"


# A follow-up about work hours, and the reference it resolves once they are known.
_WORK_FOLLOW_UPS = {
    "after_work": "after my shift",
    "before_work": "before my shift",
    "days_off": "on my days off",
    "not_working": "whenever i'm not at work",
}
_NO_WORK = re.compile(
    r"\b(stopped working|(?:do|does|did)n'?t work|not working|no job|no longer work\w*|"
    r"quit (?:my|her|his|their) job|lost (?:my|her|his|their) job|laid off|dropped out|"
    r"stay[- ]at[- ]home|sahm|sahd|home with the (?:kids|baby|children)|homemaker|housewife|"
    r"househusband|between jobs|unemployed|retired|on disability|on ssi|on ssdi|out of work)\b"
)
_ANY_TIME = re.compile(
    r"\b(all week|any ?time|whenever(?! (?:my|his|her|the|he|she|they))|all day every day|"
    r"days and evenings|pretty much always|wide open|totally free|free all the time|"
    r"every day,? all day|whatever works|any day)\b"
)
_NOBODY_NOW = re.compile(r"\b(?:nobody|no one|noone)\b(?! else)")
_OWNS = re.compile(r"\b(?:i|we|he|she|they)\s+(?:have|has|got|'ve)\b|\bmy\b|\bour\b|\bi'?m on\b")
_CONFIRMS = re.compile(
    r"^\W*(that'?s (right|correct|it)|correct|right|exactly|perfect|sounds right)\b"
)
_CHANGES = re.compile(r"\b(change|wrong|not right|incorrect|not quite|fix)\b")


def _answer_events(
    requested: str | None,
    intent: str | None,
    facts: Facts,
    text: str = "",
    counts: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Slot events for a plain answer to the question being asked (yes/no, "nobody")."""
    answer: bool | None = None
    if intent in YES_INTENTS:
        answer = True
    elif intent in NO_INTENTS:
        answer = False
    elif facts.answer is not None:
        answer = facts.answer
    if requested in SCREENING_SLOTS:
        # The content wins over the word: "no — my brother still uses in the house" is a yes.
        content = read_screening(requested, text) if text and not text.startswith("/") else None
        if content == UNCLEAR:
            return [SlotSet("clarify", {"slot": requested, "kind": "contradiction"})]
        if isinstance(content, bool):
            return [SlotSet(requested, content)]
        return [SlotSet(requested, answer)] if answer is not None else []
    if requested == "caregiving" and facts.caregiving is None and answer is False:
        return [SlotSet("caregiving", NONE_VALUE)]
    if requested == "work_school" and facts.work_school is None and answer is False:
        return [SlotSet("work_school", NO_WORK.to_slot()), SlotSet("busy_schedule", None)]
    if requested == "work_school" and facts.work_school is None and _NO_WORK.search(text.lower()):
        return [SlotSet("work_school", NO_WORK.to_slot()), SlotSet("busy_schedule", None)]
    if requested == "work_school" and facts.work_school is None and facts.can_take_leave:
        # "I'm on short-term disability until spring": a job they can step away from
        return [SlotSet("work_school", ON_LEAVE.to_slot())]
    if requested == "availability_confirmed" and facts.free is None:
        if answer is True or _CONFIRMS.search(text.lower()):
            return [SlotSet("availability_confirmed", True)]
        if answer is False or _CHANGES.search(text.lower()):
            # back to the free-time question, asked afresh (not as a failed answer)
            return [
                SlotSet("availability", None),
                SlotSet("availability_confirmed", None),
                SlotSet("ask_counts", {**(counts or {}), "availability": 0}),
            ]
        return []
    if requested == "near_miss_ok":
        if answer is True or intent == "affirm":
            return [SlotSet("near_miss_ok", True)]
        if answer is False or intent == "deny":
            return [SlotSet("near_miss_ok", False)]
        return []
    if requested == "readiness":
        value = _readiness(intent, answer, text)
        return [SlotSet("readiness", value)] if value else []
    return []


def _stretched(events: list[dict[str, Any]], tracker: Tracker) -> list[dict[str, Any]]:
    """On "yes, I could" to a near miss, add the stretched hours to the free time."""
    if not any(e["name"] == "near_miss_ok" and e["value"] is True for e in events):
        return []
    stretch = find_stretch(profile_from_slots(tracker.slots), runtime.facility())
    if stretch is None:
        return []
    free = WeeklyPicture.from_slot(tracker.get_slot("availability"))
    return [SlotSet("availability", stretch.apply(free).to_slot())]


_FREE_CUE = re.compile(r"\b(free|available|availability|can (come|do|make)|could (come|do|make))\b")


def _in_context(
    facts: Facts, text: str, requested: str | None, tracker: Tracker, doc: Any = None
) -> tuple[Facts, list[dict[str, Any]]]:
    """Read the message next to what the visitor already said (care-away time, work hours).

    * Hours of someone the visitor cares for ("he's at kindergarten 8:30 to 12:30") are when
      that person is away, kept as ``care_away``; they are free time only when said so.
    * "whenever he's at kindergarten", "on my days off", "after my shift" resolve against
      ``care_away`` and the work hours; what cannot be resolved gets a specific follow-up.
    """
    if text.startswith("/"):
        return facts, []
    events: list[dict[str, Any]] = []
    lowered = text.lower()
    if "?" in text and not _OWNS.search(lowered):
        # "do you guys accept medicaid?" asks about Medicaid; it doesn't say they have it
        facts = replace(facts, payment=None, payer=None)
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent == "for_someone_else" and requested is None:
        facts = replace(facts, caregiving=None)  # "my son" is who they ask for, not a dependant
    pending = tracker.get_slot("clarify")
    if (
        isinstance(pending, dict)
        and pending.get("kind") in _WORK_FOLLOW_UPS
        and requested == "availability"
    ):
        # the answer to "what time does your shift end?" is work hours; the free time is then
        # the reference the visitor made ("after my shift") resolved against them
        work = extract_facts(doc, asked_about="work")
        if work.busy is not None and not work.busy.is_empty():
            resolved = read_relative(
                _WORK_FOLLOW_UPS[pending["kind"]],
                work.busy,
                WeeklyPicture(),
                tracker.get_slot("visitor_role") == "loved_one",
            )
            facts = replace(
                work,
                free=resolved.free if resolved is not None else None,
                work_school=work.work_school or WorkSchool(job="works"),
            )
            return facts, events
    away = (
        care_away_picture(text, runtime.nlp())
        if (facts.caregiving or requested == "caregiving") and mentions_care_away(lowered)
        else None
    )
    if away is not None:
        events.append(SlotSet("care_away", away.to_slot()))
        if not _FREE_CUE.search(lowered):
            # his kindergarten hours are not the visitor's free or busy time (unless said so)
            facts = replace(facts, free=None, busy=None)
    if requested in ("availability", "availability_confirmed") or _FREE_CUE.search(lowered):
        busy = WeeklyPicture.from_slot(tracker.get_slot("busy_schedule"))
        care_away = next(
            (WeeklyPicture.from_slot(e["value"]) for e in events if e["name"] == "care_away"),
            WeeklyPicture.from_slot(tracker.get_slot("care_away")),
        )
        loved_one = tracker.get_slot("visitor_role") == "loved_one"
        relative = read_relative(text, busy, care_away, loved_one)
        if relative is not None and relative.free is not None:
            facts = replace(facts, free=relative.free)
        elif relative is not None and relative.follow_up:
            facts = replace(facts, free=None)
            events.append(
                SlotSet(
                    "clarify",
                    {"slot": "availability", "text": relative.follow_up, "kind": relative.kind},
                )
            )
        elif requested == "availability" and (facts.free is None or facts.free.is_empty()):
            if _ANY_TIME.search(lowered):  # "free pretty much all week, days and evenings"
                every_day = {day: [(DAY_START, DAY_END)] for day in WEEKDAYS}
                facts = replace(facts, free=WeeklyPicture(every_day))
    return facts, events


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
        if tracker.active_loop_name in ("callback_form", "handoff_packet_form"):
            # a callback time, a name, a date of birth or a member ID is not an assessment answer
            return []
        requested = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
        doc = None if text.startswith("/") else parse(text, runtime.nlp())  # parsed once
        facts = extract_facts(doc, asked_about=ASKED_ABOUT.get(str(requested)))
        if (
            tracker.get_slot("visitor_role") == "loved_one"
            and not text.startswith("/")
            and not facts.mentioned()
        ):
            # "he works 7 to 3, his kids…": read it as the loved one speaking
            facts = extract_facts(
                to_first_person(text), runtime.nlp(), asked_about=ASKED_ABOUT.get(str(requested))
            )
        if (
            facts.correction
            and facts.caregiving is None
            and tracker.get_slot("caregiving") not in (None, NONE_VALUE)
            and _NOBODY_NOW.search(text.lower())
        ):
            # "actually she's 22 and looks after herself, so no one really"
            facts = replace(facts, caregiving=[])
        if facts.correction and not (facts.free or facts.busy or facts.work_school):
            # "actually I meant Tuesdays and Thursdays" corrects the last schedule answer
            about = "free" if tracker.get_slot("availability") else "work"
            if about == "free" or tracker.get_slot("work_school"):
                retry = extract_facts(doc, asked_about=about)
                if retry.free or retry.busy:
                    facts = retry
        facts, context_events = _in_context(facts, text, requested, tracker, doc)
        if requested == "availability_confirmed" and facts.free is not None:
            facts = replace(facts, correction=True)  # "no, only mornings": a new picture
        events = _facts_events(facts, tracker) + context_events
        if intent in DIGRESSIONS and intent != "nlu_fallback" and not facts.correction:
            # A question is not a correction: "is this confidential? my job can't find out"
            # must not replace the work hours given earlier with a bare "works".
            events = [e for e in events if tracker.get_slot(e["name"]) in (None, "", {}, [])]
        if not facts.correction:
            events = _keep_details(events, tracker)
        filled = {e["name"] for e in events}
        counts = tracker.get_slot("ask_counts")
        events += [
            e
            for e in _answer_events(requested, intent, facts, text, counts)
            if e["name"] not in filled
        ]
        events += _stretched(events, tracker)
        if tracker.get_slot("clarify") and not any(e["name"] == "clarify" for e in events):
            events.append(SlotSet("clarify", None))  # a follow-up lasts one turn
        logger.info("extracted %d slot(s) for requested=%s", len(events), requested)
        return events
