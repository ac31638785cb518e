"""Free time told relative to the rest of a visitor's week, resolved against earlier answers.

"whenever my son's at kindergarten", "while my dad is at dialysis", "during school hours",
"on my days off", "after my shift" only make sense next to what the visitor already said:
when the person they care for is away (``care_away``, from the caregiving answer) and their
work or school hours (``busy``). :func:`read_relative` finds such a reference and resolves it:

* resolved: a :class:`~admissions.profile.WeeklyPicture` of free time;
* not resolvable from what is known: a *specific* follow-up question ("What time does
  school start and finish?") instead of the generic re-ask, so nothing said is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from admissions.profile import WEEKDAYS, WeeklyPicture, Window, subtract_windows
from admissions.understanding.clock import DAY_END, DAY_START
from admissions.understanding.schedule_reader import read_schedule

if TYPE_CHECKING:
    from spacy.language import Language

_PLACE = (
    r"(?:school|kindergarten|kinder|pre-?k|pre-?school|daycare|day care|nursery|camp|"
    r"dialysis|day program|adult day(?: care| center| program)?|the center|therapy|"
    r"his dad'?s|her dad'?s|their dad'?s|his mom'?s|her mom'?s|their mom'?s|"
    r"the sitter'?s|grandma'?s|grandpa'?s|class(?:es)?)"
)
_CARE_AWAY = re.compile(
    r"\b(?:while|when|whenever|whilst|during the time|as long as|once)\b[^.?!]{0,40}?"
    rf"\b(?:at|in|is at|'s at|are at|goes to|go to|gone to|off at)\s+(?:the\s+)?{_PLACE}\b"
    r"|\bduring (?:school|kindergarten|daycare|dialysis|camp)(?: hours| time| days)?\b"
    r"|\bschool hours\b|\bschool day\b"
    r"|\bbetween (?:drop[- ]?off|dropping (?:him|her|them) off|school drop[- ]?off)\b"
    r"|\b(?:when|while|whenever) (?:the )?(?:kids?|children|baby|son|daughter|"
    r"dad|mom|father|mother|husband|wife|partner|grandma|grandpa)(?:'s| is| are)? "
    r"(?:gone|away|out|not home|in (?:school|class))\b"
)
_DAYS_OFF = re.compile(
    r"\b(?:on )?(?:my |the )?(?:days? off|off days?)\b"
    r"|\bwhen i don'?t (?:have work|have class)\b|\bnon[- ]?work(?:ing)? days\b"
)
_NOT_WORKING = re.compile(
    r"\bwhen(?:ever)? i'?m (?:off|not (?:working|at work|at school|in class))\b"
    r"|\bwhen(?:ever)? i don'?t (?:work|have to work)\b|\boutside (?:of )?(?:work|my shifts?)\b"
    r"|\baround (?:my )?(?:work|shifts?|job|classes)\b"
)
_AFTER_WORK = re.compile(
    r"\bafter (?:my |i get off |i'?m off |)(?:shifts?|work|job|class(?:es)?|school)\b"
    r"|\bonce (?:i'?m off|my shift ends|i get off|work ends|i'?m done with work)\b"
    r"|\bwhen i get off(?: work)?\b|\bafter i get off\b|\bwhen my shift ends\b"
)
_BEFORE_WORK = re.compile(r"\bbefore (?:my )?(?:shifts?|work|job|class(?:es)?)\b")
# a reference with its own days or clock times is read by the schedule reader, not here
_OWN_TIMES = re.compile(r"\d|\b(?:noon|midnight)\b")


@dataclass(frozen=True)
class Relative:
    """A relative free-time answer: resolved free time, or the follow-up that would resolve it."""

    kind: str  # care_away | days_off | after_work | before_work
    free: WeeklyPicture | None = None
    follow_up: str | None = None


def _place(text: str) -> str:
    match = re.search(_PLACE, text)
    word = match.group(0) if match else "school"
    return {"kinder": "kindergarten", "class": "class", "classes": "class"}.get(word, word)


def _from_busy(busy: WeeklyPicture, day_window: Window, after: bool) -> WeeklyPicture:
    """On each day with work/school hours, the part of the day after (or before) them."""
    windows: dict[str, list[Window]] = {}
    for day in WEEKDAYS:
        spans = [w for w in busy.windows.get(day, []) if w[1] > w[0]]
        if not spans:
            continue
        start, end = day_window
        if after:
            start = max(start, max(e for _, e in spans))
        else:
            end = min(end, min(s for s, _ in spans))
        if end - start >= 60:
            windows[day] = [(start, end)]
    return WeeklyPicture(windows)


def _days_off(busy: WeeklyPicture, day_window: Window) -> WeeklyPicture:
    """Whole days with no work or school (night shifts that spill past midnight excepted)."""
    windows: dict[str, list[Window]] = {}
    for day in WEEKDAYS:
        free = subtract_windows([day_window], busy.windows.get(day, []))
        if free == [day_window]:
            windows[day] = [day_window]
    return WeeklyPicture(windows)


def read_relative(
    text: str,
    busy: WeeklyPicture,
    care_away: WeeklyPicture,
    loved_one: bool = False,
) -> Relative | None:
    """Find a free-time reference to the visitor's other answers and resolve it (or ask)."""
    lowered = text.lower().replace("’", "'")
    if _OWN_TIMES.search(lowered):
        return None
    day_window: Window = (DAY_START, DAY_END)
    they = "they" if loved_one else "you"
    their = "their" if loved_one else "your"
    if _CARE_AWAY.search(lowered) and not re.search(
        r"\b(?:my|his|her|their) (?:shift|job)\b|\bafter work\b", lowered
    ):
        if not care_away.is_empty():
            return Relative("care_away", free=care_away)
        place = _place(lowered)
        return Relative(
            "care_away",
            follow_up=f"Which days is that, and what time does {place} start and finish? "
            'For example "Monday to Friday, 8:30 to 2:30".',
        )
    if _NOT_WORKING.search(lowered):
        if any(busy.windows.values()):
            free = {
                day: spans
                for day in WEEKDAYS
                if (spans := subtract_windows([day_window], busy.windows.get(day, [])))
            }
            return Relative("not_working", free=WeeklyPicture(free))
        return Relative(
            "not_working",
            follow_up=f"Which days and hours do {they} work? For example "
            '"Monday to Friday, 9 to 5".',
        )
    if _DAYS_OFF.search(lowered):
        off = _days_off(busy, day_window) if any(busy.windows.values()) else WeeklyPicture()
        if not off.is_empty():
            return Relative("days_off", free=off)
        return Relative(
            "days_off",
            follow_up=f'Which days are {their} days off? For example "Sundays and Mondays".',
        )
    for pattern, after, kind in (
        (_AFTER_WORK, True, "after_work"),
        (_BEFORE_WORK, False, "before_work"),
    ):
        if pattern.search(lowered):
            resolved = _from_busy(busy, day_window, after)
            if not resolved.is_empty():
                return Relative(kind, free=resolved)
            edge = "end" if after else "start"
            return Relative(
                kind,
                follow_up=f"What time does {their} shift or class usually {edge}, and on "
                f'which days do {they} work? For example "Monday to Friday, off at 3".',
            )
    return None


_AT_PLACE = re.compile(rf"\b(?:at|in|to)\s+(?:(?:the|a|an|his|her|their|my)\s+)?{_PLACE}\b")
_DAY_WORDS = re.compile(
    r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|s)?s?\b"
    r"|\bweekdays?\b|\bweekends?\b|\bevery ?day\b"
)


def mentions_care_away(text: str) -> bool:
    """True when a message places someone at school, daycare, dialysis... ("he's at kinder 8-1")."""
    return bool(_AT_PLACE.search(text.lower()))


def care_away_picture(text: str, nlp: Language) -> WeeklyPicture | None:
    """When the person cared for is away: "my son is at kindergarten 8:30 to 12:30 weekdays".

    Only the days and times after the place are read, as plain hours ("7 to 11" is morning),
    so whose hours they are (his, not the visitor's) does not change how they are read.
    """
    lowered = text.lower()
    match = _AT_PLACE.search(lowered)
    if match is None or not re.search(r"\d", lowered):
        return None
    rest = lowered[match.end() :]
    days_before = " ".join(_DAY_WORDS.findall(lowered[: match.start()]))
    picture = read_schedule(nlp(f"{days_before} {rest}".strip()), "free").free
    return picture if picture is not None and not picture.is_empty() else None
