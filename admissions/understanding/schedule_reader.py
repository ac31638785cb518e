"""Work/school hours and free time from the schedule spans the entity ruler found.

A sentence is read left to right as a list of items: day sets, times, capacity statements
("3 days a week"), shifts, and cue words that say whose time it is:

* work: "I work", "my shift", "classes", a shift name, a work/school status;
* free: "free", "available", "off", "can", "works for me", "I don't work weekends";
* unavailable: "can't", "busy", "not available", "no good", "mondays don't work";
* care: "I take care of my mom in the mornings", "I watch my grandkids on tuesdays";
* someone else's: "my husband works nights", "my kids are in school until 3" (ignored).

Items group into segments, each one set of days with one set of times; a new segment starts
when days follow a completed days+times pair (or times follow one), after "and"/"or" between
times and days ("evenings and weekends"), or when the cue changes. Unavailable and care time
count as busy but are not described as work; a bare "at 3" in a care sentence is a moment,
not a window. A segment with no cue is free time (or what the visitor was asked about) unless
the sentence is about substance use ("I drink every day"), is only "every day"/"daily", or
reads as a story ("I sat with my kids all day"). See admissions/understanding/clock.py for how
times and days become windows.

One module per step, this one putting them together: ``schedule_cues`` (the cue words: whose
time it is), ``schedule_items`` (the items of a message), ``schedule_segments`` (items grouped
into segments) and ``schedule_spans`` (a segment's days and spans).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from admissions.profile import WEEKDAYS, Hours, WeeklyPicture, Window, WorkSchool
from admissions.understanding.clock import Span, add_windows, place
from admissions.understanding.schedule_cues import FREE, JOB_STATUS, STUDY_STATUS, UNAVAILABLE, WORK
from admissions.understanding.schedule_items import ItemReader
from admissions.understanding.schedule_segments import Segmenter
from admissions.understanding.schedule_spans import Built, SpanBuilder

if TYPE_CHECKING:
    from spacy.tokens import Doc


@dataclass
class ScheduleFacts:
    """Schedule findings of one message."""

    busy: WeeklyPicture | None = None
    free: WeeklyPicture | None = None
    work_school: WorkSchool | None = None


class _Reader(SpanBuilder, Segmenter, ItemReader):
    """Reads one parsed message: its items, their segments, then each segment's days and spans."""


def _hours(segments: list[Built]) -> tuple[Hours, ...]:
    """The days and times of work or school segments, as said (explicit parts only)."""
    blocks: list[Hours] = []
    for b in segments:
        days = tuple(b.days) if b.days_explicit else ()
        spans: tuple[Span, ...] = ()
        named: tuple[str, ...] = ()
        if b.times_explicit:
            named = tuple(b.tod_names)
            spans = () if named else tuple(b.spans)
        block = Hours(days, spans, named)
        if (days or spans or named) and block not in blocks:
            blocks.append(block)
    return tuple(blocks)


def _work_school(built: list[Built], statuses: list[str], none_status: bool) -> WorkSchool | None:
    """Work and school as data, or None when the message says nothing about them."""
    work = [b for b in built if b.polarity == WORK]
    study_status = next((STUDY_STATUS[s] for s in STUDY_STATUS if s in statuses), None)
    job_status = [s for s in statuses if s in JOB_STATUS]

    def is_study(b: Built) -> bool:
        if b.evidence:
            return "study" in b.evidence and "job" not in b.evidence
        return bool(study_status) and not job_status

    study = [b for b in work if is_study(b)]
    jobs = [b for b in work if not is_study(b)]
    if study_status is None and study:
        study_status = "student"
    shifts = [s for b in jobs for s in b.shifts]
    if not (job_status or jobs) and not study_status:
        return WorkSchool() if none_status else None
    job = next((s for s in JOB_STATUS if s in job_status), "works") if job_status or jobs else None
    hours = max((b.caps.get("hours_per_day", 0.0) for b in jobs), default=0.0)
    days_per_week = max((b.caps.get("days_per_week", 0.0) for b in jobs), default=0.0)
    return WorkSchool(
        job=job,
        study=study_status,
        shift=(shifts[0] if shifts else "") if (shifts or hours) and job else None,
        shift_hours=(hours or None) if job else None,
        days_per_week=(days_per_week or None) if job else None,
        job_hours=_hours(jobs) if job else (),
        study_hours=_hours(study) if study_status else (),
    )


def read_schedule(doc: Doc, asked_about: str | None = None) -> ScheduleFacts:
    """Busy hours, free time and a work/school description from a parsed message."""
    reader = _Reader(doc, asked_about)
    segments = reader.segments(reader.items())
    built: list[Built] = []
    work_end: int | None = None
    work_days: list[str] = []
    for seg in sorted(segments, key=lambda s: s.polarity != WORK):
        one = reader.build(seg, work_end, work_days)
        if one is None:
            continue
        built.append(one)
        if one.polarity == WORK and one.spans and one.days:
            ends = [e for _, e in one.spans if e <= 1440]
            if ends:
                work_end = max(ends + ([work_end] if work_end else []))
            work_days = sorted(set(work_days) | set(one.days), key=WEEKDAYS.index)
    facts = ScheduleFacts()
    for polarity_group, attr in (((WORK, UNAVAILABLE), "busy"), ((FREE,), "free")):
        group = [b for b in built if b.polarity in polarity_group]
        if not group:
            continue
        windows: dict[str, list[Window]] = {}
        for b in group:
            add_windows(windows, place(b.days, b.spans))
        days_cap = max((b.caps.get("days_per_week", 0.0) for b in group), default=0.0)
        hours_cap = max((b.caps.get("hours_per_day", 0.0) for b in group), default=0.0)
        picture = WeeklyPicture(
            windows=windows,
            max_days=int(days_cap) if days_cap else None,
            max_hours=float(hours_cap) if hours_cap else None,
        )
        if not picture.is_empty():
            setattr(facts, attr, picture)
    facts.work_school = _work_school(built, reader.statuses, reader.none_status)
    if facts.work_school is not None and facts.work_school.is_none() and facts.busy is None:
        facts.busy = WeeklyPicture()
    return facts
