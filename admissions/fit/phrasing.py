"""How the fit speaks: second person, or third person for a loved one, and programs in full."""

from __future__ import annotations

from dataclasses import dataclass

from admissions.facility import Program


@dataclass(frozen=True)
class Voice:
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
