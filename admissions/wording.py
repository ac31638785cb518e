"""Times and days in words: the one place clock times and day lists are written for people.

Pure functions over minutes since local midnight and weekday keys (``admissions.profile``),
no Rasa and no web imports, so the visitor's replies, the staff pages and the tests word a
time the same way. Three styles, each for its reader:

* visitors read **12-hour clocks** without needless minutes: ``clock`` (``9 AM``, ``5:30 PM``,
  ``noon``, ``midnight``), ``time_range`` (``5:30–9:30 PM``) and ``clock_with_minutes``
  (``8:00 AM``, the admissions line's opening and closing);
* visitors read **day lists** in full words: ``day_list`` (``weekdays``, ``Monday to
  Thursday``, ``Monday and Friday``);
* summaries of what a visitor said are **short**: ``short_day_list`` (``Mon–Fri``,
  ``Mon, Wed, Fri``) and ``clock_24h_span`` (``9:00–17:00``).
"""

from __future__ import annotations

from collections.abc import Iterable

from admissions.profile import DAY_NAMES, DAY_SHORT_NAMES, WEEKDAYS

MIDNIGHT, NOON, DAY_MINUTES = 0, 12 * 60, 24 * 60


def _twelve_hour(minutes: int) -> tuple[int, int, str]:
    """``(hour 1–12, minute, "AM" | "PM")`` for minutes since midnight (wrapping at 24 h)."""
    hour, minute = divmod(minutes % DAY_MINUTES, 60)
    return hour % 12 or 12, minute, "AM" if hour < 12 else "PM"


def clock(minutes: int) -> str:
    """Format minutes since midnight for people: ``9 AM``, ``5:30 PM``, ``noon``, ``midnight``."""
    minutes %= DAY_MINUTES
    if minutes == MIDNIGHT:
        return "midnight"
    if minutes == NOON:
        return "noon"
    hour, minute, suffix = _twelve_hour(minutes)
    return f"{hour} {suffix}" if minute == 0 else f"{hour}:{minute:02d} {suffix}"


def clock_with_minutes(minutes: int) -> str:
    """``8:00 AM``-style time of day, minutes always shown (``12:00 PM`` at noon)."""
    hour, minute, suffix = _twelve_hour(minutes)
    return f"{hour}:{minute:02d} {suffix}"


def time_range(start: int, end: int) -> str:
    """``9 AM–5 PM``; the first AM/PM is dropped when both share it (``5:30–9:30 PM``)."""
    first, last = clock(start), clock(end)
    if first[-2:] == last[-2:] and first[-2:] in ("AM", "PM") and start < end:
        first = first[:-3]
    return f"{first}–{last}"


def clock_24h_span(span: tuple[int, int]) -> str:
    """Label a span as ``9:00–17:00`` (a span past midnight ends at its next-day time)."""

    def fmt(minutes: int) -> str:
        return f"{minutes // 60}:{minutes % 60:02d}"

    start, end = span
    return f"{fmt(start)}–{fmt(end if end <= DAY_MINUTES else end - DAY_MINUTES)}"


def day_list(days: Iterable[str]) -> str:
    """Name days for people: ``weekdays``, ``Monday to Thursday``, ``Monday and Friday``."""
    chosen = set(days)
    ordered = [d for d in WEEKDAYS if d in chosen]
    if len(ordered) == 7:
        return "every day"
    if ordered == list(WEEKDAYS[:5]):
        return "weekdays"
    if ordered == ["sat", "sun"]:
        return "weekends"
    idx = [WEEKDAYS.index(d) for d in ordered]
    if len(idx) >= 4 and idx == list(range(idx[0], idx[0] + len(idx))):
        return f"{DAY_NAMES[ordered[0]]} to {DAY_NAMES[ordered[-1]]}"
    names = [DAY_NAMES[d] for d in ordered]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def short_day_list(days: Iterable[str]) -> str:
    """Short label for a set of days: "every day", "Mon–Fri", "weekends", "Mon, Wed, Fri"."""
    chosen = [d for d in WEEKDAYS if d in set(days)]
    if len(chosen) == 7:
        return "every day"
    if chosen == ["sat", "sun"]:
        return "weekends"
    runs: list[list[str]] = []
    for day in chosen:
        if runs and WEEKDAYS.index(day) == WEEKDAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    labels = []
    for run in runs:
        if len(run) >= 3:
            labels.append(f"{DAY_SHORT_NAMES[run[0]]}–{DAY_SHORT_NAMES[run[-1]]}")
        else:
            labels.extend(DAY_SHORT_NAMES[d] for d in run)
    return ", ".join(labels)
