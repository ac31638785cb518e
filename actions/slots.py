"""Translate between Rasa slots and the pure ``VisitorProfile`` (one place for slot names)."""

from __future__ import annotations

from typing import Any

from admissions.profile import VisitorProfile, WeeklyPicture, WorkSchool

SCREENING_SLOTS: dict[str, str] = {
    "screen_daily_use": "daily_use",
    "screen_withdrawal": "withdrawal",
    "screen_relapse": "relapse",
    "screen_home_unsafe": "home_unsafe",
}
ASSESSMENT_SLOTS: tuple[str, ...] = (
    "readiness",
    "payment",
    "work_school",
    "caregiving",
    "availability",
    *SCREENING_SLOTS,
)
NONE_VALUE = "none"  # slot value for "nobody depends on me" / "I don't work or study"
# Intents the assessment form should NOT swallow: the form is rejected so a rule can answer
# them (digressions, crisis, handoff) and then resume.
DIGRESSIONS = {
    "ask_program_info",
    "ask_cost",
    "ask_confidentiality",
    "bot_challenge",
    "out_of_scope",
    "request_human",
    "request_callback",
    "crisis",
    "goodbye",
    "forget_me",
    "greet",
    "thanks",
    "nlu_fallback",
    "im_safe",
}
# Digressions that a rule answers. When such a message also carries a fact ("i have aetna,
# will it cover iop?", "is this confidential? my job can't find out"), the fact is kept but
# the form still steps aside so the question is answered before the next one is asked.
QUESTIONS_TO_ANSWER = {
    "ask_program_info",
    "ask_cost",
    "ask_confidentiality",
    "bot_challenge",
    "request_human",
    "request_callback",
    "forget_me",
    "goodbye",
}
READY_WORDS = (
    "ready",
    "want",
    "need",
    "asap",
    "soon",
    "now",
    "today",
    "tonight",
    "start",
)  # slot value for "nobody depends on me" / "I don't work or study"


def profile_from_slots(slots: dict[str, Any]) -> VisitorProfile:
    """Build the scoring input from the tracker's current slot values."""
    caregiving = slots.get("caregiving")
    relations = (
        [c.strip() for c in str(caregiving).split(",") if c.strip()]
        if caregiving and caregiving != NONE_VALUE
        else []
    )
    screening = {
        key: bool(slots[slot])
        for slot, key in SCREENING_SLOTS.items()
        if slots.get(slot) is not None
    }
    return VisitorProfile(
        for_loved_one=slots.get("visitor_role") == "loved_one",
        readiness=slots.get("readiness"),
        payment=slots.get("payment"),
        payer=slots.get("payer"),
        busy=WeeklyPicture.from_slot(slots.get("busy_schedule")),
        work_school=WorkSchool.from_slot(slots.get("work_school")),
        caregiving=relations,
        free=WeeklyPicture.from_slot(slots.get("availability")),
        screening=screening,
        severe_withdrawal=bool(slots.get("severe_withdrawal")),
        can_take_leave=bool(slots.get("can_take_leave")),
    )
