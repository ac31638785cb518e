"""Near misses: a track that *almost* fits is worth one question before it is ruled out.

A kindergarten run 8:30–12:30 misses the IOP morning track (9 AM–1 PM) by half an hour; a
visitor free on two of the three days IOP needs misses it by a day. :func:`find_stretch`
finds the most intensive such track at or below the visitor's need level (and above what
already fits), within ``facility.near_miss`` (minutes and days). :meth:`Stretch.apply`
adds the stretched time to the visitor's free time when they say they could make it work,
so the fit is simply scored again.
"""

from __future__ import annotations

from dataclasses import dataclass

from admissions.facility import Facility, Program, Track
from admissions.fit import UNDETERMINED, Voice, score, usable_time
from admissions.profile import VisitorProfile, WeeklyPicture, Window, merge_windows
from admissions.wording import clock, day_list, time_range


@dataclass(frozen=True)
class Stretch:
    """Stretching the free time on ``days`` to hold ``session`` would make ``program`` fit."""

    program: str
    track: str
    days: tuple[str, ...]
    session: Window
    question: str

    def apply(self, free: WeeklyPicture) -> WeeklyPicture:
        """The free time with the session's hours added on the stretched days."""
        windows = {day: list(spans) for day, spans in free.windows.items()}
        for day in self.days:
            windows[day] = merge_windows([*windows.get(day, []), self.session])
        return WeeklyPicture(windows, free.max_days, free.max_hours)


def _shortfall(track: Track, windows: list[Window]) -> int | None:
    """Minutes the best overlapping window leaves of the session uncovered (None: no overlap)."""
    best: int | None = None
    for start, end in windows:
        if min(end, track.end) <= max(start, track.start):
            continue
        short = max(0, start - track.start) + max(0, track.end - end)
        best = short if best is None else min(best, short)
    return best


def _blocked(track: Track, busy: list[Window]) -> bool:
    return any(min(e, track.end) > max(s, track.start) for s, e in busy)


def _ask(
    program: Program,
    track: Track,
    days: tuple[str, ...],
    usable: dict[str, list[Window]],
    voice: Voice,
    more: bool,
) -> str:
    runs = f"The {program.name} {track.name} runs {time_range(track.start, track.end)} on "
    runs += f"{day_list(track.days)}."
    can = "Could they" if voice.loved_one else "Could you"
    if more:
        return f"{runs} {can} also make it on {day_list(days)}? Then it could fit."
    overlapping = [
        (s, e)
        for d in days
        for s, e in usable.get(d, [])
        if min(e, track.end) > max(s, track.start)
    ]
    if all(s <= track.start for s, _ in overlapping):
        when = f"until {clock(track.end)}"  # the session runs past the end of their free time
    elif all(e >= track.end for _, e in overlapping):
        when = f"from {clock(track.start)}"
    else:
        when = time_range(track.start, track.end)
    days_said = "on those days" if tuple(days) == tuple(track.days) else f"on {day_list(days)}"
    return f"{runs} {can} be free {when} {days_said}? Then it could fit."


def _track_stretch(
    program: Program,
    track: Track,
    usable: dict[str, list[Window]],
    profile: VisitorProfile,
    facility: Facility,
) -> tuple[tuple[str, ...], bool] | None:
    """The days to stretch for this track, and whether they are extra days (not more hours)."""
    needed = program.min_days_per_week
    if profile.free.max_days is not None and profile.free.max_days < needed:
        return None
    if profile.free.max_hours is not None and track.minutes > profile.free.max_hours * 60:
        return None
    full: list[str] = []
    near: list[str] = []
    for day in track.days:
        if _blocked(track, profile.busy.windows.get(day, [])):
            continue
        short = _shortfall(track, usable.get(day, []))
        if short == 0:
            full.append(day)
        elif short is not None and short <= facility.near_miss.minutes:
            near.append(day)
    if len(full) >= needed:
        return None
    if near and len(full) + len(near) >= needed:
        return tuple(near), False
    missing = needed - len(full)
    if full and 0 < missing <= facility.near_miss.days:
        spare = [
            d
            for d in track.days
            if d not in full and not _blocked(track, profile.busy.windows.get(d, []))
        ]
        if len(spare) >= missing:
            return tuple(spare[:missing]), True
    return None


def find_stretch(profile: VisitorProfile, facility: Facility) -> Stretch | None:
    """The most intensive near-miss track worth asking about, or None."""
    usable = usable_time(profile)
    if usable.windows is None or usable.assumed:
        return None
    result = score(profile, facility)
    need = facility.programs[result.need_level]
    floor = (
        facility.programs[result.recommended].intensity if result.recommended != UNDETERMINED else 0
    )
    voice = Voice(profile.for_loved_one)
    for program in reversed(facility.ordered()):
        if program.live_on_site or not floor < program.intensity <= need.intensity:
            continue
        for track in program.tracks:
            found = _track_stretch(program, track, usable.windows, profile, facility)
            if found is not None:
                days, more = found
                question = _ask(program, track, days, usable.windows, voice, more)
                return Stretch(program.key, track.id, days, (track.start, track.end), question)
    return None
