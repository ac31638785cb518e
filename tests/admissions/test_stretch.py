"""Near misses: a track that almost fits is asked about, and a "yes" makes it fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from admissions.facility import FacilityConfigError, load_facility
from admissions.fit import read_back, score
from admissions.profile import VisitorProfile, WeeklyPicture
from admissions.stretch import find_stretch

SHIPPED = Path(__file__).resolve().parents[2] / "facility.yml"
FACILITY = load_facility(SHIPPED)
IOP_NEED = {"daily_use": True, "withdrawal": True, "relapse": False, "home_unsafe": False}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _free(days: tuple[str, ...], start: str, end: str) -> WeeklyPicture:
    return WeeklyPicture.from_slot({d: [[start, end]] for d in days})


def test_kindergarten_hours_half_an_hour_short_of_iop_mornings_are_asked_about() -> None:
    """8:30–12:30 misses the 9–1 IOP morning track by 30 minutes: ask, then it fits."""
    profile = VisitorProfile(free=_free(WEEKDAYS, "08:30", "12:30"), screening=IOP_NEED)
    assert score(profile, FACILITY).recommended != "iop"
    stretch = find_stretch(profile, FACILITY)
    assert stretch is not None and stretch.program == "iop" and stretch.track == "morning"
    assert "runs 9 AM–1 PM on Monday to Thursday" in stretch.question
    assert "Could you be free until 1 PM on those days?" in stretch.question
    after = VisitorProfile(free=stretch.apply(profile.free), screening=IOP_NEED)
    assert score(after, FACILITY).recommended == "iop"
    assert find_stretch(after, FACILITY) is None  # nothing left to ask


def test_one_day_short_asks_about_one_more_day() -> None:
    """Free for the morning track on two days, IOP needs three: ask about one more."""
    profile = VisitorProfile(free=_free(("mon", "tue"), "09:00", "13:00"), screening=IOP_NEED)
    stretch = find_stretch(profile, FACILITY)
    assert stretch is not None and stretch.days == ("wed",)
    assert "Could you also make it on Wednesday?" in stretch.question


def test_loved_one_mode_asks_about_them() -> None:
    """In loved-one mode the question is about "they"."""
    profile = VisitorProfile(
        for_loved_one=True, free=_free(WEEKDAYS, "08:30", "12:30"), screening=IOP_NEED
    )
    stretch = find_stretch(profile, FACILITY)
    assert stretch is not None and "Could they be free" in stretch.question


def test_a_miss_of_more_than_the_margin_is_not_a_near_miss() -> None:
    """8–11 misses 9–1 by two hours: too far to ask."""
    profile = VisitorProfile(free=_free(WEEKDAYS, "08:00", "11:00"), screening=IOP_NEED)
    assert find_stretch(profile, FACILITY) is None


def test_work_hours_in_the_way_are_never_stretched_over() -> None:
    """A session that clashes with work is not a near miss, however close the free time."""
    profile = VisitorProfile(
        free=_free(WEEKDAYS, "08:30", "12:30"),
        busy=_free(WEEKDAYS, "12:30", "17:00"),
        screening=IOP_NEED,
    )
    assert find_stretch(profile, FACILITY) is None


def test_the_margin_is_read_from_the_facility_file(tmp_path: Path) -> None:
    """`near_miss.minutes: 0` turns the time check off; a bad value names the field."""
    text = SHIPPED.read_text().replace("  minutes: 60", "  minutes: 0")
    (tmp_path / "facility.yml").write_text(text)
    strict = load_facility(tmp_path / "facility.yml")
    profile = VisitorProfile(free=_free(WEEKDAYS, "08:30", "12:30"), screening=IOP_NEED)
    assert find_stretch(profile, strict) is None
    (tmp_path / "facility.yml").write_text(text.replace("  minutes: 0", "  minutes: lots"))
    with pytest.raises(FacilityConfigError, match=r"near_miss\.minutes"):
        load_facility(tmp_path / "facility.yml")


def test_read_back_says_the_weekly_picture_in_plain_words() -> None:
    """Before scoring, the free time is read back, about "you" or "they"."""
    mine = VisitorProfile(free=_free(WEEKDAYS, "08:00", "15:00"))
    assert read_back(mine) == "So you're free weekdays 8 AM–3 PM. Did I get that right?"
    theirs = VisitorProfile(for_loved_one=True, free=WeeklyPicture.from_slot({"max_days": 3}))
    assert read_back(theirs).startswith("So they're free up to 3 days a week.")
