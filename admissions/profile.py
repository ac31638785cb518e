"""The visitor's answers as plain data: the contract between extraction, scoring and slots.

Everything here is JSON-serialisable through ``to_slot``/``from_slot`` so it can live in a
Rasa slot (and so in the tracker store, which is the transcript) without custom types.
Times are minutes since local midnight; a window ``(start, end)`` is half-open.
"""

from __future__ import annotations

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
PROGRAMS: tuple[str, ...] = ("op", "iop", "php", "residential")  # least to most intensive
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


@dataclass
class VisitorProfile:
    """Everything the assessment learned, as the scoring function needs it."""

    for_loved_one: bool = False
    readiness: str | None = None  # "ready" | "unsure"
    payment: str | None = None  # one of PAYMENT_KINDS
    payer: str | None = None  # e.g. "Aetna"
    busy: WeeklyPicture = field(default_factory=WeeklyPicture)  # work / school hours
    work_school: str | None = None  # short description, e.g. "works Mon–Fri 9–5"; "none"
    caregiving: list[str] = field(default_factory=list)  # relations: "children", "mother"...
    free: WeeklyPicture = field(default_factory=WeeklyPicture)  # stated free time
    screening: dict[str, bool] = field(default_factory=dict)  # SCREENING_KEYS -> yes/no
    severe_withdrawal: bool = False  # seizures, hallucinations, DTs now or before
    can_take_leave: bool = False  # said they can step away (leave, FMLA, summer break)
