"""Program fit: score a visitor's answers against the facility's programs (pure, deterministic).

How it decides
--------------
* **Need level**: count the "yes" answers among the four screening questions and map the count
  through ``facility.need_rule``; a history of severe withdrawal sets the need to
  ``need_rule.severe_withdrawal`` (residential by default).
* **Usable time** per weekday is the stated free windows minus the busy (work/school) windows.
  With busy windows but no free windows we assume 7 AM–10 PM is free outside them and say so.
  With neither, schedule programs cannot be judged.
* **A track fits** when the visitor is free for the whole session on at least the program's
  ``min_days_per_week`` of the track's days, counting no more days than ``free.max_days`` and
  no session longer than ``free.max_hours``. A program fits when any track fits.
* **Residential** fits unless there is a barrier: work/school without leave, caregiving, or
  paying out of pocket (self-pay, no insurance, tight money).
* **Scores** (0–100): 100 when a program fits cleanly. A schedule program that does not fit
  gets ``100 × days × hours`` (capped at 99): ``days`` is the share of the needed days the
  visitor is free for, counting part of a day when only part of the session is free;
  ``hours`` is ``max_hours / session hours`` when the session is longer than they can do.
  Residential loses 35 per barrier and 10 when payment is not yet known.
* **Recommendation**: the need-level program when it fits, else the most intensive fitting
  program below it (with a note that admissions will talk through the options), else
  ``"undetermined"``. Never a program above the need level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from admissions import describe
from admissions.facility import Facility, Program, Track
from admissions.profile import (
    DAY_NAMES,
    SCREENING_KEYS,
    WEEKDAYS,
    VisitorProfile,
    Window,
    subtract_windows,
)

UNDETERMINED = "undetermined"
ASSUMED_FREE: Window = (7 * 60, 22 * 60)
OUT_OF_POCKET: tuple[str, ...] = ("self_pay", "no_insurance", "tight_money")
BARRIER_PENALTY = 35
UNKNOWN_PAYMENT_PENALTY = 10


@dataclass(frozen=True)
class ProgramFit:
    """How one program fits: ``track`` is the id of the best fitting track, if any."""

    fits: bool
    score: int
    reasons: list[str] = field(default_factory=list)
    track: str | None = None


@dataclass(frozen=True)
class FitResult:
    """The outcome of ``score``: need level, recommendation and per-program fit."""

    need_level: str
    recommended: str  # a program key or "undetermined"
    note: str
    programs: dict[str, ProgramFit]

    def to_slot(self) -> dict[str, Any]:
        """JSON-serialisable value of the ``program_fit`` slot."""
        out: dict[str, Any] = {
            key: {"fits": p.fits, "score": p.score, "reasons": list(p.reasons), "track": p.track}
            for key, p in self.programs.items()
        }
        out["need_level"] = self.need_level
        return out


@dataclass(frozen=True)
class UsableTime:
    """When the visitor can attend: windows per weekday, or ``None`` when unknown."""

    windows: dict[str, list[Window]] | None
    assumed: bool = False  # True when free time was assumed as 7 AM–10 PM outside busy time


# ----- wording ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Voice:
    """Second person for the visitor, third person plural in loved-one mode."""

    loved_one: bool

    @property
    def subj(self) -> str:
        return "they" if self.loved_one else "you"

    @property
    def poss(self) -> str:
        return "their" if self.loved_one else "your"

    @property
    def are(self) -> str:
        return "they're" if self.loved_one else "you're"

    @property
    def would(self) -> str:
        return "they'd" if self.loved_one else "you'd"


def clock(minutes: int) -> str:
    """Format minutes since midnight for people: ``9 AM``, ``5:30 PM``, ``noon``, ``midnight``."""
    minutes %= 1440
    if minutes == 0:
        return "midnight"
    if minutes == 720:
        return "noon"
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    hour = hour % 12 or 12
    return f"{hour} {suffix}" if minute == 0 else f"{hour}:{minute:02d} {suffix}"


def in_full(program: Program) -> str:
    """A program named for someone who has never heard of it, with what it asks of their week.

    ``Intensive Outpatient (IOP), 3–5 days a week for at least 4 hours a day``; the short name
    alone ("IOP") is used only after this first mention.
    """
    if program.live_on_site:
        weeks = f"about {program.typical_weeks} weeks" if program.typical_weeks else "a few weeks"
        return f"{program.name}, living on site for {weeks},"
    days = f"{program.min_days_per_week}–{program.max_days_per_week}"
    if program.min_days_per_week == program.max_days_per_week:
        days = str(program.min_days_per_week)
    hours = f"{program.min_hours_per_day:g}"
    return f"{program.name}, {days} days a week for at least {hours} hours a day,"


def time_range(start: int, end: int) -> str:
    """``9 AM–5 PM``; the first AM/PM is dropped when both share it (``5:30–9:30 PM``)."""
    first, last = clock(start), clock(end)
    if first[-2:] == last[-2:] and first[-2:] in ("AM", "PM") and start < end:
        first = first[:-3]
    return f"{first}–{last}"


def day_list(days: list[str] | tuple[str, ...]) -> str:
    """Name days for people: ``weekdays``, ``Monday to Thursday``, ``Monday and Friday``."""
    ordered = [d for d in WEEKDAYS if d in days]
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


def _hours(minutes: float) -> str:
    value = minutes / 60
    return f"{value:g} hour" if value == 1 else f"{value:g} hours"


def _in_school(profile: VisitorProfile) -> bool:
    return profile.work_school is not None and profile.work_school.in_school_only()


def _has_obligations(profile: VisitorProfile) -> bool:
    stated = profile.work_school is not None and not profile.work_school.is_none()
    return stated or any(profile.busy.windows.get(d) for d in WEEKDAYS)


# ----- availability -------------------------------------------------------------------------
def usable_time(profile: VisitorProfile) -> UsableTime:
    """Free windows minus busy windows per weekday (assuming 7 AM–10 PM when only busy is known)."""
    free = {d: profile.free.windows.get(d, []) for d in WEEKDAYS}
    busy = {d: profile.busy.windows.get(d, []) for d in WEEKDAYS}
    if any(free.values()):
        return UsableTime({d: subtract_windows(free[d], busy[d]) for d in WEEKDAYS})
    if any(busy.values()):
        windows = {d: subtract_windows([ASSUMED_FREE], busy[d]) for d in WEEKDAYS}
        return UsableTime(windows, assumed=True)
    return UsableTime(None)


@dataclass(frozen=True)
class _TrackCheck:
    """One track measured against the visitor's usable time."""

    track: Track
    fit_days: tuple[str, ...]  # days the whole session is free
    holders: dict[str, Window]  # the free window holding the session, per fitting day
    days_ratio: float
    hours_ok: bool
    fits: bool
    score: int


def _check_track(
    track: Track, program: Program, windows: dict[str, list[Window]], profile: VisitorProfile
) -> _TrackCheck:
    coverage: dict[str, float] = {}
    holders: dict[str, Window] = {}
    for day in track.days:
        best = 0
        for start, end in windows.get(day, []):
            overlap = min(end, track.end) - max(start, track.start)
            best = max(best, overlap)
            if start <= track.start and track.end <= end:
                holders[day] = (start, end)
        coverage[day] = best / track.minutes
    fit_days = tuple(d for d in track.days if d in holders)
    needed = program.min_days_per_week
    cap = profile.free.max_days if profile.free.max_days is not None else 7
    counted = min(len(fit_days), cap)
    top = sorted(coverage.values(), reverse=True)[: max(0, min(needed, cap))]
    days_ratio = sum(top) / needed
    max_hours = profile.free.max_hours
    hours_ok = max_hours is None or track.minutes <= max_hours * 60
    hours_ratio = 1.0 if hours_ok or max_hours is None else max_hours * 60 / track.minutes
    fits = counted >= needed and hours_ok
    score = 100 if fits else min(99, int(100 * days_ratio * hours_ratio))
    return _TrackCheck(track, fit_days, holders, days_ratio, hours_ok, fits, score)


def _free_phrase(check: _TrackCheck) -> str:
    spans = {check.holders[d] for d in check.fit_days}
    if len(spans) == 1:
        start, end = next(iter(spans))
        if start <= ASSUMED_FREE[0] and end >= ASSUMED_FREE[1]:
            return "all day"
        if end >= ASSUMED_FREE[1] and start >= 12 * 60:
            return f"after {clock(start)}"
        if start <= ASSUMED_FREE[0]:
            return f"until {clock(end)}"
        return time_range(start, end)
    return f"for the whole {time_range(check.track.start, check.track.end)} session"


def _busy_phrase(
    track: Track, blocked: list[str], profile: VisitorProfile, voice: _Voice
) -> str | None:
    """Describe the busy time that clashes with the session on the blocked days."""
    groups: dict[Window, list[str]] = {}
    for day in blocked:
        for start, end in profile.busy.windows.get(day, []):
            if min(end, track.end) <= max(start, track.start):
                continue
            shown = (start, end)
            if end == 1440:  # a shift running past midnight: show where it really ends
                nxt = WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7]
                after = [w for w in profile.busy.windows.get(nxt, []) if w[0] == 0]
                if after:
                    shown = (start, after[0][1])
            elif start == 0:  # the tail of last night's shift
                prev = WEEKDAYS[(WEEKDAYS.index(day) - 1) % 7]
                before = [w for w in profile.busy.windows.get(prev, []) if w[1] == 1440]
                if before:
                    shown = (before[0][0], end)
            groups.setdefault(shown, []).append(day)
    if not groups:
        return None
    span, days = max(groups.items(), key=lambda kv: (len(kv[1]), -kv[0][0]))
    if _in_school(profile):
        doing = f"{voice.are} in school"
    elif profile.work_school is not None and not profile.work_school.is_none():
        doing = f"{voice.subj} work"
    else:
        doing = f"{voice.are} busy"
    return f"{doing} {time_range(*span)} on {day_list(days)}"


def _track_label(program: Program, track: Track) -> str:
    return f"{program.short_name} {track.name}"


def _track_clash(
    check: _TrackCheck, program: Program, profile: VisitorProfile, voice: _Voice
) -> str:
    track = check.track
    needed = program.min_days_per_week
    when = f"{time_range(track.start, track.end)} on {day_list(track.days)}"
    if needed < len(track.days):
        when += f" (at least {needed} of those days)"
    blocked = [d for d in track.days if d not in check.holders]
    busy = _busy_phrase(track, blocked, profile, voice)
    if busy:
        clash = busy
    elif check.fit_days:
        clash = f"{voice.are} free for the whole session only on {day_list(check.fit_days)}"
    else:
        clash = f"{voice.are} not free for the whole session"
    return f"{_track_label(program, track)} meets {when}; {clash}"


def _schedule_fit(
    program: Program, usable: UsableTime, profile: VisitorProfile, voice: _Voice
) -> ProgramFit:
    reasons: list[str] = []
    name = program.short_name
    max_days, max_hours = profile.free.max_days, profile.free.max_hours
    capacity: list[str] = []
    if max_days is not None and max_days < program.min_days_per_week:
        capacity.append(
            f"{name} needs {program.min_days_per_week} days a week; "
            f"{voice.subj} said {voice.subj} can do {max_days}"
        )
    shortest = min(t.minutes for t in program.tracks)
    if max_hours is not None and shortest > max_hours * 60:
        capacity.append(
            f"{name} needs {_hours(shortest)} a day; "
            f"{voice.subj} said {voice.subj} can do {max_hours:g}"
        )
    if usable.windows is None:
        reasons = [f"we don't know {voice.poss} schedule yet", *capacity]
        return ProgramFit(False, 0, reasons, None)
    checks = [_check_track(t, program, usable.windows, profile) for t in program.tracks]
    ranked = sorted(
        enumerate(checks), key=lambda ic: (ic[1].fits, ic[1].score, len(ic[1].fit_days), -ic[0])
    )
    best = ranked[-1][1]
    if best.fits:
        reasons.append(
            f"{_track_label(program, best.track)} fits: {voice.are} free {_free_phrase(best)} "
            f"on {day_list(best.fit_days)}"
        )
        reasons += [f"{_track_label(program, c.track)} also fits" for c in checks if c.fits][1:]
        if max_days is not None:
            reasons.append(
                f"{voice.subj} said up to {max_days} days a week, "
                f"and it needs {program.min_days_per_week}"
            )
    else:
        reasons += capacity
        if not capacity:
            reasons += [_track_clash(c, program, profile, voice) for c in checks]
    if usable.assumed:
        outside = "school" if _in_school(profile) else "work"
        reasons.append(f"assuming {voice.are} free outside {outside}")
    return ProgramFit(best.fits, best.score, reasons, best.track.id if best.fits else None)


def _residential_fit(
    program: Program, profile: VisitorProfile, facility: Facility, voice: _Voice
) -> ProgramFit:
    weeks = f"about {program.typical_weeks} weeks" if program.typical_weeks else "several weeks"
    barriers: list[str] = []
    notes: list[str] = []
    if _has_obligations(profile):
        what = "school" if _in_school(profile) else f"{voice.poss} work"
        if profile.can_take_leave:
            notes.append(f"{voice.subj} said {voice.subj} can take time away from {what}")
        else:
            barriers.append(f"Residential means living on site for {weeks}, away from {what}")
    if profile.caregiving:
        cared = ", ".join(profile.caregiving[:-1])
        cared = f"{cared} and {profile.caregiving[-1]}" if cared else profile.caregiving[0]
        barriers.append(f"Residential would mean time away from caring for {voice.poss} {cared}")
    penalty = 0
    if profile.payment in OUT_OF_POCKET:
        plans = " and payment plans" if facility.payers.payment_plans else ""
        barriers.append(
            f"Residential can be hard to pay for out of pocket; admissions can go over costs{plans}"
        )
    elif profile.payment is None:
        penalty = UNKNOWN_PAYMENT_PENALTY
        notes.append(
            f"we don't know yet how {voice.would} pay; admissions will go over coverage and costs"
        )
    if barriers:
        reasons = barriers + notes
    else:
        them = "them " if voice.loved_one else ""
        reasons = [
            f"Residential fits: nothing you've told us rules out {them}living on site for {weeks}",
            *notes,
        ]
    points = max(0, 100 - BARRIER_PENALTY * len(barriers) - penalty)
    return ProgramFit(not barriers, points, reasons, None)


def need_level(profile: VisitorProfile, facility: Facility) -> str:
    """The program the screening answers point to (severe withdrawal overrides the count)."""
    if profile.severe_withdrawal:
        return facility.need_rule.severe_withdrawal
    yes = sum(1 for key in SCREENING_KEYS if profile.screening.get(key) is True)
    return facility.need_rule.by_yes_count[yes]


def score(profile: VisitorProfile, facility: Facility) -> FitResult:
    """Score every program against the visitor's answers and pick a provisional recommendation."""
    voice = _Voice(profile.for_loved_one)
    usable = usable_time(profile)
    programs: dict[str, ProgramFit] = {}
    for program in facility.ordered():
        if program.live_on_site:
            programs[program.key] = _residential_fit(program, profile, facility, voice)
        else:
            programs[program.key] = _schedule_fit(program, usable, profile, voice)
    need = need_level(profile, facility)
    need_program = facility.programs[need]
    if programs[need].fits:
        return FitResult(need, need, "", programs)
    below = [
        p
        for p in facility.ordered()
        if p.intensity < need_program.intensity and programs[p.key].fits
    ]
    if below:
        pick = below[-1]
        note = (
            f"{in_full(need_program)} may be the right level of support, but it doesn't fit "
            f"{voice.poss} situation right now; {in_full(pick)} does. "
            "Admissions will talk through the options with you."
        )
        return FitResult(need, pick.key, note, programs)
    if usable.windows is None and need_program.live_on_site:
        note = (
            "Residential doesn't look possible right now, and we don't know "
            f"{voice.poss} schedule yet to check the other programs. "
            "Admissions will talk through the options with you."
        )
    elif usable.windows is None:
        note = (
            f"We don't know {voice.poss} schedule yet, so we can't match a program. "
            "Admissions will talk through the options with you."
        )
    else:
        note = (
            f"Nothing at the {need_program.short_name} level or below fits what you've told us "
            "so far. Admissions will talk through the options with you."
        )
    return FitResult(need, UNDETERMINED, note, programs)


def explain(result: FitResult, profile: VisitorProfile, facility: Facility) -> str:
    """A brief visitor-facing explanation (3–6 short lines); provisional, never clinical."""
    voice = _Voice(profile.for_loved_one)
    them = "them" if profile.for_loved_one else "you"
    need = facility.programs[result.need_level]
    lines: list[str] = []
    if result.recommended == result.need_level:
        lines.append(f"{in_full(need)} looks like a good fit for {them}.")
        lines.append(_sentence(result.programs[need.key].reasons[0]))
    elif result.recommended != UNDETERMINED:
        pick = facility.programs[result.recommended]
        lines.append(_sentence(result.note))
        lines.append(_sentence(result.programs[pick.key].reasons[0]))
    else:
        lines.append(_sentence(result.note))
        first = result.programs[need.key].reasons
        if first and "schedule yet" not in first[0]:
            lines.append(_sentence(first[0]))
    lines.append(
        "This is only a first look: the admissions team confirms the right program with you."
    )
    if profile.severe_withdrawal:
        lines.append("Please call admissions soon so they can help plan a safe start.")
    payment = _payment_line(profile, facility, voice)
    if payment:
        lines.append(payment)
    lines.append(f"You can reach admissions at {facility.admissions.phone}.")
    return "\n".join(lines)


def _payment_line(profile: VisitorProfile, facility: Facility, voice: _Voice) -> str | None:
    """One line on paying; never promises coverage."""
    payers = facility.payers
    if profile.payment is None:
        return f"Admissions will also go over how {voice.would} pay and check coverage."
    for kind, name, accepted in (
        ("medicaid", "Medicaid", payers.medicaid),
        ("medicare", "Medicare", payers.medicare),
    ):
        if profile.payment == kind and not accepted:
            return (
                f"{facility.name} doesn't take {name}; admissions can talk through other options."
            )
    if profile.payment == "insurance":
        if profile.payer and not payers.accepts(profile.payer):
            return f"Admissions will check whether {profile.payer} can be used here."
        return f"Admissions will check {voice.poss} benefits; nothing is promised until then."
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else f"{text}."


_PAYMENT_WORDS: dict[str, str] = {
    "insurance": "insurance",
    "medicaid": "Medicaid",
    "medicare": "Medicare",
    "self_pay": "self-pay",
    "no_insurance": "no insurance",
    "tight_money": "money is tight",
}
_SCREENING_WORDS: dict[str, str] = {
    "daily_use": "daily use",
    "withdrawal": "withdrawal",
    "relapse": "relapse",
    "home_unsafe": "home unsafe",
}


def _week(windows: dict[str, list[Window]]) -> str:
    groups: dict[tuple[Window, ...], list[str]] = {}
    for day in WEEKDAYS:
        spans = tuple(windows.get(day, []))
        if spans:
            groups.setdefault(spans, []).append(day)
    parts = [
        f"{day_list(days)} {', '.join(time_range(s, e) for s, e in spans)}"
        for spans, days in groups.items()
    ]
    return "; ".join(parts)


def summary_lines(profile: VisitorProfile) -> list[tuple[str, str]]:
    """The summary as (fact, line) pairs: each answer keeps its own line, found by its name."""
    lines = [
        ("visitor_role", f"Asking for: {'a loved one' if profile.for_loved_one else 'yourself'}")
    ]
    readiness = {"ready": "ready to start", "unsure": "unsure"}
    lines.append(
        ("readiness", f"Readiness: {readiness.get(profile.readiness or '', 'not discussed')}")
    )
    payment = _PAYMENT_WORDS.get(profile.payment or "", "not discussed")
    if profile.payer:
        payment = f"{payment} ({profile.payer})"
    lines.append(("payment", f"Payment: {payment}"))
    work = describe.work_school(profile.work_school) or "not discussed"
    lines.append(("work_school", f"Work/school: {work}"))
    if any(profile.busy.windows.values()):
        lines.append(("busy_schedule", f"Busy: {_week(profile.busy.windows)}"))
    if profile.can_take_leave:
        lines.append(("can_take_leave", "Can take leave from work/school: yes"))
    care = ", ".join(profile.caregiving) if profile.caregiving else "none mentioned"
    lines.append(("caregiving", f"Caregiving: {care}"))
    lines.append(("availability", f"Free time: {_free_words(profile) or 'not discussed'}"))
    if profile.screening:
        answers = [
            f"{_SCREENING_WORDS[k]} {'yes' if profile.screening[k] else 'no'}"
            for k in SCREENING_KEYS
            if k in profile.screening
        ]
        lines.append(("screening", f"Screening: {', '.join(answers)}"))
    if profile.severe_withdrawal:
        lines.append(("severe_withdrawal", "Severe withdrawal now or before: yes"))
    return lines


def summarize(profile: VisitorProfile) -> str:
    """Plain-text summary, one fact per line: read to the visitor, then kept for admissions."""
    return "\n".join(line for _, line in summary_lines(profile))


def read_back(profile: VisitorProfile) -> str:
    """The weekly picture in plain words, read back before scoring ("So you're free ...")."""
    said = _free_words(profile) or "at times I haven't understood yet"
    return f"So {_Voice(profile.for_loved_one).are} free {said}. Did I get that right?"


def _free_words(profile: VisitorProfile) -> str:
    """The free time and capacity in words ("weekdays 5–10 PM; up to 3 days a week"), or ""."""
    parts: list[str] = []
    if any(profile.free.windows.values()):
        parts.append(_week(profile.free.windows))
    if profile.free.max_days is not None:
        parts.append(f"up to {profile.free.max_days} days a week")
    if profile.free.max_hours is not None:
        parts.append(f"up to {profile.free.max_hours:g} hours a day")
    return "; ".join(parts)
