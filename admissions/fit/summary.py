"""What the visitor said, in plain words: the summary for admissions and the read-back."""

from __future__ import annotations

from admissions import describe
from admissions.fit.phrasing import Voice
from admissions.profile import SCREENING_KEYS, WEEKDAYS, VisitorProfile, Window
from admissions.wording import day_list, time_range

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
    return f"So {Voice(profile.for_loved_one).are} free {said}. Did I get that right?"


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
