"""Whose time a schedule phrase is: the cue words of the schedule reader and how one is read.

A cue gives the days and times near it a polarity (see ``schedule_reader``): ``work`` ("I
work", "my shift", "classes"), ``free`` ("free", "available", "works for me"), ``unavailable``
("can't", "busy", "mondays don't work"), ``care`` ("I take care of my mom") or ``other``
(someone else's hours, ignored). Pure word lists and functions over lowercase tokens.
"""

from __future__ import annotations

import itertools

from admissions.understanding.text import words

WORK, FREE, UNAVAILABLE = "work", "free", "unavailable"
CARE = "care"  # hours spent caring for someone: busy, but a bare "at 3" is only a moment
OTHER = "other"  # someone else's hours ("my husband works nights"): ignored

_FREE_CUES = words(
    "free available availability avail open flexible off able prefer preferably best "
    "only ideally can could come attend fine ok okay good"
)
_WORK_CUES = words(
    "work works working workin worked wrk wrking job jobs shift shifts employed office "
    "commute internship gig duty"
)
_STUDY_CUES = {"class", "classes", "lectures", "lecture", "clinicals", "labs"}
_UNAVAILABLE_CUES = words(
    "busy unavailable booked occupied cannot bad hard tough impossible difficult"
)
_WORK_FREE_AFTER = {"for", "best", "well", "fine", "great", "ok", "okay", "better", "perfectly"}
_WORK_FREE_BEFORE = {"would", "could", "might", "that", "it", "this", "which", "should", "'d"}
_WORK_SKIP_BEFORE = {"off", "after", "before", "from", "of", "to"}
_NOT = {"not", "n't", "nt", "never", "no"}
_NEGATED_CAN = {"ca", "can", "could", "wo", "would"}
_GET = {"get", "gets", "got", "getting", "clock", "clocks"}

# work_status ids of studying, as ``WorkSchool.study`` values
STUDY_STATUS = {
    "full_time_student": "full_time",
    "part_time_student": "part_time",
    "student": "student",
}
JOB_STATUS = ("full_time", "part_time", "works")  # the more specific first


def cue_at(words: list[str], i: int) -> tuple[str, str] | None:
    """The polarity (and evidence kind) a word signals, or None."""
    word = words[i]
    prev = words[i - 1] if i > 0 else ""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if word in _NEGATED_CAN and nxt in {"n't", "nt", "not"}:
        return (UNAVAILABLE, "")
    if word in _UNAVAILABLE_CUES:
        return (UNAVAILABLE, "")
    if word in {"free", "available", "open", "able", "good"} and prev in _NOT:
        return (UNAVAILABLE, "")
    before_prev = words[i - 2] if i > 1 else ""
    if word in {"work", "works"} and prev in _NOT and before_prev in {"does", "do", "will", "wo"}:
        return (UNAVAILABLE, "")  # "wednesdays don't work"
    if word in {"work", "works"}:
        if nxt in _WORK_FREE_AFTER or prev in _WORK_FREE_BEFORE:
            if prev in {"n't", "nt", "not"}:
                return (UNAVAILABLE, "")
            return (FREE, "")
        if prev in _WORK_SKIP_BEFORE:
            return None
    if word in _WORK_CUES:
        return (WORK, "job")
    if word in _STUDY_CUES:
        return (WORK, "study")
    if word in _FREE_CUES:
        if word == "off" and prev in _GET and nxt not in {"work", "of"}:
            return None  # "I start at 7 and get off at 3:30": the end of the shift
        return (FREE, "")
    return None


def ends_shift(words: list[str]) -> bool:
    """Do these words say the end of a shift ("get off", "finish", "done")?"""
    return any(w in {"finish", "finishes", "done", "close", "closing"} for w in words) or any(
        a in _GET and b in {"off", "out"} for a, b in itertools.pairwise(words)
    )
