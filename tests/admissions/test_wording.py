"""Times and days in words: one module, and the styles each reader gets."""

from __future__ import annotations

import pytest

from admissions import understanding
from admissions.profile import ASSUMED_FREE_DAY, SAID_DAY
from admissions.wording import (
    clock,
    clock_24h_span,
    clock_with_minutes,
    day_list,
    short_day_list,
    time_range,
)

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


@pytest.mark.parametrize(
    ("minutes", "said"),
    [(0, "midnight"), (540, "9 AM"), (720, "noon"), (1050, "5:30 PM"), (1440, "midnight")],
)
def test_clock_reads_like_a_person_says_it(minutes: int, said: str) -> None:
    assert clock(minutes) == said


@pytest.mark.parametrize(
    ("minutes", "said"), [(480, "8:00 AM"), (720, "12:00 PM"), (1230, "8:30 PM"), (0, "12:00 AM")]
)
def test_opening_times_always_show_minutes(minutes: int, said: str) -> None:
    assert clock_with_minutes(minutes) == said


def test_a_range_drops_a_shared_am_or_pm() -> None:
    assert time_range(1050, 1290) == "5:30–9:30 PM"
    assert time_range(540, 1020) == "9 AM–5 PM"
    assert time_range(1140, 1440) == "7 PM–midnight"


def test_a_said_span_is_labelled_on_a_24_hour_clock() -> None:
    assert clock_24h_span((540, 1020)) == "9:00–17:00"
    assert clock_24h_span((1140, 1860)) == "19:00–7:00"  # past midnight: its next-day end


@pytest.mark.parametrize(
    ("days", "full", "short"),
    [
        (WEEKDAYS, "weekdays", "Mon–Fri"),
        (["mon", "tue", "wed", "thu"], "Monday to Thursday", "Mon–Thu"),
        (["mon", "tue", "thu"], "Monday, Tuesday and Thursday", "Mon, Tue, Thu"),
        (["sat", "sun"], "weekends", "weekends"),
        ([*WEEKDAYS, "sat", "sun"], "every day", "every day"),
        (["sat"], "Saturday", "Sat"),
    ],
)
def test_day_lists_in_full_for_visitors_and_short_in_summaries(
    days: list[str], full: str, short: str
) -> None:
    assert day_list(days) == full
    assert short_day_list(days) == short


def test_each_day_window_has_one_home() -> None:
    """Reading words and scoring use the two named windows in ``admissions.profile``."""
    assert (understanding.DAY_START, understanding.DAY_END) == SAID_DAY == (480, 1320)
    assert ASSUMED_FREE_DAY == (420, 1320)
