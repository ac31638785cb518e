"""Text made from the visitor's data, at the edge: work and school in a few words.

The facts themselves stay data (``admissions.profile.WorkSchool``); the summary, the
"I've updated that" note and the fit explanation all word them here, the same way.
"""

from __future__ import annotations

from admissions.profile import Hours, WorkSchool
from admissions.wording import clock_24h_span, short_day_list

_STUDY_NAMES = {
    "full_time": "full-time student",
    "part_time": "part-time student",
    "student": "student",
}
_JOB_HEADS = {"works": "works", "full_time": "works full-time", "part_time": "works part-time"}
_TOD_NAMES = {
    "morning": "mornings",
    "afternoon": "afternoons",
    "evening": "evenings",
    "night": "nights",
    "weeknight": "weeknights",
    "daytime": "days",
    "lunch": "lunchtimes",
    "all_day": "all day",
    "anytime": "flexible hours",
    "after_work": "after work",
}
_SHIFT_NAMES = {
    "night": "night shifts",
    "evening": "evening shifts",
    "day": "day shifts",
    "rotating": "rotating shifts",
}


def _hours(blocks: tuple[Hours, ...]) -> list[str]:
    """Day and time labels ("Mon–Fri 9:00–17:00", "weekends", "nights")."""
    labels: list[str] = []
    for block in blocks:
        label = short_day_list(block.days) if block.days else ""
        times = " and ".join(_TOD_NAMES.get(n, n) for n in block.named) or ", ".join(
            clock_24h_span(s) for s in block.spans
        )
        label = f"{label} {times}".strip()
        if label and label not in labels:
            labels.append(label)
    return labels


def work_school(value: WorkSchool | None) -> str:
    """A short description: "works Mon–Fri 9:00–17:00", "full-time student", "none" ("" unsaid)."""
    if value is None:
        return ""
    if value.said is not None:
        return value.said
    if value.is_none():
        return "none"
    parts: list[str] = []
    if value.study is not None:
        parts.append(
            ", ".join([_STUDY_NAMES.get(value.study, "student"), *_hours(value.study_hours)])
        )
    if value.job is not None:
        shift_text = ""
        if value.shift is not None or value.shift_hours:
            shift_text = _SHIFT_NAMES.get(value.shift or "", "shifts")
            if value.shift_hours:
                shift_text = f"{value.shift_hours:g}-hour {shift_text}"
        head = _JOB_HEADS.get(value.job, "works")
        text = " ".join(p for p in (head, shift_text, ", ".join(_hours(value.job_hours))) if p)
        if value.days_per_week:
            text += f", {value.days_per_week:g} days a week"
        if value.on_leave:
            text += ", on leave"
        parts.append(text)
    return "; ".join(parts)
