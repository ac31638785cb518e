"""Is the admissions line open? Weekly hours and holidays in the facility's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from admissions.facility import AdmissionsLine, Facility
from admissions.profile import DAY_NAMES, WEEKDAYS
from admissions.wording import clock_with_minutes, day_list, time_range

# Friendly names for common zones; anything else is shown by its abbreviation (e.g. "CET").
ZONE_NAMES: dict[str, str] = {
    "America/New_York": "Eastern",
    "America/Detroit": "Eastern",
    "America/Indiana/Indianapolis": "Eastern",
    "America/Chicago": "Central",
    "America/Denver": "Mountain",
    "America/Phoenix": "Arizona",
    "America/Boise": "Mountain",
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "Pacific/Honolulu": "Hawaii",
    "America/Puerto_Rico": "Atlantic",
}
MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_SEARCH_DAYS = 400  # enough to step over any run of holidays within a year


@dataclass(frozen=True)
class LineStatus:
    """Whether a person answers now, when they next will, and a sentence for the visitor."""

    is_open: bool
    next_open: datetime | None  # aware, facility time zone; None when open or never
    message: str
    closes_at: datetime | None = None  # aware, facility time zone; set when open


def clock_text(moment: datetime) -> str:
    """``8:00 AM``-style time of day."""
    return clock_with_minutes(moment.hour * 60 + moment.minute)


def zone_label(line: AdmissionsLine, moment: datetime) -> str:
    """``Eastern time`` for known US zones, else the abbreviation (``CET``) or the zone name."""
    name = ZONE_NAMES.get(line.time_zone)
    if name:
        return f"{name} time"
    abbreviation = moment.tzname() or ""
    return abbreviation if abbreviation.isalpha() else f"{line.time_zone} time"


def _at(day: date, minutes: int, line: AdmissionsLine) -> datetime:
    """Local wall-clock ``day`` + ``minutes``, normalised (a time skipped by DST moves on)."""
    wall = datetime(day.year, day.month, day.day, tzinfo=line.tz) + timedelta(minutes=minutes)
    return wall.astimezone(timezone.utc).astimezone(line.tz)


def _is_open_day(day: date, line: AdmissionsLine) -> tuple[int, int] | None:
    if day in line.holidays:
        return None
    return line.hours.get(WEEKDAYS[day.weekday()])


def _when(moment: datetime, today: date) -> str:
    delta = (moment.date() - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    weekday = DAY_NAMES[WEEKDAYS[moment.weekday()]]
    if delta < 7:
        return weekday
    return f"{weekday}, {MONTHS[moment.month - 1]} {moment.day}"


def line_status(facility: Facility, now: datetime) -> LineStatus:
    """Open/closed status of the admissions line at ``now`` (naive times are taken as local)."""
    line = facility.admissions
    local = now.replace(tzinfo=line.tz) if now.tzinfo is None else now.astimezone(line.tz)
    today = local.date()
    span = _is_open_day(today, line)
    if span is not None:
        opens, closes = _at(today, span[0], line), _at(today, span[1], line)
        if opens <= local < closes:
            message = f"Admissions is open now until {clock_text(closes)}."
            return LineStatus(True, None, message, closes)
    for offset in range(_SEARCH_DAYS):
        day = today + timedelta(days=offset)
        span = _is_open_day(day, line)
        if span is None:
            continue
        opens = _at(day, span[0], line)
        if opens > local:
            message = (
                f"Admissions is closed now. It opens {_when(opens, today)} at "
                f"{clock_text(opens)} ({zone_label(line, opens)})."
            )
            return LineStatus(False, opens, message)
    return LineStatus(False, None, "Admissions is closed now.")


def weekly_hours_text(line: AdmissionsLine) -> str:
    """``Monday to Friday 8 AM–8 PM and Saturday 9 AM–5 PM (Eastern time)``, for the greeting."""
    groups: dict[tuple[int, int], list[str]] = {}
    for day in WEEKDAYS:
        if day in line.hours:
            groups.setdefault(line.hours[day], []).append(day)
    if not groups:
        return "by appointment"
    parts = []
    for (start, end), days in groups.items():
        when = day_list(days)
        when = when[0].upper() + when[1:]
        parts.append(f"{when} {time_range(start, end)}")
    name = ZONE_NAMES.get(line.time_zone)
    zone = f"{name} time" if name else line.time_zone
    return f"{' and '.join(parts)} ({zone})"


def last_closing(facility: Facility, now: datetime) -> datetime | None:
    """When the admissions line last closed at or before ``now`` (facility time zone).

    While the line is open this is the previous open day's closing (Monday morning: Saturday
    evening; holidays are skipped); after hours it is today's. None when it never was open.
    """
    line = facility.admissions
    local = now.replace(tzinfo=line.tz) if now.tzinfo is None else now.astimezone(line.tz)
    today = local.date()
    for offset in range(_SEARCH_DAYS):
        day = today - timedelta(days=offset)
        span = _is_open_day(day, line)
        if span is None:
            continue
        closes = _at(day, span[1], line)
        if closes <= local:
            return closes
    return None
