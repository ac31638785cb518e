"""Program fit: score a visitor's answers against the facility's programs (pure, deterministic).

The parts: ``scoring`` (usable time, tracks, need level, the pick and its reasons),
``explanation`` (the few lines the visitor reads), ``summary`` (what they said, read back and
kept for admissions), ``results`` (the data scoring returns) and ``phrasing`` (voice, program
names).

How it decides
--------------
* **Need level**: count the "yes" answers among the four screening questions and map the count
  through ``facility.need_rule``; a history of severe withdrawal sets the need to
  ``need_rule.severe_withdrawal`` (residential by default).
* **Usable time** per weekday is the stated free windows minus the busy (work/school) windows.
  With busy windows but no free windows we assume 7 AM–10 PM (``profile.ASSUMED_FREE_DAY``) is
  free outside them and say so.
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

from admissions.fit.explanation import explain
from admissions.fit.phrasing import Voice, in_full
from admissions.fit.results import UNDETERMINED, FitResult, ProgramFit, UsableTime
from admissions.fit.scoring import need_level, score, usable_time
from admissions.fit.summary import read_back, summarize, summary_lines

__all__ = [
    "UNDETERMINED",
    "FitResult",
    "ProgramFit",
    "UsableTime",
    "Voice",
    "explain",
    "in_full",
    "need_level",
    "read_back",
    "score",
    "summarize",
    "summary_lines",
    "usable_time",
]
