"""Admissions line status with a fixed clock, in the facility's own time zone."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from admissions.facility import Facility, parse_facility
from admissions.hours import line_status

SHIPPED = Path(__file__).resolve().parents[2] / "facility.yml"
BASE: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
EASTERN = ZoneInfo("America/New_York")
UTC = timezone.utc


def facility(**admissions: Any) -> Facility:
    """The shipped facility with some admissions settings replaced."""
    data = copy.deepcopy(BASE)
    data["admissions"].update(admissions)
    return parse_facility(data)


HARBOR = facility()


def eastern(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=EASTERN)


CASES = [
    pytest.param(
        eastern(2026, 3, 4, 10, 0),
        True,
        None,
        "Admissions is open now until 8:00 PM.",
        id="wednesday-morning-open",
    ),
    pytest.param(
        eastern(2026, 3, 4, 7, 15),
        False,
        eastern(2026, 3, 4, 8, 0),
        "Admissions is closed now. It opens today at 8:00 AM (Eastern time).",
        id="wednesday-before-opening",
    ),
    pytest.param(
        eastern(2026, 3, 4, 21, 0),
        False,
        eastern(2026, 3, 5, 8, 0),
        "Admissions is closed now. It opens tomorrow at 8:00 AM (Eastern time).",
        id="wednesday-after-hours",
    ),
    pytest.param(
        eastern(2026, 3, 6, 20, 0),
        False,
        eastern(2026, 3, 7, 9, 0),
        "Admissions is closed now. It opens tomorrow at 9:00 AM (Eastern time).",
        id="friday-at-closing-time",
    ),
    pytest.param(
        eastern(2026, 3, 14, 16, 59),
        True,
        None,
        "Admissions is open now until 5:00 PM.",
        id="saturday-short-hours-open",
    ),
    pytest.param(
        eastern(2026, 3, 14, 17, 30),
        False,
        eastern(2026, 3, 16, 8, 0),
        "Admissions is closed now. It opens Monday at 8:00 AM (Eastern time).",
        id="saturday-evening-opens-monday",
    ),
    pytest.param(
        eastern(2026, 3, 15, 12, 0),
        False,
        eastern(2026, 3, 16, 8, 0),
        "Admissions is closed now. It opens tomorrow at 8:00 AM (Eastern time).",
        id="sunday-closed",
    ),
    pytest.param(
        eastern(2026, 12, 25, 10, 0),
        False,
        eastern(2026, 12, 26, 9, 0),
        "Admissions is closed now. It opens tomorrow at 9:00 AM (Eastern time).",
        id="christmas-holiday",
    ),
    pytest.param(
        eastern(2027, 12, 23, 21, 0),
        False,
        eastern(2027, 12, 25, 9, 0),
        "Admissions is closed now. It opens Saturday at 9:00 AM (Eastern time).",
        id="evening-before-christmas-eve-holiday",
    ),
    pytest.param(
        eastern(2026, 3, 7, 18, 0),
        False,
        eastern(2026, 3, 9, 8, 0),
        "Admissions is closed now. It opens Monday at 8:00 AM (Eastern time).",
        id="clocks-spring-forward-on-sunday",
    ),
    pytest.param(
        eastern(2026, 10, 31, 18, 0),
        False,
        eastern(2026, 11, 2, 8, 0),
        "Admissions is closed now. It opens Monday at 8:00 AM (Eastern time).",
        id="clocks-fall-back-on-sunday",
    ),
]


@pytest.mark.parametrize(("now", "is_open", "next_open", "message"), CASES)
def test_line_status(
    now: datetime, is_open: bool, next_open: datetime | None, message: str
) -> None:
    status = line_status(HARBOR, now)
    assert status.is_open is is_open
    assert status.next_open == next_open
    assert status.message == message
    if status.next_open is not None:
        assert status.next_open.tzinfo == EASTERN


def test_daylight_saving_moves_the_utc_opening_time() -> None:
    spring = line_status(HARBOR, eastern(2026, 3, 7, 18, 0)).next_open
    autumn = line_status(HARBOR, eastern(2026, 10, 31, 18, 0)).next_open
    assert spring is not None and autumn is not None
    assert spring.astimezone(UTC) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # EDT, UTC-4
    assert autumn.astimezone(UTC) == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # EST, UTC-5


def test_a_clock_in_another_zone_is_converted() -> None:
    status = line_status(HARBOR, datetime(2026, 3, 4, 13, 30, tzinfo=UTC))  # 8:30 AM Eastern
    assert status.is_open
    assert status.closes_at == eastern(2026, 3, 4, 20, 0)
    late = line_status(HARBOR, datetime(2026, 3, 5, 2, 0, tzinfo=UTC))  # 9 PM Wednesday Eastern
    assert not late.is_open
    assert late.next_open == eastern(2026, 3, 5, 8, 0)


def test_a_naive_clock_is_read_as_facility_time() -> None:
    assert line_status(HARBOR, datetime(2026, 3, 4, 19, 59)).is_open
    assert not line_status(HARBOR, datetime(2026, 3, 4, 20, 0)).is_open


def test_holidays_on_consecutive_days_are_all_skipped() -> None:
    closed_twice = facility(holidays=["2026-12-24", "2026-12-25"])
    status = line_status(closed_twice, eastern(2026, 12, 23, 21, 0))
    assert status.next_open == eastern(2026, 12, 26, 9, 0)
    assert status.message.endswith("It opens Saturday at 9:00 AM (Eastern time).")


def test_a_far_opening_names_the_date() -> None:
    mondays = facility(hours={"mon": ["08:00", "12:00"]}, holidays=["2027-01-04"])
    status = line_status(mondays, eastern(2026, 12, 29, 9, 0))
    assert status.next_open == eastern(2027, 1, 11, 8, 0)
    assert status.message == (
        "Admissions is closed now. It opens Monday, January 11 at 8:00 AM (Eastern time)."
    )


def test_a_week_with_no_hours_never_opens() -> None:
    status = line_status(facility(hours={}), eastern(2026, 3, 4, 10, 0))
    assert not status.is_open
    assert status.next_open is None
    assert status.message == "Admissions is closed now."


def test_other_time_zones_are_labelled() -> None:
    berlin = facility(time_zone="Europe/Berlin")
    status = line_status(berlin, datetime(2026, 1, 10, 18, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    assert status.message == "Admissions is closed now. It opens Monday at 8:00 AM (CET)."
    chicago = facility(time_zone="America/Chicago")
    assert (
        "(Central time)" in line_status(chicago, datetime(2026, 1, 11, 12, 0, tzinfo=UTC)).message
    )


def test_open_status_reports_closing_time_in_local_zone() -> None:
    status = line_status(HARBOR, eastern(2026, 7, 1, 12, 0))
    assert status.closes_at is not None
    assert status.closes_at - eastern(2026, 7, 1, 12, 0) == timedelta(hours=8)
