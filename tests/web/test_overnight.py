"""Finding last night: the home page's counts (new since the line closed, crisis, callbacks
waiting), the list opening on "since the line closed" with empty chats hidden behind a visible
control, and crisis rows that give their code — through the real app and real SQLite."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from admissions.facility import load_facility
from admissions.hours import last_closing
from admissions.web.views import overnight
from tests.web.conftest import REPO
from tests.web.fixtures import Conversation, write

ROW_RE = re.compile(r'href="/staff/conversations/([^"]+)">Open')
# Tuesday 2026-12-01, 8:30 AM in New York; the line closed Monday at 8 PM (01:00 UTC).
NOW = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc).timestamp()
CLOSED = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc).timestamp()
HOUR = 3600.0


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


@pytest.mark.parametrize(
    ("now", "closed"),
    [
        ("2026-12-01T08:30:00-05:00", "2026-11-30T20:00:00-05:00"),  # Tuesday morning
        ("2026-12-01T21:15:00-05:00", "2026-12-01T20:00:00-05:00"),  # Tuesday after closing
        ("2026-12-01T19:59:00-05:00", "2026-11-30T20:00:00-05:00"),  # still open
        ("2026-12-07T08:05:00-05:00", "2026-12-05T17:00:00-05:00"),  # Monday: Saturday's
        ("2026-12-26T10:00:00-05:00", "2026-12-24T20:00:00-05:00"),  # after Christmas Day
    ],
)
def test_last_closing_follows_facility_hours(now: str, closed: str) -> None:
    facility = load_facility(REPO / "facility.yml")
    assert last_closing(facility, utc(now)) == utc(closed)


@pytest.fixture
def night(tracker, monkeypatch):
    monkeypatch.setattr(overnight, "now", lambda: NOW)
    write(
        tracker,
        Conversation("night-assessed", start=CLOSED + 2 * HOUR)
        .visitor("i work days and have two kids")
        .fit("iop"),
        Conversation("night-crisis", start=CLOSED + 3 * HOUR)
        .visitor("I want to end it all", intent="crisis")
        .slot("crisis_detected", True),
        Conversation("night-callback", start=CLOSED + 4 * HOUR)
        .visitor("please call me")
        .callback(name="Rosa Diaz")
        .slot("reference_code", "K7F-2Q"),
        Conversation("night-hi", start=CLOSED + 5 * HOUR).visitor("hi"),
        Conversation("night-two", start=CLOSED + 6 * HOUR).visitor("hello").visitor("ok bye"),
        # yesterday, while the line was open: not last night's
        Conversation("yesterday", start=CLOSED - 8 * HOUR)
        .visitor("what is iop")
        .visitor("how long is it")
        .visitor("thanks"),
        # two days ago: a crisis nobody has marked reviewed, and a callback still waiting
        Conversation("older-crisis", start=CLOSED - 30 * HOUR)
        .visitor("i took all my pills", intent="crisis")
        .slot("crisis_detected", True),
        Conversation("older-callback", start=CLOSED - 28 * HOUR)
        .visitor("call me tomorrow")
        .callback(name="Sam Test"),
    )


async def test_home_page_counts_last_night(sign_in, night):
    staff = await sign_in("karen", "admissions")
    page = await (await staff.client.get("/staff/")).text()
    assert "Since the line closed" in page and "Mon Nov 30, 08:00 PM" in page
    assert re.search(r'id="count-new">3<', page)  # the two short chats are not counted
    assert re.search(r'id="count-crisis">1<', page)
    assert re.search(r'id="count-callbacks">2<', page)
    assert "1 older crisis conversation not reviewed yet" in page
    # counts only: no message text, no names
    for private in ("end it all", "Rosa", "two kids", "pills"):
        assert private not in page
    # closing a callback takes it off the count; reviewing the older crisis clears its line
    closed = await staff.post("/staff/callbacks/older-callback/status", {"status": "closed"})
    assert closed.status == 303
    reviewed = await staff.post("/staff/conversations/older-crisis/review", {"reviewed": "yes"})
    assert reviewed.status == 303
    page = await (await staff.client.get("/staff/")).text()
    assert re.search(r'id="count-callbacks">1<', page)
    assert "older crisis" not in page


async def test_home_page_has_no_counts_for_trainers(sign_in, night):
    trainer = await sign_in("tina", "trainer")
    page = await (await trainer.client.get("/staff/")).text()
    assert "count-new" not in page and "Since the line closed" not in page


async def test_list_opens_on_last_night_with_short_chats_hidden(sign_in, night):
    staff = await sign_in("karen", "admissions")
    page = await (await staff.client.get("/staff/conversations")).text()
    assert ROW_RE.findall(page) == ["night-crisis", "night-callback", "night-assessed"]
    assert '<option value="closing" selected>since the line closed (Mon 08:00 PM)' in page
    assert '<option value="hide" selected>' in page
    assert "3 conversations since the line closed" in page
    link = re.search(r'<a href="(/staff/conversations\?[^"]+)" id="show-short">Show 2 short', page)
    assert link, "a visible control shows the hidden short chats"
    shown = await (await staff.client.get(link.group(1).replace("&amp;", "&"))).text()
    assert ROW_RE.findall(shown) == [
        "night-crisis",
        "night-callback",
        "night-two",
        "night-hi",
        "night-assessed",
    ]
    every = await (await staff.client.get("/staff/conversations?since=all&short=hide")).text()
    assert "yesterday" in ROW_RE.findall(every) and "older-crisis" in ROW_RE.findall(every)
    assert "night-hi" not in ROW_RE.findall(every)
    # still no message bodies in the list
    for text in ("end it all", "please call me", "hello", "ok bye", "what is iop", "Rosa"):
        assert text not in page and text not in shown and text not in every


async def test_crisis_rows_give_their_code(sign_in, night, tracker):
    write(
        tracker,
        Conversation("coded-crisis", start=CLOSED + HOUR)
        .visitor("i can't go on", intent="crisis")
        .slot("crisis_detected", True)
        .slot("reference_code", "Q4M-9Z"),
    )
    staff = await sign_in("karen", "admissions")
    listing = await (await staff.client.get("/staff/conversations")).text()
    assert re.search(
        r'<span class="badge crisis">crisis</span> <span class="crisis-code">code '
        r'<span class="nowrap">Q4M-9Z</span></span>',
        listing,
    )
    assert '<span class="crisis-code">no reference code given</span>' in listing
    transcript = await (await staff.client.get("/staff/conversations/coded-crisis")).text()
    assert (
        '<p class="crisis-label">Crisis message</p><p class="crisis-code">code '
        '<span class="nowrap">Q4M-9Z</span></p>'
    ) in transcript
    assert '(code <span class="nowrap">Q4M-9Z</span>)' in transcript  # the banner
