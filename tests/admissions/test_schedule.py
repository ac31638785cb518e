"""Schedule reading: clock phrases, day sets, and whole messages about work hours and free time."""

from __future__ import annotations

import pytest

from admissions.profile import WeeklyPicture
from admissions.understanding.clock import (
    days_from_spec,
    parse_time_phrase,
    place,
)
from admissions.understanding.facts import extract_facts
from admissions.wording import short_day_list as describe_days


def hm(text: str) -> int:
    """'17:30' -> minutes; '07:00+' means the next day (adds 24 h)."""
    next_day = text.endswith("+")
    hours, minutes = text.rstrip("+").split(":")
    return int(hours) * 60 + int(minutes) + (1440 if next_day else 0)


def week(spec: dict[str, list[str]]) -> dict[str, list[list[str]]]:
    """{"mon-fri": ["09:00-17:00"]} -> the slot form {"mon": [["09:00", "17:00"]], ...}."""
    out: dict[str, list[list[str]]] = {}
    for days, windows in spec.items():
        for day in days_from_spec(days):
            out.setdefault(day, []).extend(w.split("-") for w in windows)
    return {d: sorted(w) for d, w in out.items()}


def windows_of(picture: WeeklyPicture | None) -> dict[str, list[list[str]]]:
    """The windows part of a picture's slot form (capacity keys dropped)."""
    assert picture is not None
    slot = picture.to_slot()
    return {k: v for k, v in slot.items() if k not in {"max_days", "max_hours"}}


# ---------------------------------------------------------------------------- time phrases
TIME_PHRASES = [
    ("9-5", None, False, "09:00", "17:00"),
    ("9am-5pm", None, False, "09:00", "17:00"),
    ("9 am to 5 pm", None, False, "09:00", "17:00"),
    ("9-to-5", None, False, "09:00", "17:00"),
    ("nine to five", None, False, "09:00", "17:00"),
    ("8 to 2", None, False, "08:00", "14:00"),
    ("between 12 and 4", None, False, "12:00", "16:00"),
    ("9:30-5:30", None, False, "09:30", "17:30"),
    ("12:30pm-4", None, False, "12:30", "16:00"),
    ("noon-4", None, False, "12:00", "16:00"),
    ("17:00-22:00", None, False, "17:00", "22:00"),
    ("6-10pm", None, False, "18:00", "22:00"),
    ("7p-7a", None, False, "19:00", "07:00+"),
    ("11pm-7am", None, False, "23:00", "07:00+"),
    ("7-7", "pm", True, "19:00", "07:00+"),
    ("7-7", None, True, "07:00", "19:00"),
    ("6-2", None, True, "06:00", "14:00"),
    ("6-2", None, False, "18:00", "02:00+"),
    ("after 5", None, False, "17:00", "22:00"),
    ("after 7", None, False, "19:00", "22:00"),
    ("after 10pm", None, False, "22:00", "24:00"),
    ("at 6", None, False, "18:00", "22:00"),
    ("5pm", None, False, "17:00", "22:00"),
    ("before noon", None, False, "08:00", "12:00"),
    ("until 3", None, False, "08:00", "15:00"),
    ("before 7am", None, False, "05:00", "07:00"),
]


@pytest.mark.parametrize(
    ("text", "hint", "work", "start", "end"),
    TIME_PHRASES,
    ids=[f"{t[0]}{'-' + t[1] if t[1] else ''}{'-work' if t[2] else ''}" for t in TIME_PHRASES],
)
def test_time_phrase_reads_as_expected_span(
    text: str, hint: str | None, work: bool, start: str, end: str
) -> None:
    assert parse_time_phrase(text, hint, work) == (hm(start), hm(end))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "soon", "25:00", "9-9-9", "24:30"])
def test_not_a_time_gives_none(text: str) -> None:
    assert parse_time_phrase(text) is None


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("mon-fri", ["mon", "tue", "wed", "thu", "fri"]),
        ("sat-sun", ["sat", "sun"]),
        ("fri-mon", ["mon", "fri", "sat", "sun"]),
        ("mon,wed,fri", ["mon", "wed", "fri"]),
        ("tue,thu", ["tue", "thu"]),
        ("nonsense", []),
    ],
)
def test_day_spec_expands_to_weekdays(spec: str, days: list[str]) -> None:
    assert days_from_spec(spec) == days


def test_overnight_span_continues_on_the_next_day_and_sunday_wraps_to_monday() -> None:
    assert place(["sun"], [(hm("19:00"), hm("07:00+"))]) == {
        "sun": [(1140, 1440)],
        "mon": [(0, 420)],
    }


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (["mon", "tue", "wed", "thu", "fri"], "Mon–Fri"),
        (["mon", "wed", "fri"], "Mon, Wed, Fri"),
        (["sat", "sun"], "weekends"),
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "every day"),
        (["tue", "wed", "thu", "sun"], "Tue–Thu, Sun"),
    ],
)
def test_days_are_described_briefly(days: list[str], label: str) -> None:
    assert describe_days(days) == label


# ---------------------------------------------------------------------------- free time
FREE_MESSAGES = [
    (
        "free after 5 on weekdays and all day saturday",
        {"mon-fri": ["17:00-22:00"], "sat": ["08:00-22:00"]},
    ),
    ("mornings before noon, not fridays", {"mon-thu,sat-sun": ["08:00-12:00"]}),
    ("between 12 and 4 on tue and thu", {"tue,thu": ["12:00-16:00"]}),
    ("weekends only", {"sat-sun": ["08:00-22:00"]}),
    ("free evenings and weekends", {"mon-fri": ["17:00-22:00"], "sat-sun": ["08:00-22:00"]}),
    ("after 6 on weeknights", {"mon-fri": ["18:00-22:00"]}),
    ("any day but monday", {"tue-sun": ["08:00-22:00"]}),
    ("anytime really", {"mon-sun": ["08:00-22:00"]}),
    ("evenings after 6", {"mon-sun": ["18:00-22:00"]}),
    ("I'm off on tuesdays and wednesdays", {"tue,wed": ["08:00-22:00"]}),
    (
        "mon wed fri mornings and tue thu evenings",
        {"mon,wed,fri": ["08:00-12:00"], "tue,thu": ["17:00-22:00"]},
    ),
    ("free sat mornings", {"sat": ["08:00-12:00"]}),
    ("Tuesdays 6-9pm work for me", {"tue": ["18:00-21:00"]}),
    ("i'm free from 9am to 1pm mon-thu", {"mon-thu": ["09:00-13:00"]}),
    ("I'm available M-F after 7pm", {"mon-fri": ["19:00-22:00"]}),
    ("every day after 3:30", {"mon-sun": ["15:30-22:00"]}),
    ("Saturday and Sunday anytime", {"sat-sun": ["08:00-22:00"]}),
    (
        "Free all day on Sundays, and Monday after 4",
        {"sun": ["08:00-22:00"], "mon": ["16:00-22:00"]},
    ),
    ("I can do afternoons except wednesday", {"mon-tue,thu-sun": ["12:00-17:00"]}),
    ("I get off work at 5", {"mon-sun": ["17:00-22:00"]}),
    ("every morning until about 1:30", {"mon-sun": ["08:00-13:30"]}),
    ("free until around 3", {"mon-sun": ["08:00-15:00"]}),
    (
        "Sundays and Mondays are my days off, all day, and every morning until about 1:30",
        {"sun-mon": ["08:00-22:00"], "tue-sat": ["08:00-13:30"]},
    ),
    ("weekdays from 1pm-4pm", {"mon-fri": ["13:00-16:00"]}),
    ("I don't work weekends", {"sat-sun": ["08:00-22:00"]}),
    ("im off fri sat sun", {"fri-sun": ["08:00-22:00"]}),
    ("I could do 6-9pm on weeknights", {"mon-fri": ["18:00-21:00"]}),
    ("monday to friday 10 till 2", {"mon-fri": ["10:00-14:00"]}),
    ("anytime after 2pm except weekends", {"mon-fri": ["14:00-22:00"]}),
    ("free tues n thurs after 4:30", {"tue,thu": ["16:30-22:00"]}),
    # a time after a comma narrows the time of day before it, read with its am/pm
    ("evenings, after 8", {"mon-sun": ["20:00-22:00"]}),
    ("weekday evenings, 6 to 9", {"mon-fri": ["18:00-21:00"]}),
    ("mornings, like 9 to 12", {"mon-sun": ["09:00-12:00"]}),
    ("nights are best, after 7", {"mon-sun": ["19:00-22:00"]}),
    # ", and" after days already joined by "and" starts a group the time belongs to alone
    (
        "i'm free monday and tuesday, and saturday mornings",
        {"mon,tue": ["08:00-22:00"], "sat": ["08:00-12:00"]},
    ),
    ("monday, tuesday, and wednesday evenings", {"mon-wed": ["17:00-22:00"]}),
    ("mornings, and evenings after 7", {"mon-sun": ["08:00-12:00", "19:00-22:00"]}),
    ("evenings, 10 to 2 on saturdays", {"sat": ["10:00-14:00", "17:00-22:00"]}),
    # days before a comma and times after it, with nothing to split (raised before)
    ("free pretty much all week, days and evenings", {"mon-sun": ["08:00-22:00"]}),
    ("weekdays, mornings and evenings", {"mon-fri": ["08:00-12:00", "17:00-22:00"]}),
]


@pytest.mark.parametrize(("text", "expected"), FREE_MESSAGES, ids=[m[0] for m in FREE_MESSAGES])
def test_free_time_is_read_into_weekly_windows(text: str, expected: dict[str, list[str]]) -> None:
    facts = extract_facts(text)
    assert windows_of(facts.free) == week(expected)
    assert facts.busy is None


CAPACITY_MESSAGES = [
    ("i can do maybe 3 days a week 4 hrs a day", "free", 3, 4.0),
    ("I could manage 2-3 days, a couple hours a day", "free", 3, 2.0),
    ("twice a week is all i can do", "free", 2, None),
    ("12-hour night shifts, 3 a week", "busy", 3, 12.0),
    ("I'm a nurse, I work three 12s a week", "busy", 3, 12.0),
]


@pytest.mark.parametrize(
    ("text", "field", "days", "hours"), CAPACITY_MESSAGES, ids=[m[0] for m in CAPACITY_MESSAGES]
)
def test_days_per_week_and_hours_per_day_are_captured(
    text: str, field: str, days: int, hours: float | None
) -> None:
    picture = getattr(extract_facts(text), field)
    assert picture is not None
    assert (picture.max_days, picture.max_hours) == (days, hours)


def test_a_capacity_with_times_keeps_both() -> None:
    facts = extract_facts("twice a week in the evenings")
    assert facts.free is not None and facts.free.max_days == 2
    assert windows_of(facts.free) == week({"mon-sun": ["17:00-22:00"]})


# ---------------------------------------------------------------------------- work hours
BUSY_MESSAGES = [
    ("I work 9-5 Mon–Fri", {"mon-fri": ["09:00-17:00"]}),
    ("i work 7-3 monday thru friday", {"mon-fri": ["07:00-15:00"]}),
    ("I work 3-11", {"mon-fri": ["15:00-23:00"]}),
    (
        "work 11-7 nights",
        {"mon": ["23:00-24:00"], "tue-fri": ["00:00-07:00", "23:00-24:00"], "sat": ["00:00-07:00"]},
    ),
    (
        "i work from 7pm to 7am mon wed fri",
        {"mon,wed,fri": ["19:00-24:00"], "tue,thu,sat": ["00:00-07:00"]},
    ),
    (
        "actually I work nights",
        {"mon": ["19:00-24:00"], "tue-fri": ["00:00-07:00", "19:00-24:00"], "sat": ["00:00-07:00"]},
    ),
    ("I'm a full time student, classes MWF 8 to 2", {"mon,wed,fri": ["08:00-14:00"]}),
    ("I work weekends", {"sat-sun": ["09:00-17:00"]}),
    ("i work part time, mostly mornings", {"mon-fri": ["08:00-12:00"]}),
    ("My shifts are 6am to 2pm Tuesday through Saturday", {"tue-sat": ["06:00-14:00"]}),
    ("I work every day except sunday from 8 to 4", {"mon-sat": ["08:00-16:00"]}),
    ("i work second shift", {"mon-fri": ["15:00-23:00"]}),
    ("I can't do mornings", {"mon-sun": ["08:00-12:00"]}),
    ("not available on mondays", {"mon": ["08:00-22:00"]}),
    ("I'm busy tuesday and thursday mornings", {"tue,thu": ["08:00-12:00"]}),
    ("Wednesdays are no good", {"wed": ["08:00-22:00"]}),
    ("mondays don't work for me", {"mon": ["08:00-22:00"]}),
    ("I take care of my mom in the mornings", {"mon-sun": ["08:00-12:00"]}),
    ("I watch my grandkids on tuesdays", {"tue": ["08:00-22:00"]}),
    ("i work 8-5 and my kids get out of school at 3", {"mon-fri": ["08:00-17:00"]}),
]


@pytest.mark.parametrize(("text", "expected"), BUSY_MESSAGES, ids=[m[0] for m in BUSY_MESSAGES])
def test_work_and_unavailable_hours_are_read_as_busy(
    text: str, expected: dict[str, list[str]]
) -> None:
    facts = extract_facts(text)
    assert windows_of(facts.busy) == week(expected)
    assert facts.free is None


def test_work_hours_and_free_time_in_one_message_are_kept_apart() -> None:
    facts = extract_facts("I work 9-5 Mon–Fri but I'm free evenings")
    assert windows_of(facts.busy) == week({"mon-fri": ["09:00-17:00"]})
    assert windows_of(facts.free) == week({"mon-sun": ["17:00-22:00"]})


def test_after_work_starts_when_the_stated_shift_ends() -> None:
    facts = extract_facts("I work m-f 7a-3p, free after work")
    assert windows_of(facts.busy) == week({"mon-fri": ["07:00-15:00"]})
    assert windows_of(facts.free) == week({"mon-fri": ["15:00-22:00"]})


def test_bare_hours_follow_what_the_assistant_asked_about() -> None:
    assert windows_of(extract_facts("9-5 mon-fri", asked_about="work").busy) == week(
        {"mon-fri": ["09:00-17:00"]}
    )
    assert windows_of(extract_facts("9-5 mon-fri").free) == week({"mon-fri": ["09:00-17:00"]})


# A shift's start and end said apart are one range; a time after "finish"/"get off" ends it.
SHIFT_ENDS = [
    (
        "I start at the post office at 2 in the afternoon and finish at 10:30, Monday to Friday",
        {"mon-fri": ["14:00-22:30"]},
    ),
    (
        "Tuesday to Saturday, from 2 in the afternoon till close, which is usually around 11",
        {"tue-sat": ["14:00-23:00"]},
    ),
    ("I start at 7 and get off at 3:30 weekdays", {"mon-fri": ["07:00-15:30"]}),
    ("I go in at 6 am and I am done around 2", {"mon-fri": ["06:00-14:00"]}),
    ("i get off at 5", {"mon-fri": ["08:00-17:00"]}),
]


@pytest.mark.parametrize(("text", "expected"), SHIFT_ENDS, ids=[m[0] for m in SHIFT_ENDS])
def test_a_shift_start_and_end_said_apart_are_one_range(
    text: str, expected: dict[str, list[str]]
) -> None:
    assert windows_of(extract_facts(text, asked_about="work").busy) == week(expected)


NOT_SCHEDULE = [
    "I drink every day",
    "I sat with my kids all day",
    "I've been sober for 2 years after 5 years of using",
    "my phone is 555-1234",
    "i use like 3-4 times a day",
    "yes every day",
    "my husband works nights",
    "my kids are in school until 3",
]


@pytest.mark.parametrize("text", NOT_SCHEDULE)
def test_everyday_talk_is_not_mistaken_for_a_schedule(text: str) -> None:
    facts = extract_facts(text)
    assert facts.free is None and facts.busy is None
