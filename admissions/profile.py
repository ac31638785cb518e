"""The visitor's answers as plain data: the contract between extraction, scoring and slots.

Everything here is JSON-serialisable through ``to_slot``/``from_slot`` so it can live in a
Rasa slot (and so in the tracker store, which is the transcript) without custom types.
Times are minutes since local midnight; a window ``(start, end)`` is half-open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES: dict[str, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
DAY_SHORT_NAMES: dict[str, str] = {day: day.title() for day in WEEKDAYS}  # "mon" -> "Mon"
PROGRAMS: tuple[str, ...] = ("op", "iop", "php", "residential")  # least to most intensive
UNDETERMINED = "undetermined"  # the recommendation when no program can be named
PROGRAM_SHORT_NAMES: dict[str, str] = {
    "op": "OP",
    "iop": "IOP",
    "php": "PHP",
    "residential": "Residential",
}
PAYMENT_KINDS: tuple[str, ...] = (
    "insurance",
    "medicaid",
    "medicare",
    "self_pay",
    "no_insurance",
    "tight_money",
)
SCREENING_KEYS: tuple[str, ...] = ("daily_use", "withdrawal", "relapse", "home_unsafe")

Window = tuple[int, int]  # (start, end) minutes since midnight, end may be 1440

# Two "days", on purpose: one reads words, the other is a scoring assumption.
SAID_DAY: Window = (8 * 60, 22 * 60)
"""How far open-ended words reach when a visitor's free time is read: "all day", "anytime" and
days named without times are 8 AM–10 PM, "after 5" runs to 10 PM and "before noon" starts at
8 AM (``admissions.understanding.clock``: ``DAY_START``/``DAY_END``)."""
ASSUMED_FREE_DAY: Window = (7 * 60, 22 * 60)
"""Scoring only (``admissions.fit``): when a visitor gave busy time (work, school) but no free
time, they are taken to be free 7 AM–10 PM outside it, and the explanation says so. It starts
an hour before ``SAID_DAY`` because it bounds what is *not* busy rather than reading what
someone meant by "all day"; both values date from the first version and the fit and
schedule tests pin them."""


def hhmm(minutes: int) -> str:
    """Format minutes since midnight as ``HH:MM`` (1440 -> ``24:00``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    """Parse ``HH:MM`` into minutes since midnight; raises ValueError when malformed."""
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 1440 or not 0 <= int(minutes or 0) < 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


def merge_windows(windows: list[Window]) -> list[Window]:
    """Sort windows and merge the ones that overlap or touch."""
    merged: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract_windows(free: list[Window], busy: list[Window]) -> list[Window]:
    """Return the parts of ``free`` not covered by any ``busy`` window."""
    result = merge_windows(free)
    for b_start, b_end in merge_windows(busy):
        nxt: list[Window] = []
        for start, end in result:
            if b_end <= start or b_start >= end:
                nxt.append((start, end))
                continue
            if start < b_start:
                nxt.append((start, b_start))
            if b_end < end:
                nxt.append((b_end, end))
        result = nxt
    return result


@dataclass
class WeeklyPicture:
    """When the visitor is free (or busy) in a typical week.

    ``windows`` maps a weekday to its windows. ``max_days``/``max_hours`` record capacity
    statements ("3 days a week", "4 hours a day"). Times given without naming days
    ("evenings") are stored on every weekday they can apply to.
    """

    windows: dict[str, list[Window]] = field(default_factory=dict)
    max_days: int | None = None
    max_hours: float | None = None

    def is_empty(self) -> bool:
        """True when nothing at all is known."""
        has_windows = any(self.windows.get(d) for d in WEEKDAYS)
        return not has_windows and self.max_days is None and self.max_hours is None

    def to_slot(self) -> dict[str, Any]:
        """Serialise as ``{"mon": [["17:00", "22:00"]], ..., "max_days": 3, "max_hours": 4}``."""
        out: dict[str, Any] = {
            d: [[hhmm(s), hhmm(e)] for s, e in merge_windows(self.windows.get(d, []))]
            for d in WEEKDAYS
            if self.windows.get(d)
        }
        if self.max_days is not None:
            out["max_days"] = self.max_days
        if self.max_hours is not None:
            out["max_hours"] = self.max_hours
        return out

    @classmethod
    def from_slot(cls, value: Any) -> WeeklyPicture:
        """Inverse of ``to_slot``; tolerant of None and of unknown keys."""
        if not isinstance(value, dict):
            return cls()
        windows: dict[str, list[Window]] = {}
        for day in WEEKDAYS:
            spans = value.get(day) or []
            parsed = [(parse_hhmm(a), parse_hhmm(b)) for a, b in spans]
            if parsed:
                windows[day] = merge_windows(parsed)
        max_days = value.get("max_days")
        max_hours = value.get("max_hours")
        return cls(
            windows=windows,
            max_days=int(max_days) if max_days is not None else None,
            max_hours=float(max_hours) if max_hours is not None else None,
        )


@dataclass(frozen=True)
class Hours:
    """Days and times of work or school as the visitor said them ("Mon–Fri 9–5", "nights")."""

    days: tuple[str, ...] = ()  # () when no days were named
    spans: tuple[Window, ...] = ()  # clock spans; an end past 1440 runs past midnight
    named: tuple[str, ...] = ()  # time-of-day words when no clock time was said


_SCHOOL_WORDS = re.compile(r"school|class|college|student|universit")


@dataclass(frozen=True)
class WorkSchool:
    """Work and school as data: what, how much, when, and whether they can step away.

    Text is made from it only at the edge (``admissions.describe.work_school``). ``said`` keeps
    the text description an older conversation stored before this was data.
    """

    job: str | None = None  # works | full_time | part_time; None: no job
    study: str | None = None  # student | full_time | part_time; None: not in school
    shift: str | None = None  # night | evening | day | rotating | "" (shifts, kind unsaid)
    shift_hours: float | None = None  # "12-hour shifts"
    days_per_week: float | None = None  # "3 days a week"
    job_hours: tuple[Hours, ...] = ()
    study_hours: tuple[Hours, ...] = ()
    on_leave: bool = False  # on leave or disability from the job: can step away from it
    said: str | None = None

    @property
    def kind(self) -> str:
        """``none``, ``work``, ``school`` or ``both``."""
        if self.job is not None and self.study is not None:
            return "both"
        if self.job is not None:
            return "work"
        return "school" if self.study is not None else "none"

    def is_none(self) -> bool:
        """True for "I don't work or go to school"."""
        return self.kind == "none"

    def in_school_only(self) -> bool:
        """A student without a job."""
        return self.kind == "school"

    def is_bare(self) -> bool:
        """Only a status ("I work", "student"): no hours, shifts, capacity or leave."""
        return (
            not self.job_hours
            and not self.study_hours
            and self.shift is None
            and self.shift_hours is None
            and self.days_per_week is None
            and not self.on_leave
        )

    def to_slot(self) -> dict[str, Any]:
        """JSON for the ``work_school`` slot (only the fields that are set)."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("job", "study", "shift", "shift_hours", "days_per_week", "said"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("job_hours", "study_hours"):
            blocks = getattr(self, name)
            if blocks:
                out[name] = [_hours_to_slot(h) for h in blocks]
        if self.on_leave:
            out["on_leave"] = True
        return out

    @classmethod
    def from_slot(cls, value: Any) -> WorkSchool | None:
        """Inverse of ``to_slot``; None when not discussed. Older text values are kept as said."""
        if isinstance(value, dict):
            return cls(
                job=value.get("job"),
                study=value.get("study"),
                shift=value.get("shift"),
                shift_hours=_float(value.get("shift_hours")),
                days_per_week=_float(value.get("days_per_week")),
                job_hours=tuple(_hours_from_slot(h) for h in value.get("job_hours") or []),
                study_hours=tuple(_hours_from_slot(h) for h in value.get("study_hours") or []),
                on_leave=bool(value.get("on_leave")),
                said=value.get("said"),
            )
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if text.lower() == "none":
            return cls()
        if text == "works, on leave":
            return cls(job="works", on_leave=True)
        lowered = text.lower()
        school = bool(_SCHOOL_WORDS.search(lowered))
        return cls(
            job="works" if ("work" in lowered or not school) else None,
            study="student" if school else None,
            said=text,
        )


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _hours_to_slot(hours: Hours) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if hours.days:
        out["days"] = list(hours.days)
    if hours.spans:
        out["spans"] = [
            [hhmm(s), hhmm(e) if e <= 1440 else f"+{hhmm(e - 1440)}"] for s, e in hours.spans
        ]
    if hours.named:
        out["named"] = list(hours.named)
    return out


def _hours_from_slot(value: Any) -> Hours:
    spans = []
    for start, end in value.get("spans") or []:
        overnight = str(end).startswith("+")
        spans.append(
            (parse_hhmm(start), parse_hhmm(str(end).lstrip("+")) + (1440 if overnight else 0))
        )
    return Hours(
        days=tuple(value.get("days") or ()),
        spans=tuple(spans),
        named=tuple(value.get("named") or ()),
    )


@dataclass
class VisitorProfile:
    """Everything the assessment learned, as the scoring function needs it."""

    for_loved_one: bool = False
    readiness: str | None = None  # "ready" | "unsure"
    payment: str | None = None  # one of PAYMENT_KINDS
    payer: str | None = None  # e.g. "Aetna"
    busy: WeeklyPicture = field(default_factory=WeeklyPicture)  # work / school hours
    work_school: WorkSchool | None = None  # None: not discussed
    caregiving: list[str] = field(default_factory=list)  # relations: "children", "mother"...
    free: WeeklyPicture = field(default_factory=WeeklyPicture)  # stated free time
    screening: dict[str, bool] = field(default_factory=dict)  # SCREENING_KEYS -> yes/no
    severe_withdrawal: bool = False  # seizures, hallucinations, DTs now or before
    can_take_leave: bool = False  # said they can step away (leave, FMLA, summer break)
