"""Retention: old conversations and forget-me requests are deleted from the tracker store and
the app's tables, each deletion audited; everything else stays."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import sqlalchemy as sa

from admissions.db.engine import create_engine
from admissions.db.models import AUDIT_LOG, NOTES, REVIEWS
from admissions.db.tracker import events
from admissions.web import retention
from admissions.web.keys import SUMMARIES
from tests.web.conftest import audit_rows
from tests.web.fixtures import Conversation, write

DAY = 86400.0


@pytest.fixture
def aged(tracker):
    now = time.time()
    write(
        tracker,
        Conversation("old", start=now - 100 * DAY).visitor("from long ago"),
        Conversation("old-but-active", start=now - 100 * DAY).visitor("first visit"),
        Conversation("recent", start=now - 2 * DAY).visitor("last week"),
        Conversation("forget", start=now - 3600)
        .visitor("please forget me")
        .slot("forget_requested", True),
    )
    write(tracker, Conversation("old-but-active", start=now - 3600).visitor("back again"))


def senders(tracker) -> set[str]:
    with tracker.connect() as conn:
        return set(conn.execute(sa.select(events.c.sender_id).distinct()).scalars())


async def test_purge(settings, tracker, app_db, aged):
    with app_db.begin() as conn:
        conn.execute(
            NOTES.insert().values(
                conversation_id="old", author="k", created_at=sa.func.now(), body="n"
            )
        )
    tracker_db = create_engine(settings.tracker_db_url)
    app = create_engine(settings.app_db_url)
    try:
        dry = await retention.purge(
            tracker_db, app, retention_days=90, actor="t", address=None, dry_run=True
        )
        assert (dry.expired, dry.forgotten) == (["old"], ["forget"])
        assert senders(tracker) == {"old", "old-but-active", "recent", "forget"}
        result = await retention.run_job(tracker_db, app, settings, actor="tester", address="cli")
    finally:
        await tracker_db.dispose()
        await app.dispose()
    assert result.expired == ["old"] and result.forgotten == ["forget"]
    assert senders(tracker) == {"old-but-active", "recent"}
    with app_db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(NOTES)).scalar_one() == 0
    purges = [r for r in audit_rows(app_db) if r.action == "purge"]
    assert sorted(
        (r.conversation_id, json.loads(r.detail)["reason"], r.username) for r in purges
    ) == [
        ("forget", "forget_me", "tester"),
        ("old", "retention", "tester"),
    ]
    assert "from long ago" not in "".join(r.detail for r in purges)


async def test_admin_can_run_the_purge_and_see_runs(sign_in, aged, app_db, tracker):
    admin = await sign_in("ada", "admin")
    page = await (await admin.client.get("/staff/retention")).text()
    assert "1 past retention, 1 forget-me requests" in page
    response = await admin.post("/staff/retention/run")
    assert response.status == 303
    assert senders(tracker) == {"old-but-active", "recent"}
    page = await (await admin.client.get("/staff/retention")).text()
    assert "0 past retention, 0 forget-me requests" in page
    assert "<td>ok</td>" in page
    actions = [r.action for r in audit_rows(app_db)]
    assert actions.count("purge") == 2 and actions.count("retention_run") == 1


async def test_list_follows_a_purge_at_once(sign_in, aged):
    staff = await sign_in("ada", "admin", "admissions")
    before = await (await staff.client.get("/staff/conversations?reviewed=any")).text()
    assert "old-but-active" in before and 'conversations/old"' in before
    await staff.post("/staff/retention/run")
    after = await (await staff.client.get("/staff/conversations?reviewed=any")).text()
    assert 'conversations/old"' not in after and "old-but-active" in after


async def test_list_follows_a_purge_by_another_process(sign_in, aged):
    staff = await sign_in("karen", "admissions")
    admin = await sign_in("ada", "admin")  # its own app: like the CLI, another process
    assert (
        'conversations/old"'
        in await (await staff.client.get("/staff/conversations?reviewed=any")).text()
    )
    await admin.post("/staff/retention/run")
    staff.client.server.app[SUMMARIES].count_check_seconds = 0  # default: noticed within 5 s
    after = await (await staff.client.get("/staff/conversations?reviewed=any")).text()
    assert 'conversations/old"' not in after and "old-but-active" in after


async def test_audit_rows_cannot_be_changed_or_deleted(app_db, aged, settings):
    tracker_db = create_engine(settings.tracker_db_url)
    app = create_engine(settings.app_db_url)
    await retention.run_job(tracker_db, app, settings, actor="t", address=None)
    await tracker_db.dispose()
    await app.dispose()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with app_db.begin() as conn:
            conn.execute(sa.update(AUDIT_LOG).values(result="ok"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with app_db.begin() as conn:
            conn.execute(sa.delete(AUDIT_LOG))
    assert len(audit_rows(app_db)) == 2


async def test_scheduled_job_runs_in_the_app(
    aiohttp_client, settings, tracker, app_db, aged, monkeypatch
):
    from admissions.web.main import init_app
    from admissions.web.settings import Settings

    monkeypatch.setattr(retention, "FIRST_RUN_DELAY_SECONDS", 0.01)
    scheduled = Settings(**{**settings.__dict__, "retention_interval_minutes": 60})
    client = await aiohttp_client(init_app(scheduled))
    for _ in range(200):
        if "old" not in senders(tracker):
            break
        await asyncio.sleep(0.05)
    assert senders(tracker) == {"old-but-active", "recent"}
    assert {r.username for r in audit_rows(app_db) if r.action == "purge"} == {"system:scheduler"}
    assert client


async def test_reviews_go_with_the_conversation(sign_in, aged, app_db):
    staff = await sign_in("karen", "admissions")
    await staff.post("/staff/conversations/forget/review", {"reviewed": "yes"})  # 410: not markable
    await staff.post("/staff/conversations/old/review", {"reviewed": "yes"})
    with app_db.connect() as conn:
        assert conn.execute(sa.select(REVIEWS.c.conversation_id)).scalars().all() == ["old"]
    admin = await sign_in("ada", "admin")
    await admin.post("/staff/retention/run")
    with app_db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(REVIEWS)).scalar_one() == 0
