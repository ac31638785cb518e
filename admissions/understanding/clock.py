"""Clock times, day sets and time-of-day words turned into windows of the week.

Conventions (everything that reads a schedule relies on them):

* Times are minutes since local midnight and spans ``(start, end)`` are half-open. While
  parsing, ``end`` may run past 1440 when a span crosses midnight ("7p-7a" is
  ``(1140, 1860)``); :func:`place` splits such a span across the next day (Sunday wraps to
  Monday), so stored windows always lie within 0..1440.
* Day specs are the normalised values of the pattern files: ``mon``; a range ``mon-fri``
  (which may wrap, ``fri-mon``); a list ``mon,wed,fri``; or lists of ranges.
* Explicit times: ``5pm``, ``5 p.m.``, ``7p``, ``17:00``, ``09:30``, ``noon``, ``midnight``.
  An hour of 0 or 13-24, or one written with a leading zero, is a 24-hour clock.
* Bare hours ("9", "5") follow the hint the sentence gives ("mornings" -> am; "afternoons",
  "evenings", "nights", night shifts -> pm). Without a hint: 12 is noon; after "after",
  "since" or "past" 1-7 are pm and 8-11 am; otherwise 1-6 are pm and 7-11 am for free time,
  and 1-4 pm / 5-11 am for work hours (shifts start early).
* Ranges: when only one end says am/pm, the other is read to make the shorter span ("9-5pm"
  09:00-17:00, "6-10pm" 18:00-22:00); when neither does, the start follows the rules above
  and the end is the next time that hour comes round ("9-5" 09:00-17:00, "8 to 2"
  08:00-14:00, "7-7" with a night hint 19:00-07:00). Spans longer than 18 hours are dropped.
* Anchored times: "after/from/at/since X" run from X to 22:00 (:data:`DAY_END`), or to
  midnight when X is later; "before/until/by X" run from 08:00 (:data:`DAY_START`) to X, or
  cover the two hours before X when X is that early.
* Time-of-day words: morning 08-12, afternoon 12-17, evening 17-22, daytime 08-17, lunch
  12-13, all day / anytime 08-22, after work 17-22 (or from the end of stated work hours),
  night 17-22 for free time but 19:00-07:00 for work (night shifts).
* Days given without times: free all day (08-22); work 09-17, or the shift's hours (night
  19-07, evening 15-23, day 07-15; a stated shift length stretches it).
* Times given without days: free time applies to all seven days, work hours to Mon-Fri
  (also "weeknights"); "N days a week" without named days gives no windows at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from admissions.profile import SAID_DAY, WEEKDAYS, Window, merge_windows

Span = tuple[int, int]  # (start, end) minutes; end may exceed 1440 when crossing midnight
Hint = Literal["am", "pm"] | None

DAY_START, DAY_END = SAID_DAY  # how far "all day", "after 5" and "before noon" reach
MAX_SPAN = 18 * 60
WORK_DAY: Span = (9 * 60, 17 * 60)
WEEKDAYS_ONLY: tuple[str, ...] = WEEKDAYS[:5]

TIME_OF_DAY: dict[str, Span] = {
    "morning": (DAY_START, 12 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, DAY_END),
    "weeknight": (17 * 60, DAY_END),
    "night": (17 * 60, DAY_END),
    "daytime": (DAY_START, 17 * 60),
    "lunch": (12 * 60, 13 * 60),
    "all_day": (DAY_START, DAY_END),
    "after_work": (17 * 60, DAY_END),
}
NIGHT_WORK: Span = (19 * 60, 31 * 60)
TOD_HINTS: dict[str, Hint] = {
    "morning": "am",
    "afternoon": "pm",
    "evening": "pm",
    "weeknight": "pm",
    "night": "pm",
    "after_work": "pm",
}
SHIFT_HINTS: dict[str, Hint] = {"night": "pm", "evening": "pm", "day": "am"}

_AFTER = {"after", "afta", "since", "past"}
_FROM = {"from", "at", "around", "starting", "start"}
_BEFORE = {"before", "b4", "until", "till", "til", "'til", "by"}
_CLOCK = re.compile(
    r"^(?:(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<mer>a\.?m?\.?|p\.?m?\.?)?"
    r"|(?P<word>noon|midday|midnight|12\s*noon|twelve\s+noon))$"
)
_RANGE_SPLIT = re.compile(
    r"\s*(?:-|–|—|~|&|\bto\b|\btill?\b|'til\b|\buntil\b|\bthru\b|\bthrough\b|\band\b)\s*"
)
_TO_BETWEEN_DIGITS = re.compile(r"(?<=\d)to(?=\d)")
_APPROXIMATELY = {"about", "around", "approximately", "roughly", "like", "maybe", "say"}
_NOISE = {"job", "jobs", "ish", "-ish", "o'clock", "oclock", "sharp", "shift", "shifts"}
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "one two three four five six seven eight nine ten eleven twelve".split(), start=1
    )
}
_DAY_RANGE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?$")


class Clock(NamedTuple):
    """A clock time as written: hour and minute, with ``am``/``pm`` or 24-hour when known."""

    hour: int
    minute: int
    meridiem: Hint  # None when the text did not say
    fixed: bool  # True when the text pins the time (am/pm, 24-hour clock, noon, midnight)


def days_from_spec(spec: str) -> list[str]:
    """Expand a day spec such as ``mon-fri``, ``mon,wed,fri`` or ``fri-mon`` into weekdays."""
    chosen: set[str] = set()
    for part in spec.lower().replace(" ", "").split(","):
        match = _DAY_RANGE.match(part)
        if not match:
            continue
        first = WEEKDAYS.index(match.group(1))
        last = WEEKDAYS.index(match.group(2) or match.group(1))
        for step in range((last - first) % 7 + 1):
            chosen.add(WEEKDAYS[(first + step) % 7])
    return [d for d in WEEKDAYS if d in chosen]


def parse_clock(text: str) -> Clock | None:
    """Read one clock time ("9", "9:30", "5pm", "7p", "17:00", "noon"); None if it is not one."""
    match = _CLOCK.match(text.strip().lower())
    if not match:
        return None
    word = match.group("word")
    if word:
        return Clock(0 if word == "midnight" else 12, 0, "am" if word == "midnight" else "pm", True)
    raw_hour = match.group("h")
    hour, minute = int(raw_hour), int(match.group("m") or 0)
    if minute >= 60 or hour > 24:
        return None
    mer_text = match.group("mer")
    meridiem: Hint = None
    if mer_text:
        meridiem = "am" if mer_text.startswith("a") else "pm"
    if hour == 0 or hour > 12 or (len(raw_hour) == 2 and raw_hour.startswith("0")):
        if hour == 24 and minute:
            return None
        return Clock(hour, minute, None, True)  # 24-hour clock; a stray am/pm is ignored
    return Clock(hour, minute, meridiem, meridiem is not None)


def bare_meridiem(hour: int, role: str = "start", work: bool = False) -> Hint:
    """Guess am/pm for an hour written without it (see the module conventions)."""
    if hour == 12:
        return "pm"
    if role == "after":
        return "pm" if hour <= 7 else "am"
    if work:
        return "pm" if hour <= 4 else "am"
    return "pm" if hour <= 6 else "am"


def clock_minutes(clock: Clock, meridiem: Hint) -> int:
    """Minutes since midnight for ``clock``, using ``meridiem`` when the clock has none."""
    if clock.fixed and clock.meridiem is None:  # 24-hour clock
        return clock.hour * 60 + clock.minute
    mer = clock.meridiem or meridiem or "am"
    hour = clock.hour % 12 + (12 if mer == "pm" else 0)
    return hour * 60 + clock.minute


def _read(clock: Clock, hint: Hint, role: str, work: bool) -> int:
    """Minutes for ``clock`` using its own am/pm, else the hint, else the role's default."""
    return clock_minutes(clock, clock.meridiem or hint or bare_meridiem(clock.hour, role, work))


def _candidates(clock: Clock) -> list[int]:
    """Both readings of a clock (am and pm), or its one reading when it is fixed."""
    if clock.fixed:
        return [clock_minutes(clock, None)]
    return [clock_minutes(clock, "am"), clock_minutes(clock, "pm")]


def _span(start: int, end: int) -> Span | None:
    """Normalise a start/end pair into a span that may cross midnight, or None if empty."""
    start %= 1440
    length = (end - start) % 1440
    if length == 0 or length > MAX_SPAN:
        return None
    return (start, start + length)


def parse_range(first: str, second: str, hint: Hint = None, work: bool = False) -> Span | None:
    """Read two clock texts as a span ("9", "5" -> 09:00-17:00; "7p", "7a" -> 19:00-07:00)."""
    a, b = parse_clock(first), parse_clock(second)
    if a is None or b is None:
        return None

    def shortest(starts: list[int], ends: list[int]) -> Span | None:
        best: Span | None = None
        for s in starts:
            for e in ends:
                span = _span(s, e if e > s else e + 1440)
                if span and (best is None or span[1] - span[0] < best[1] - best[0]):
                    best = span
        return best

    if not a.fixed and not b.fixed:
        return shortest([_read(a, hint, "start", work)], _candidates(b))
    return shortest(_candidates(a), _candidates(b))


def parse_time_phrase(text: str, hint: Hint = None, work: bool = False) -> Span | None:
    """Read a located time phrase ("9-5", "between 12 and 4", "after 5", "before noon", "5pm")."""
    text = _TO_BETWEEN_DIGITS.sub(" to ", text.strip().lower().replace("’", "'"))
    words = [_NUMBER_WORDS.get(w, w) for w in text.split() if w not in _NOISE]
    if not words:
        return None
    anchor = ""
    if words[0] in _AFTER | _FROM | _BEFORE | {"between"}:
        anchor, words = words[0], words[1:]
        if len(words) > 1 and words[0] in _APPROXIMATELY:  # "until about 1:30"
            words = words[1:]
    body = " ".join(words)
    parts = [p for p in _RANGE_SPLIT.split(body) if p]
    if len(parts) == 2:
        return parse_range(parts[0], parts[1], hint, work)
    if len(parts) != 1:
        return None
    clock = parse_clock(parts[0])
    if clock is None:
        return None
    if anchor in _BEFORE:
        if clock.meridiem is None and not clock.fixed and 1 <= clock.hour <= 6:
            hint = "pm"  # "mornings until about 1:30" ends at 1:30 PM: nobody is free to 1:30 AM
        end = _read(clock, hint, "before", work) or 1440
        if end > DAY_START:
            return (DAY_START, end)
        return (max(0, end - 120), end)
    start = _read(clock, hint, "after" if anchor in _AFTER else "start", work)
    return (start, DAY_END if start < DAY_END else 1440)


def time_of_day_span(name: str, work: bool = False) -> Span | None:
    """The span for a time-of-day id (``morning``, ``evening``, ``night``, ``all_day``...)."""
    if name == "night" and work:
        return NIGHT_WORK
    if name == "anytime":
        return None if work else TIME_OF_DAY["all_day"]  # "I work whenever": flexible
    return TIME_OF_DAY.get(name)


def shift_span(kind: str, hours: float | None = None) -> Span | None:
    """Typical hours of a shift kind (``night``, ``evening``, ``day``), stretched to ``hours``."""
    length = round((hours if hours and 4 <= hours <= 16 else 0) * 60)
    if kind == "night":
        return (31 * 60 - (length or 12 * 60), 31 * 60)
    if kind == "evening":
        return (15 * 60, 15 * 60 + (length or 8 * 60))
    if kind == "day":
        return (7 * 60, 7 * 60 + (length or 8 * 60))
    return None


def intersect(a: Span, b: Span) -> Span | None:
    """The overlap of two spans, or None when they do not overlap."""
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def place(days: Iterable[str], spans: Iterable[Span]) -> dict[str, list[Window]]:
    """Put spans on the given days, splitting spans that cross midnight onto the next day."""
    out: dict[str, list[Window]] = {}
    spans = list(spans)
    for day in days:
        if day not in WEEKDAYS:
            continue
        following = WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7]
        for start, end in spans:
            start, end = max(0, start), min(end, 2880)
            if start >= min(end, 1440):
                continue
            out.setdefault(day, []).append((start, min(end, 1440)))
            if end > 1440:
                out.setdefault(following, []).append((0, end - 1440))
    return {d: merge_windows(w) for d, w in out.items() if merge_windows(w)}


def add_windows(target: dict[str, list[Window]], more: dict[str, list[Window]]) -> None:
    """Merge ``more`` into ``target`` in place, day by day."""
    for day, windows in more.items():
        target[day] = merge_windows(target.get(day, []) + windows)
