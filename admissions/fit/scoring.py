"""Score a visitor's answers against each program: usable time, tracks, need level, pick.

The rules are in ``admissions.fit`` (the package docstring). The reasons each program gets
are worded here, next to the check they explain.
"""

from __future__ import annotations

from dataclasses import dataclass

from admissions.facility import Facility, Program, Track
from admissions.fit.phrasing import Voice, in_full
from admissions.fit.results import UNDETERMINED, FitResult, ProgramFit, UsableTime
from admissions.profile import (
    ASSUMED_FREE_DAY,
    SCREENING_KEYS,
    WEEKDAYS,
    VisitorProfile,
    Window,
    subtract_windows,
)
from admissions.wording import clock, day_list, time_range

OUT_OF_POCKET: tuple[str, ...] = ("self_pay", "no_insurance", "tight_money")
BARRIER_PENALTY = 35
UNKNOWN_PAYMENT_PENALTY = 10


def _hours(minutes: float) -> str:
    value = minutes / 60
    return f"{value:g} hour" if value == 1 else f"{value:g} hours"


def _in_school(profile: VisitorProfile) -> bool:
    return profile.work_school is not None and profile.work_school.in_school_only()


def _has_obligations(profile: VisitorProfile) -> bool:
    stated = profile.work_school is not None and not profile.work_school.is_none()
    return stated or any(profile.busy.windows.get(d) for d in WEEKDAYS)


def usable_time(profile: VisitorProfile) -> UsableTime:
    """Free windows minus busy windows per weekday (assuming 7 AM–10 PM when only busy is known)."""
    free = {d: profile.free.windows.get(d, []) for d in WEEKDAYS}
    busy = {d: profile.busy.windows.get(d, []) for d in WEEKDAYS}
    if any(free.values()):
        return UsableTime({d: subtract_windows(free[d], busy[d]) for d in WEEKDAYS})
    if any(busy.values()):
        windows = {d: subtract_windows([ASSUMED_FREE_DAY], busy[d]) for d in WEEKDAYS}
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
        if start <= ASSUMED_FREE_DAY[0] and end >= ASSUMED_FREE_DAY[1]:
            return "all day"
        if end >= ASSUMED_FREE_DAY[1] and start >= 12 * 60:
            return f"after {clock(start)}"
        if start <= ASSUMED_FREE_DAY[0]:
            return f"until {clock(end)}"
        return time_range(start, end)
    return f"for the whole {time_range(check.track.start, check.track.end)} session"


def _busy_phrase(
    track: Track, blocked: list[str], profile: VisitorProfile, voice: Voice
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
    check: _TrackCheck, program: Program, profile: VisitorProfile, voice: Voice
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
    program: Program, usable: UsableTime, profile: VisitorProfile, voice: Voice
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
    program: Program, profile: VisitorProfile, facility: Facility, voice: Voice
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
    voice = Voice(profile.for_loved_one)
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
