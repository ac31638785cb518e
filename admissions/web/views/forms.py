"""Parse and echo the query-string forms (filters, pages) of the staff pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from admissions.db.transcripts import PROGRAM_VALUES, ListFilters

YES_NO = {"yes": True, "no": False}
MAX_PAGE = 100_000
SINCE = ("closing", "all")  # conversations active since the line closed, or any date
SHORT = ("hide", "show")  # empty one- or two-turn chats
# Opening the list with no filters shows last night: since the line closed, empty chats
# hidden. Any other link or the form says what it wants (the form always sends both).
FILTER_KEYS = ("from", "to", "recommendation", "crisis", "callback", "complete", "reviewed", "code")


def page_number(query: Mapping[str, str]) -> int:
    """The ``page`` parameter, 1 when absent or nonsense."""
    try:
        page = int(query.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def local_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or None."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def day_start(day: date, tz: ZoneInfo) -> float:
    """Unix time of local midnight starting ``day``."""
    return datetime.combine(day, time(0, 0), tzinfo=tz).timestamp()


@dataclass
class ListForm:
    """The conversation list's filters as parsed, plus what to echo back into the form."""

    filters: ListFilters
    reviewed: bool | None
    page: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)

    def link(self, **changes: str | int) -> str:
        """Query string for the same filters with ``changes`` (e.g. another page)."""
        params = {k: v for k, v in self.values.items() if v}
        params.update({k: str(v) for k, v in changes.items()})
        return "?" + urlencode(params)

    def audit_detail(self) -> dict[str, str]:
        """The filters for the audit row (no free text but the reference code searched)."""
        return {k: v for k, v in self.values.items() if v}


def parse_list_form(
    query: Mapping[str, str], tz: ZoneInfo, closing: float | None = None
) -> ListForm:
    """Read the list filters; bad values are dropped with a message, never an error page.

    ``closing`` is when the admissions line last closed (unix seconds): ``since=closing``
    keeps conversations active since then.
    """
    errors: list[str] = []
    values: dict[str, str] = {}
    opened = not any(k in query for k in (*FILTER_KEYS, "since", "short"))
    since = query.get("since", "closing" if opened else "all").strip()
    values["since"] = since if since in SINCE else "all"
    short = query.get("short", "hide" if opened else "show").strip()
    values["short"] = short if short in SHORT else "show"
    started_from = started_before = None
    raw_from, raw_to = query.get("from", "").strip(), query.get("to", "").strip()
    if raw_from:
        day = local_date(raw_from)
        if day is None:
            errors.append("The start date should look like 2025-01-31.")
        else:
            started_from, values["from"] = day_start(day, tz), day.isoformat()
    if raw_to:
        day = local_date(raw_to)
        if day is None:
            errors.append("The end date should look like 2025-01-31.")
        else:
            started_before, values["to"] = day_start(day + timedelta(days=1), tz), day.isoformat()
    recommendation = query.get("recommendation", "").strip()
    if recommendation not in (*PROGRAM_VALUES, "none"):
        recommendation = ""
    values["recommendation"] = recommendation
    flags: dict[str, bool | None] = {}
    for name in ("crisis", "callback", "complete"):
        raw = query.get(name, "").strip()
        flags[name] = YES_NO.get(raw)
        values[name] = raw if raw in YES_NO else ""
    raw_reviewed = query.get("reviewed", "no" if "reviewed" not in query else "").strip()
    reviewed = YES_NO.get(raw_reviewed)
    values["reviewed"] = raw_reviewed if raw_reviewed in YES_NO else "any"
    code = "".join(ch for ch in query.get("code", "") if ch.isalnum() or ch == "-")[:20]
    values["code"] = code.upper()
    filters = ListFilters(
        started_from=started_from,
        started_before=started_before,
        recommendation=recommendation or None,
        crisis=flags["crisis"],
        callback=flags["callback"],
        complete=flags["complete"],
        reference_code=code or None,
        active_since=closing if values["since"] == "closing" else None,
        hide_short=values["short"] == "hide",
    )
    if code:
        # A reference-code search looks everywhere: the other filters would only hide it.
        filters = ListFilters(reference_code=code)
        reviewed = None
    return ListForm(
        filters=filters, reviewed=reviewed, page=page_number(query), values=values, errors=errors
    )
