"""The overnight list: crisis and callbacks first, no message text, filters, code search,
pagination, review filter; the in-memory index stays exactly in step with the SQL."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from admissions.db import synthetic, transcripts
from admissions.db.engine import create_engine
from admissions.db.summaries import SummaryIndex
from admissions.db.tracker import events
from admissions.db.transcripts import ListFilters
from tests.web.conftest import audit_rows
from tests.web.fixtures import Conversation, write

ROW_RE = re.compile(r'href="/staff/conversations/([^"]+)">Open')
DAY = 86400.0


def ids_in(html: str) -> list[str]:
    return ROW_RE.findall(html)


@pytest.fixture
def overnight(tracker):
    now = time.time()
    write(
        tracker,
        Conversation("plain-old", start=now - 5 * 3600).visitor("just looking at options"),
        Conversation("plain-new", start=now - 1 * 3600).visitor("what is IOP?").fit("iop"),
        Conversation("callback-1", start=now - 4 * 3600)
        .visitor("please call me, my name is Rosa")
        .fit("php")
        .callback(name="Rosa Diaz"),
        Conversation("crisis-1", start=now - 6 * 3600)
        .visitor("I want to end it all", intent="crisis")
        .slot("crisis_detected", True),
        Conversation("declined", start=now - 2 * 3600)
        .visitor("call me maybe")
        .slot("callback_requested", True)
        .slot("callback_requested", False),
        Conversation("forgotten", start=now - 3 * 3600)
        .visitor("forget me")
        .slot("forget_requested", True),
        Conversation("silent", start=now - 3 * 3600),  # opened the widget, said nothing
    )
    write(
        tracker,
        Conversation("coded", start=now - 10 * DAY).visitor("hi").slot("reference_code", "K7F-2Q"),
    )


async def test_crisis_then_callbacks_then_newest(sign_in, overnight):
    staff = await sign_in("karen", "admissions")
    # any date, short chats shown (opened without filters the list shows only last night)
    html = await (await staff.client.get("/staff/conversations?since=all&short=show")).text()
    assert ids_in(html) == ["crisis-1", "callback-1", "plain-new", "declined", "plain-old", "coded"]


async def test_list_shows_no_message_text(sign_in, overnight):
    staff = await sign_in("karen", "admissions")
    html = await (await staff.client.get("/staff/conversations?reviewed=any")).text()
    for text in ("just looking", "IOP?", "Rosa", "end it all", "call me maybe", "forget me"):
        assert text not in html
    assert "crisis</span>" in html and "callback</span>" in html


async def test_filters(sign_in, overnight):
    staff = await sign_in("karen", "admissions")

    async def ids(query: str) -> list[str]:
        return ids_in(await (await staff.client.get("/staff/conversations?" + query)).text())

    assert await ids("crisis=yes") == ["crisis-1"]
    assert await ids("callback=yes") == ["callback-1"]  # declined later: not a callback
    assert await ids("recommendation=iop") == ["plain-new"]
    assert await ids("recommendation=none&crisis=no") == ["declined", "plain-old", "coded"]
    assert await ids("complete=yes") == ["callback-1", "plain-new"]
    tz = ZoneInfo("America/New_York")  # facility.yml: dates are the facility's

    def day(days_ago: float) -> str:
        return datetime.fromtimestamp(time.time() - days_ago * DAY, tz).date().isoformat()

    recent = await ids(f"from={day(2)}&to={day(-1)}")
    assert "coded" not in recent and "crisis-1" in recent
    assert await ids(f"from={day(11)}&to={day(9)}") == ["coded"]
    bad = await staff.client.get("/staff/conversations?from=yesterday")
    assert "should look like" in await bad.text()


async def test_search_by_reference_code(sign_in, overnight, app_db):
    staff = await sign_in("karen", "admissions")
    for query in ("K7F-2Q", "k7f2q", " k7f-2q "):
        response = await staff.client.get(
            "/staff/conversations", params={"code": query, "crisis": "yes"}
        )
        assert ids_in(await response.text()) == ["coded"]
    rows = [r for r in audit_rows(app_db) if r.action == "search"]
    assert len(rows) == 3 and all(
        '"code": "K7F2Q"' in r.detail or "K7F-2Q" in r.detail for r in rows
    )
    nothing = await staff.client.get("/staff/conversations", params={"code": "ZZZ-99"})
    assert ids_in(await nothing.text()) == []


async def test_review_filter_and_mark(sign_in, overnight):
    staff = await sign_in("karen", "admissions")
    assert (
        await staff.post("/staff/conversations/plain-new/review", {"reviewed": "yes"})
    ).status == 303
    default = ids_in(await (await staff.client.get("/staff/conversations?since=all")).text())
    assert "plain-new" not in default and "crisis-1" in default
    reviewed = ids_in(await (await staff.client.get("/staff/conversations?reviewed=yes")).text())
    assert reviewed == ["plain-new"]
    everything = ids_in(await (await staff.client.get("/staff/conversations?reviewed=any")).text())
    assert "plain-new" in everything
    page = await (await staff.client.get("/staff/conversations/plain-new")).text()
    assert "by karen" in page
    await staff.post("/staff/conversations/plain-new/review", {"reviewed": "no"})
    unreviewed = await (await staff.client.get("/staff/conversations?since=all")).text()
    assert "plain-new" in ids_in(unreviewed)


async def test_pagination(sign_in, tracker, settings):
    with tracker.begin() as conn:
        synthetic.seed(conn, 130, now=time.time(), days=5, seed=7)
    staff = await sign_in("karen", "admissions")
    seen: list[str] = []
    page = 1
    while True:
        html = await (
            await staff.client.get(f"/staff/conversations?reviewed=any&page={page}")
        ).text()
        got = ids_in(html)
        if not got:
            break
        assert len(got) <= settings.page_size
        seen.extend(got)
        if 'rel="next"' not in html:
            break
        page += 1
    engine = create_engine(settings.tracker_db_url)
    async with engine.connect() as conn:
        expected = [
            s.conversation_id for s in await transcripts.list_conversations(conn, ListFilters())
        ]
    await engine.dispose()
    assert seen == expected
    assert page == 3


async def test_index_follows_new_events_and_deletions(tracker, settings):
    with tracker.begin() as conn:
        synthetic.seed(conn, 200, now=time.time(), days=3, seed=3)
    engine = create_engine(settings.tracker_db_url)
    index = SummaryIndex(count_check_seconds=0)

    async def check() -> None:
        async with engine.connect() as conn:
            await index.refresh(conn)
            direct = await transcripts.list_conversations(conn, ListFilters())
        assert index.select(ListFilters()) == direct

    await check()
    assert index.full_builds == 1
    # new conversation, and new events in an existing one (a late crisis)
    write(tracker, Conversation("late").visitor("hello"))
    some = index.select(ListFilters(crisis=False))[5].conversation_id
    write(
        tracker,
        Conversation(some).visitor("I can't go on", intent="crisis").slot("crisis_detected", True),
    )
    await check()
    assert index.full_builds == 1 and index.incremental_updates == 1
    assert some in {s.conversation_id for s in index.select(ListFilters(crisis=True))}
    # a forget-me request hides it, a deletion elsewhere forces a rebuild
    write(tracker, Conversation("late").slot("forget_requested", True))
    await check()
    assert "late" not in {s.conversation_id for s in index.select(ListFilters())}
    with tracker.begin() as conn:
        conn.execute(events.delete().where(events.c.sender_id == some))
    await check()
    assert index.full_builds == 2
    await engine.dispose()


async def test_empty_tracker_store(sign_in, settings, app_db, aiohttp_client, app_factory):
    # No events table at all: Rasa has not started yet.
    staff = await sign_in("karen", "admissions")
    with sa.create_engine(settings.tracker_db_url).begin() as conn:
        conn.exec_driver_sql("DROP TABLE events")
    fresh = await sign_in("karen2", "admissions")
    html = await (await fresh.client.get("/staff/conversations")).text()
    assert "no conversations yet" in html
    assert (await fresh.client.get("/staff/callbacks")).status == 200
    assert (await fresh.client.get("/staff/dashboard")).status == 200
    assert staff


async def test_list_audit_names_the_conversations_on_screen(sign_in, overnight, app_db):
    """Issue 15 #8: "who saw this conversation in a list?" is answerable from the audit log."""
    staff = await sign_in("karen", "admissions")
    html = await (await staff.client.get("/staff/conversations?crisis=yes")).text()
    assert ids_in(html) == ["crisis-1"]
    html = await (await staff.client.get("/staff/conversations")).text()
    shown = ids_in(html)
    rows = [r for r in audit_rows(app_db) if r.action == "list"]
    assert [json.loads(r.detail)["ids"] for r in rows] == [["crisis-1"], sorted(shown)]
