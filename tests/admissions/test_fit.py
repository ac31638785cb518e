"""Program fit: a table of visitor profiles against the shipped facility.yml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admissions.facility import Facility, load_facility
from admissions.fit import UNDETERMINED, explain, score, summarize
from admissions.profile import (
    PAYMENT_KINDS,
    PROGRAMS,
    SCREENING_KEYS,
    WEEKDAYS,
    Hours,
    VisitorProfile,
    WeeklyPicture,
    WorkSchool,
    parse_hhmm,
)

FACILITY: Facility = load_facility(Path(__file__).resolve().parents[2] / "facility.yml")
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")
# "works Mon–Fri 9:00–17:00" as data
NINE_TO_FIVE_JOB = WorkSchool(job="works", job_hours=(Hours(WORKWEEK, ((540, 1020),)),))


def week(days: tuple[str, ...] | str, *spans: str, **capacity: float) -> WeeklyPicture:
    """Build a weekly picture: week(WORKWEEK, "09:00-17:00"), capacity as max_days/max_hours."""
    day_list = (days,) if isinstance(days, str) else days
    windows = {
        d: [(parse_hhmm(s.split("-")[0]), parse_hhmm(s.split("-")[1])) for s in spans]
        for d in day_list
    }
    max_days = capacity.get("max_days")
    return WeeklyPicture(
        windows=windows if spans else {},
        max_days=int(max_days) if max_days is not None else None,
        max_hours=capacity.get("max_hours"),
    )


def yes(count: int) -> dict[str, bool]:
    """Screening answers with ``count`` yes answers."""
    return {key: n < count for n, key in enumerate(SCREENING_KEYS)}


def night_shifts() -> WeeklyPicture:
    """Works 7 PM–7 AM, Sunday to Thursday nights: stored split at midnight."""
    windows: dict[str, list[tuple[int, int]]] = {}
    for day in ("sun", "mon", "tue", "wed", "thu"):
        windows.setdefault(day, []).append((19 * 60, 1440))
    for day in WORKWEEK:
        windows.setdefault(day, []).append((0, 7 * 60))
    return WeeklyPicture(windows=windows)


NINE_TO_FIVE = {"busy": week(WORKWEEK, "09:00-17:00"), "work_school": NINE_TO_FIVE_JOB}
WEEKEND_ONLY = {"free": week(("sat", "sun"), "09:00-17:00")}
SPLIT_CUSTODY = {"free": week(("mon", "tue", "wed"), "08:00-22:00"), "caregiving": ["children"]}
ALL_WEEK = {"free": week(WEEKDAYS, "07:00-22:00")}

P = pytest.param
CASES = [
    P(
        {**NINE_TO_FIVE, "screening": yes(2)},
        "iop",
        [
            (
                "iop",
                "IOP evening track fits: you're free after 5 PM on Monday, Tuesday and Thursday",
            ),
            ("iop", "assuming you're free outside work"),
            (
                "php",
                "PHP day track meets 8:30 AM–2:30 PM on weekdays; you work 9 AM–5 PM on weekdays",
            ),
        ],
        id="nine-to-five-worker-iop-evening-fits",
    ),
    P(
        {**NINE_TO_FIVE, "screening": yes(3)},
        "iop",
        [
            (
                "note",
                "Partial Hospitalization (PHP), 5–7 days a week for at least 6 hours a day, may be the right level of support",
            ),
            ("note", "4 hours a day, does. Admissions will talk through the options with you."),
        ],
        id="nine-to-five-worker-needs-php-gets-iop",
    ),
    P(
        {**NINE_TO_FIVE, "screening": yes(4), "payment": "insurance"},
        "iop",
        [
            (
                "residential",
                "Residential means living on site for about 4 weeks, away from your work",
            ),
            (
                "note",
                "Residential, living on site for about 4 weeks, may be the right level of support",
            ),
        ],
        id="nine-to-five-worker-residential-barred-by-work",
    ),
    P(
        {**NINE_TO_FIVE, "screening": yes(4), "payment": "insurance", "can_take_leave": True},
        "residential",
        [
            ("residential", "Residential fits"),
            ("residential", "you said you can take time away from your work"),
        ],
        id="worker-who-can-take-leave-gets-residential",
    ),
    P(
        {
            "busy": night_shifts(),
            "work_school": WorkSchool(job="works", shift="night"),
            "free": week(WORKWEEK, "07:00-11:00"),
            "screening": yes(2),
        },
        UNDETERMINED,
        [
            (
                "iop",
                "IOP evening track meets 5:30–9:30 PM on Monday, Tuesday and Thursday; you work 7 PM–7 AM",
            ),
            (
                "iop",
                "IOP morning track meets 9 AM–1 PM on Monday to Thursday (at least 3 of those days); you're not free for the whole session",
            ),
            ("op", "you work 7 PM–7 AM on Monday to Thursday"),
            ("note", "Nothing at the IOP level or below fits"),
        ],
        id="night-shifts-free-mornings-nothing-fits",
    ),
    P(
        {
            "busy": night_shifts(),
            "work_school": WorkSchool(job="works", shift="night"),
            "screening": yes(2),
        },
        "iop",
        [
            ("iop", "IOP morning track fits: you're free until 7 PM on Monday to Thursday"),
            ("iop", "assuming you're free outside work"),
        ],
        id="night-shifts-assumed-free-by-day-iop-morning",
    ),
    P(
        {
            "busy": night_shifts(),
            "work_school": WorkSchool(job="works", shift="night"),
            "screening": yes(3),
        },
        "php",
        [("php", "PHP day track fits"), ("php", "on weekdays")],
        id="night-shifts-php-day-track-fits",
    ),
    P(
        {**WEEKEND_ONLY, "screening": yes(1)},
        "op",
        [("op", "OP Saturday morning track fits: you're free 9 AM–5 PM on Saturday")],
        id="weekend-only-op-saturday",
    ),
    P(
        {**WEEKEND_ONLY, "screening": yes(2)},
        "op",
        [
            (
                "iop",
                "IOP evening track meets 5:30–9:30 PM on Monday, Tuesday and Thursday; you're not free for the whole session",
            ),
            (
                "note",
                "Intensive Outpatient (IOP), 3–5 days a week for at least 4 hours a day, may be the right level of support, but it doesn't fit your situation right now; General Outpatient (OP), 1–2 days a week for at least 2 hours a day, does.",
            ),
        ],
        id="weekend-only-needs-iop-gets-op",
    ),
    P(
        {"free": week("sun", "09:00-17:00"), "screening": yes(0)},
        UNDETERMINED,
        [("op", "OP Saturday morning track meets 10 AM–noon on Saturday; you're not free")],
        id="sunday-only-nothing-fits",
    ),
    P(
        {**SPLIT_CUSTODY, "screening": yes(2)},
        "iop",
        [
            (
                "iop",
                "IOP morning track fits: you're free 8 AM–10 PM on Monday, Tuesday and Wednesday",
            ),
            ("residential", "Residential would mean time away from caring for your children"),
        ],
        id="split-custody-free-mon-to-wed-iop-morning",
    ),
    P(
        {**SPLIT_CUSTODY, "screening": yes(4), "payment": "insurance"},
        "iop",
        [
            ("residential", "caring for your children"),
            ("php", "you're free for the whole session only on Monday, Tuesday and Wednesday"),
            (
                "note",
                "Residential, living on site for about 4 weeks, may be the right level of support",
            ),
        ],
        id="split-custody-residential-barred-by-caregiving",
    ),
    P(
        {"free": week(WORKWEEK, "09:00-15:00"), "caregiving": ["kids"], "screening": yes(3)},
        "iop",
        [
            (
                "php",
                "PHP day track meets 8:30 AM–2:30 PM on weekdays; you're not free for the whole session",
            ),
            ("iop", "IOP morning track fits: you're free 9 AM–3 PM on Monday to Thursday"),
        ],
        id="parent-free-during-school-hours-php-starts-too-early",
    ),
    P(
        {
            **NINE_TO_FIVE,
            "work_school": WorkSchool(job="works"),
            "for_loved_one": True,
            "screening": yes(2),
        },
        "iop",
        [
            (
                "iop",
                "IOP evening track fits: they're free after 5 PM on Monday, Tuesday and Thursday",
            ),
            ("iop", "assuming they're free outside work"),
            ("php", "they work 9 AM–5 PM on weekdays"),
            ("residential", "away from their work"),
        ],
        id="loved-one-nine-to-five-uses-they",
    ),
    P(
        {
            "for_loved_one": True,
            "caregiving": ["mother"],
            "payment": "self_pay",
            "screening": yes(4),
        },
        UNDETERMINED,
        [
            ("residential", "caring for their mother"),
            (
                "residential",
                "Residential can be hard to pay for out of pocket; admissions can go over costs and payment plans",
            ),
            ("iop", "we don't know their schedule yet"),
            ("note", "we don't know their schedule yet"),
        ],
        id="loved-one-residential-barred-schedule-unknown",
    ),
    P(
        {"free": week(WORKWEEK, "17:00-22:00", max_days=3), "screening": yes(3)},
        "iop",
        [
            ("php", "PHP needs 5 days a week; you said you can do 3"),
            ("iop", "IOP evening track fits"),
            ("iop", "you said up to 3 days a week, and it needs 3"),
        ],
        id="three-days-a-week-rules-out-php",
    ),
    P(
        {"free": week(WORKWEEK, "08:00-18:00", max_hours=4), "screening": yes(3)},
        "iop",
        [
            ("php", "PHP needs 6 hours a day; you said you can do 4"),
            ("iop", "IOP morning track fits: you're free 8 AM–6 PM on Monday to Thursday"),
        ],
        id="four-hours-a-day-rules-out-php",
    ),
    P(
        {"free": week(WORKWEEK, "08:00-22:00", max_hours=2), "screening": yes(2)},
        "op",
        [
            ("iop", "IOP needs 4 hours a day; you said you can do 2"),
            ("op", "OP weekday evening track fits"),
            (
                "note",
                "Intensive Outpatient (IOP), 3–5 days a week for at least 4 hours a day, may be the right level of support",
            ),
        ],
        id="two-hours-a-day-only-op",
    ),
    P(
        {**ALL_WEEK, "free": week(WEEKDAYS, "07:00-22:00", max_days=1), "screening": yes(2)},
        "op",
        [("iop", "IOP needs 3 days a week; you said you can do 1")],
        id="one-day-a-week-only-op",
    ),
    P(
        {"severe_withdrawal": True, "screening": yes(0), "payment": "insurance"},
        "residential",
        [
            (
                "residential",
                "Residential fits: nothing you've told us rules out living on site for about 4 weeks",
            )
        ],
        id="severe-withdrawal-needs-residential",
    ),
    P(
        {**ALL_WEEK, "severe_withdrawal": True, "payment": "self_pay"},
        "php",
        [
            ("residential", "Residential can be hard to pay for out of pocket"),
            (
                "note",
                "Residential, living on site for about 4 weeks, may be the right level of support, but it doesn't fit your situation right now; Partial Hospitalization (PHP), 5–7 days a week for at least 6 hours a day, does.",
            ),
        ],
        id="severe-withdrawal-self-pay-falls-back-to-php",
    ),
    P(
        {"payment": "tight_money", "screening": yes(4)},
        UNDETERMINED,
        [
            ("residential", "out of pocket"),
            ("note", "Residential doesn't look possible right now"),
        ],
        id="tight-money-residential-barred-nothing-else-known",
    ),
    P(
        {"screening": yes(4)},
        "residential",
        [
            (
                "residential",
                "we don't know yet how you'd pay; admissions will go over coverage and costs",
            )
        ],
        id="residential-unknown-payment-is-not-a-barrier",
    ),
    P(
        {
            "busy": week(WORKWEEK, "09:00-15:00"),
            "work_school": WorkSchool(study="student"),
            "screening": yes(4),
            "payment": "insurance",
        },
        "iop",
        [
            ("residential", "away from school"),
            ("php", "you're in school 9 AM–3 PM on weekdays"),
            ("iop", "assuming you're free outside school"),
        ],
        id="student-residential-barred-by-school",
    ),
    P(
        {"screening": yes(2)},
        UNDETERMINED,
        [
            ("iop", "we don't know your schedule yet"),
            ("note", "We don't know your schedule yet, so we can't match a program."),
        ],
        id="schedule-unknown-undetermined",
    ),
    P(
        {"free": week(WORKWEEK, max_days=3), "screening": yes(3)},
        UNDETERMINED,
        [
            ("php", "PHP needs 5 days a week; you said you can do 3"),
            ("iop", "we don't know your schedule yet"),
        ],
        id="capacity-only-no-windows-undetermined",
    ),
    P(
        {**ALL_WEEK, "screening": yes(0)},
        "op",
        [("php", "PHP day track fits"), ("iop", "IOP morning track fits")],
        id="free-all-week-still-op-when-need-is-op",
    ),
    P(
        {"free": week(("mon", "tue", "wed", "thu"), "09:00-13:00"), "screening": yes(1)},
        UNDETERMINED,
        [
            ("iop", "IOP morning track fits"),
            ("note", "Nothing at the OP level or below fits"),
        ],
        id="only-iop-fits-but-need-is-op-never-above",
    ),
    P(
        {"free": week(WORKWEEK, "08:00-15:00"), "screening": yes(3)},
        "php",
        [("php", "PHP day track fits: you're free 8 AM–3 PM on weekdays")],
        id="free-weekday-daytime-php-fits",
    ),
    P(
        {
            "busy": week(("mon", "wed", "fri"), "09:00-17:00"),
            "work_school": WorkSchool(job="part_time"),
            "screening": yes(3),
        },
        "iop",
        [
            ("php", "you work 9 AM–5 PM on Monday, Wednesday and Friday"),
            (
                "iop",
                "IOP evening track fits: you're free for the whole 5:30–9:30 PM session on Monday, Tuesday and Thursday",
            ),
        ],
        id="part-time-worker-mon-wed-fri",
    ),
    P(
        {
            "busy": week(WORKWEEK, "14:00-22:00"),
            "work_school": WorkSchool(job="works"),
            "screening": yes(2),
        },
        "iop",
        [
            ("iop", "IOP morning track fits: you're free until 2 PM on Monday to Thursday"),
            ("op", "OP Saturday morning track fits"),
        ],
        id="evening-shift-worker-iop-morning",
    ),
    P(
        {
            "busy": week(WORKWEEK, "09:00-17:00"),
            "free": week(WORKWEEK, "17:00-22:00"),
            "work_school": WorkSchool(job="works"),
            "screening": yes(2),
        },
        "iop",
        [("iop", "IOP evening track fits: you're free after 5 PM on Monday, Tuesday and Thursday")],
        id="stated-free-evenings-no-assumption",
    ),
    P(
        {
            "busy": week(("sat", "sun"), "08:00-18:00"),
            "work_school": WorkSchool(job="works"),
            "screening": yes(1),
        },
        "op",
        [("op", "OP weekday evening track fits: you're free all day on Monday to Thursday")],
        id="weekend-worker-op-weekday-evening",
    ),
    P(
        {"free": week("tue", "18:00-21:00"), "screening": yes(1)},
        "op",
        [("op", "OP weekday evening track fits: you're free 6–9 PM on Tuesday")],
        id="one-free-evening-op",
    ),
    P(
        {"free": week(("mon", "tue", "wed", "thu"), "18:30-20:00"), "screening": yes(1)},
        UNDETERMINED,
        [
            (
                "op",
                "OP weekday evening track meets 6–8 PM on Monday to Thursday (at least 1 of those days); you're not free for the whole session",
            )
        ],
        id="free-window-too-short-for-op",
    ),
    P(
        {"for_loved_one": True, "severe_withdrawal": True},
        "residential",
        [
            ("residential", "nothing you've told us rules out them living on site"),
            ("residential", "we don't know yet how they'd pay"),
        ],
        id="loved-one-severe-withdrawal-residential",
    ),
    P(
        {"work_school": WorkSchool(), "screening": yes(4), "payment": "medicaid"},
        "residential",
        [("residential", "Residential fits")],
        id="no-work-medicaid-residential-fits",
    ),
]


@pytest.mark.parametrize(("fields", "expected", "reasons"), CASES)
def test_recommendation_and_reasons(
    fields: dict[str, object], expected: str, reasons: list[tuple[str, str]]
) -> None:
    profile = VisitorProfile(**fields)  # type: ignore[arg-type]
    result = score(profile, FACILITY)
    assert result.recommended == expected, result.note
    for where, text in reasons:
        said = result.note if where == "note" else " | ".join(result.programs[where].reasons)
        assert text in said, f"{where}: {said!r}"


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("fields", "expected", "reasons"), CASES)
def test_slot_contract_and_never_above_need(
    fields: dict[str, object], expected: str, reasons: list[tuple[str, str]]
) -> None:
    result = score(VisitorProfile(**fields), FACILITY)  # type: ignore[arg-type]
    slot = json.loads(json.dumps(result.to_slot()))
    assert set(slot) == {*PROGRAMS, "need_level"}
    for key in PROGRAMS:
        entry = slot[key]
        assert set(entry) == {"fits", "score", "reasons", "track"}
        assert 0 <= entry["score"] <= 100
        assert entry["score"] >= 90 if entry["fits"] else entry["score"] < 100
        if key != "residential":
            assert (entry["score"] == 100) == entry["fits"]
        assert entry["reasons"]
    if result.recommended != UNDETERMINED:
        assert PROGRAMS.index(result.recommended) <= PROGRAMS.index(result.need_level)
        assert result.programs[result.recommended].fits


def test_nine_to_five_slot_names_the_fitting_tracks() -> None:
    slot = score(VisitorProfile(**NINE_TO_FIVE, screening=yes(2)), FACILITY).to_slot()  # type: ignore[arg-type]
    assert slot["need_level"] == "iop"
    assert slot["iop"]["track"] == "evening"
    assert slot["op"]["track"] == "weekday_evening"
    assert slot["php"]["track"] is None


def test_partial_scores_show_how_close_a_program_is() -> None:
    nine_to_five = score(VisitorProfile(**NINE_TO_FIVE), FACILITY)  # type: ignore[arg-type]
    school_hours = score(VisitorProfile(free=week(WORKWEEK, "09:00-15:00")), FACILITY)
    three_days = score(VisitorProfile(free=week(WORKWEEK, "08:00-15:00", max_days=3)), FACILITY)
    four_hours = score(VisitorProfile(free=week(WORKWEEK, "08:00-15:00", max_hours=4)), FACILITY)
    # 30 of 360 minutes free each day; 330 of 360; 3 of 5 days; 4 of 6 hours.
    assert nine_to_five.programs["php"].score == 8
    assert school_hours.programs["php"].score == 91
    assert three_days.programs["php"].score == 60
    assert four_hours.programs["php"].score == 66


def test_residential_loses_points_per_barrier() -> None:
    def res(**fields: object) -> int:
        return score(VisitorProfile(**fields), FACILITY).programs["residential"].score  # type: ignore[arg-type]

    assert res(payment="insurance") == 100
    assert res() == 90
    assert res(payment="insurance", caregiving=["children"]) == 65
    assert (
        res(payment="self_pay", caregiving=["children"], work_school=WorkSchool(job="works")) == 0
    )


def test_stated_free_time_needs_no_assumption() -> None:
    result = score(
        VisitorProfile(free=week(WORKWEEK, "17:00-22:00"), busy=week(WORKWEEK, "09:00-17:00")),
        FACILITY,
    )
    assert not any("assuming" in r for p in result.programs.values() for r in p.reasons)


def test_busy_time_inside_stated_free_time_is_removed() -> None:
    result = score(
        VisitorProfile(
            free=week(("mon", "tue", "thu"), "17:00-22:00"),
            busy=week("tue", "18:00-20:00"),
            screening=yes(2),
        ),
        FACILITY,
    )
    assert result.recommended == "op"
    assert "you're busy 6–8 PM on Tuesday" in " ".join(result.programs["iop"].reasons)


def test_explain_is_short_provisional_and_not_clinical() -> None:
    for fields, _, _ in (c.values for c in CASES):
        profile = VisitorProfile(**fields)  # type: ignore[arg-type]
        text = explain(score(profile, FACILITY), profile, FACILITY)
        lines = text.splitlines()
        assert 3 <= len(lines) <= 6, text
        assert "admissions team confirms" in text
        for word in ("diagnos", "severe", "withdrawal", "clinical", "disorder", "acuity"):
            assert word not in text.lower()


def test_explain_for_nine_to_five_worker() -> None:
    profile = VisitorProfile(**NINE_TO_FIVE, screening=yes(2), payment="insurance")  # type: ignore[arg-type]
    text = explain(score(profile, FACILITY), profile, FACILITY)
    assert (
        text.splitlines()[0]
        == "Intensive Outpatient (IOP), 3–5 days a week for at least 4 hours a day, looks like a good fit for you."
    )
    assert "IOP evening track fits: you're free after 5 PM" in text


def test_explain_in_loved_one_mode_talks_about_them() -> None:
    profile = VisitorProfile(**NINE_TO_FIVE, screening=yes(2), for_loved_one=True)  # type: ignore[arg-type]
    text = explain(score(profile, FACILITY), profile, FACILITY)
    assert "good fit for them" in text
    assert "they're free after 5 PM" in text
    assert "how they'd pay" in text
    assert "you're free" not in text


def test_explain_fallback_says_admissions_talks_it_through() -> None:
    profile = VisitorProfile(**WEEKEND_ONLY, screening=yes(2))  # type: ignore[arg-type]
    text = explain(score(profile, FACILITY), profile, FACILITY)
    assert "Admissions will talk through the options with you." in text
    assert "OP Saturday morning track fits" in text


def test_explain_urges_a_call_after_severe_withdrawal() -> None:
    profile = VisitorProfile(severe_withdrawal=True, payment="insurance")
    text = explain(score(profile, FACILITY), profile, FACILITY)
    assert "Residential" in text
    assert "Please call admissions soon" in text


def test_explain_is_honest_about_payers_the_facility_does_not_take() -> None:
    medicaid = VisitorProfile(payment="medicaid", screening=yes(4), work_school=WorkSchool())
    text = explain(score(medicaid, FACILITY), medicaid, FACILITY)
    assert "Harbor Light Recovery Center doesn't take Medicaid" in text
    other = VisitorProfile(payment="insurance", payer="Acme Health", **ALL_WEEK)  # type: ignore[arg-type]
    assert "Admissions will check whether Acme Health can be used here." in explain(
        score(other, FACILITY), other, FACILITY
    )
    aetna = VisitorProfile(payment="insurance", payer="aetna", **ALL_WEEK)  # type: ignore[arg-type]
    assert "nothing is promised until then" in explain(score(aetna, FACILITY), aetna, FACILITY)


def test_summary_lists_what_the_visitor_told_one_fact_per_line() -> None:
    profile = VisitorProfile(
        for_loved_one=True,
        readiness="ready",
        payment="insurance",
        payer="Aetna",
        busy=week(WORKWEEK, "09:00-17:00"),
        work_school=NINE_TO_FIVE_JOB,
        caregiving=["children", "mother"],
        free=week(("sat", "sun"), "10:00-14:00", max_days=2, max_hours=3),
        screening={"daily_use": True, "withdrawal": False},
        severe_withdrawal=True,
        can_take_leave=True,
    )
    lines = summarize(profile).splitlines()
    assert lines == [
        "Asking for: a loved one",
        "Readiness: ready to start",
        "Payment: insurance (Aetna)",
        "Work/school: works Mon–Fri 9:00–17:00",
        "Busy: weekdays 9 AM–5 PM",
        "Can take leave from work/school: yes",
        "Caregiving: children, mother",
        "Free time: weekends 10 AM–2 PM; up to 2 days a week; up to 3 hours a day",
        "Screening: daily use yes, withdrawal no",
        "Severe withdrawal now or before: yes",
    ]


def test_summary_of_an_empty_profile_says_what_was_not_discussed() -> None:
    text = summarize(VisitorProfile())
    assert "Asking for: yourself" in text  # read to the visitor: never "themselves"
    assert "Payment: not discussed" in text
    assert "Free time: not discussed" in text
    assert "Caregiving: none mentioned" in text


# ----- properties over random profiles -----------------------------------------------------
_times = st.integers(min_value=0, max_value=48).map(lambda n: n * 30)
_window = st.tuples(_times, _times).filter(lambda w: w[0] < w[1])
_picture = st.builds(
    WeeklyPicture,
    windows=st.dictionaries(st.sampled_from(WEEKDAYS), st.lists(_window, max_size=3)),
    max_days=st.none() | st.integers(min_value=0, max_value=7),
    max_hours=st.none() | st.floats(min_value=0.5, max_value=12),
)
_profiles = st.builds(
    VisitorProfile,
    for_loved_one=st.booleans(),
    payment=st.none() | st.sampled_from(PAYMENT_KINDS),
    busy=_picture,
    work_school=st.none()
    | st.sampled_from([WorkSchool(), WorkSchool(job="works"), WorkSchool(study="student")]),
    caregiving=st.lists(st.sampled_from(["children", "mother"]), max_size=2),
    free=_picture,
    screening=st.dictionaries(st.sampled_from(SCREENING_KEYS), st.booleans()),
    severe_withdrawal=st.booleans(),
    can_take_leave=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(_profiles)
def test_any_profile_gets_a_safe_deterministic_answer(profile: VisitorProfile) -> None:
    result = score(profile, FACILITY)
    assert result == score(profile, FACILITY)
    json.dumps(result.to_slot())
    if result.recommended == UNDETERMINED:
        assert "Admissions will talk through the options" in result.note
    else:
        assert result.programs[result.recommended].fits
        assert PROGRAMS.index(result.recommended) <= PROGRAMS.index(result.need_level)
        if result.recommended != result.need_level:
            assert "Admissions will talk through the options" in result.note
    assert 3 <= len(explain(result, profile, FACILITY).splitlines()) <= 6
