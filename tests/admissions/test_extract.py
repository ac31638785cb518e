"""Whole visitor messages read into Facts: caregiving, payment, work/school, short answers."""

from __future__ import annotations

import pytest

from admissions import describe
from admissions.profile import PAYMENT_KINDS, WorkSchool
from admissions.understanding.facts import CARE_VALUES, Facts, extract_facts

# ---------------------------------------------------------------------------- caregiving
CAREGIVING = [
    ("I work 9-5 Mon–Fri and have two kids", ["children"]),
    ("my mom lives with me and I take care of her", ["mother"]),
    ("i have my kids every other week", ["children"]),
    ("I'm a single mom of 3", ["children"]),
    ("i have a son", ["child"]),
    ("my son and my daughter live with me", ["children"]),
    ("I have a 2 year old and a newborn", ["child", "infant"]),
    ("my husband is disabled and I take care of him", ["partner"]),
    ("My dad is sick. I look after him.", ["father"]),
    ("my 70 year old mother lives with me", ["mother"]),
    ("I take care of my grandma, she has dementia", ["grandparent"]),
    ("i'm my dad's caregiver", ["father"]),
    ("my mom will watch my kids", ["children"]),
    ("no kids but I have 2 dogs", ["pet"]),
    ("no kids, nobody depends on me", []),
    ("I don't have kids", []),
    ("I live alone", []),
    ("my kids are grown", []),
    ("my mother-in-law has alzheimers and lives with us", ["parent"]),
    ("i have a 16 year old daughter", ["child"]),
    ("I'm looking for my son, he is 24 and using heroin", None),
    ("my mom is worried about me", None),
    ("kids these days have it rough", None),
    ("we have Aetna through my job", None),
]


@pytest.mark.parametrize(("text", "expected"), CAREGIVING, ids=[c[0] for c in CAREGIVING])
def test_caregiving_names_who_depends_on_the_visitor(text: str, expected: list[str] | None) -> None:
    facts = extract_facts(text)
    assert facts.caregiving == expected
    assert all(v in CARE_VALUES for v in facts.caregiving or [])


# ---------------------------------------------------------------------------- payment
PAYMENT = [
    ("we have Aetna through my job", "insurance", "Aetna"),
    ("no insurance, money is tight", "tight_money", None),
    ("Medicaid", "medicaid", None),
    ("I'd pay myself", "self_pay", None),
    ("BCBS through my wife's job", "insurance", "Blue Cross Blue Shield"),
    ("anthem blue cross", "insurance", "Blue Cross Blue Shield"),
    ("I got blue cross through work", "insurance", "Blue Cross Blue Shield"),
    ("uhc", "insurance", "UnitedHealthcare"),
    ("I have united", "insurance", "UnitedHealthcare"),
    ("cigna ppo", "insurance", "Cigna"),
    ("tricare through my husband", "insurance", "Tricare"),
    ("I'm still on my parents insurance", "insurance", None),
    ("I don't know if my insurance covers it", "insurance", None),
    ("don't have insurance", "no_insurance", None),
    ("I don't have any health insurance right now", "no_insurance", None),
    ("i lost my insurance when i got laid off", "no_insurance", None),
    ("medicare advantage through humana", "medicare", "Humana"),
    ("i have medi-cal", "medicaid", None),
    ("I'm on masshealth", "medicaid", None),
    ("I have no insurance but I can pay out of pocket", "self_pay", None),
    ("can't afford much honestly", "tight_money", None),
    ("my parents will pay", "self_pay", None),
    ("I work 9-5 Mon–Fri", None, None),
]


@pytest.mark.parametrize(("text", "payment", "payer"), PAYMENT, ids=[p[0] for p in PAYMENT])
def test_payment_kind_and_insurer_are_recognised(
    text: str, payment: str | None, payer: str | None
) -> None:
    facts = extract_facts(text)
    assert (facts.payment, facts.payer) == (payment, payer)
    assert facts.payment is None or facts.payment in PAYMENT_KINDS


# ---------------------------------------------------------------------------- work / school
WORK_SCHOOL = [
    ("I work 9-5 Mon–Fri", "works Mon–Fri 9:00–17:00"),
    ("I work 3-11", "works 15:00–23:00"),
    ("12-hour night shifts, 3 a week", "works 12-hour night shifts, 3 days a week"),
    ("actually I work nights", "works nights"),
    ("I work weekends", "works weekends"),
    ("i work part time", "works part-time"),
    ("I'm a full time student, classes MWF 8 to 2", "full-time student, Mon, Wed, Fri 8:00–14:00"),
    ("I'm a student", "student"),
    ("I'm retired", "none"),
    ("I don't work", "none"),
    ("i'm unemployed right now", "none"),
    (
        "I have classes tues and thurs from 9-12 and work saturdays",
        "student, Tue, Thu 9:00–12:00; works Sat",
    ),
    ("I'm in school full time and work part time", "full-time student; works part-time"),
    (
        "i go to school full time, classes 8-3 every weekday",
        "full-time student, Mon–Fri 8:00–15:00",
    ),
    ("im going to school part time and work weekends", "part-time student; works weekends"),
    ("my kids are in school until 3", None),
    ("my wife works from home", None),
    ("free after 5 on weekdays", None),
]


@pytest.mark.parametrize(("text", "expected"), WORK_SCHOOL, ids=[w[0] for w in WORK_SCHOOL])
def test_work_and_school_are_described_in_plain_words(text: str, expected: str | None) -> None:
    assert describe.work_school(extract_facts(text).work_school) == (expected or "")


def test_not_working_means_no_busy_hours() -> None:
    facts = extract_facts("I'm retired")
    assert facts.busy is not None and facts.busy.is_empty()


# ---------------------------------------------------------------------------- short answers
ANSWERS = [
    ("yes every day", True),
    ("Yeah I do", True),
    ("yep", True),
    ("of course", True),
    ("i do", True),
    ("nah not really", False),
    ("no", False),
    ("Nope.", False),
    ("i don't", False),
    ("no way", False),
    ("sometimes", None),
    ("idk maybe", None),
    ("yes and no", None),
    ("kinda", None),
    ("no problem", None),
    ("I work 9-5 Mon–Fri", None),
]


@pytest.mark.parametrize(("text", "expected"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_yes_no_answers_in_free_text(text: str, expected: bool | None) -> None:
    assert extract_facts(text).answer is expected


SEVERE_WITHDRAWAL = [
    ("i had a seizure last time i quit", True),
    ("hallucinations when i stopped drinking", True),
    ("i was seeing things last time", True),
    ("I got the DTs once", True),
    ("never had seizures or DTs", False),
    ("I get the shakes but no seizures", False),
    ("sweats and anxiety mostly", None),
]


@pytest.mark.parametrize(
    ("text", "expected"), SEVERE_WITHDRAWAL, ids=[s[0] for s in SEVERE_WITHDRAWAL]
)
def test_severe_withdrawal_history_is_flagged(text: str, expected: bool | None) -> None:
    assert extract_facts(text).severe_withdrawal is expected


LEAVE = [
    ("I can take FMLA", True),
    ("summer break starts in june", True),
    ("I'm a teacher so summers off", True),
    ("my boss is supportive, I can get time off", True),
    ("I can't take time off", False),
    ("I don't think I could get time off work", False),
    ("I'd lose my job", False),
    ("I work 9-5 Mon–Fri", None),
]


@pytest.mark.parametrize(("text", "expected"), LEAVE, ids=[v[0] for v in LEAVE])
def test_whether_the_visitor_can_step_away(text: str, expected: bool | None) -> None:
    assert extract_facts(text).can_take_leave is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("actually I work nights", True),
        ("no wait, I meant tuesdays", True),
        ("I work nights", False),
    ],
)
def test_corrections_are_flagged(text: str, expected: bool) -> None:
    assert extract_facts(text).correction is expected


# ---------------------------------------------------------------------------- whole messages
def test_one_long_message_fills_several_fields() -> None:
    facts = extract_facts(
        "Hi, I'm looking for help for myself. I work 9-5 Mon–Fri at a warehouse and have "
        "two kids. We have Aetna through my job. I could do evenings after 6 or saturdays."
    )
    assert facts.work_school is not None and facts.work_school.job == "works"
    assert describe.work_school(facts.work_school) == "works Mon–Fri 9:00–17:00"
    assert facts.caregiving == ["children"]
    assert (facts.payment, facts.payer) == ("insurance", "Aetna")
    assert facts.free is not None
    assert facts.free.to_slot()["sat"] == [["08:00", "22:00"]]
    assert facts.free.to_slot()["tue"] == [["18:00", "22:00"]]


def test_lowercase_typos_and_slang_are_understood() -> None:
    facts = extract_facts("i wrk alot but im free wensday nites n all day satuday. have blue cros")
    assert facts.payer == "Blue Cross Blue Shield"
    assert facts.free is not None
    assert facts.free.to_slot()["sat"] == [["08:00", "22:00"]]
    assert facts.free.to_slot()["wed"] == [["17:00", "22:00"]]
    assert facts.work_school == WorkSchool(job="works")


def test_mentioned_lists_only_what_the_message_said() -> None:
    facts = extract_facts("Medicaid, and I have a toddler")
    assert facts.mentioned() == {"payment": "medicaid", "caregiving": ["child"]}


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂🙂🙂", "asdf qwer zxcv"])
def test_empty_or_meaningless_input_gives_empty_facts(text: str) -> None:
    assert extract_facts(text) == Facts()


def test_a_pipeline_can_be_passed_in() -> None:
    from admissions.understanding.pipeline import build

    facts = extract_facts("weekends only", build())
    assert facts.free is not None and set(facts.free.windows) == {"sat", "sun"}


def test_working_whenever_is_flexible_not_busy_all_day() -> None:
    """A gig worker's "whenever" must not block every program; "free anytime" still means all day."""
    gig = extract_facts("i work doordash whenever, mostly lunch", asked_about="work")
    assert describe.work_school(gig.work_school) == "works flexible hours and lunchtimes"
    assert gig.busy is not None and gig.busy.windows.get("mon") == [(720, 780)]
    free = extract_facts("anytime really", asked_about="free")
    assert free.free is not None and free.free.windows.get("sat") == [(480, 1320)]
