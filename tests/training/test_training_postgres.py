"""The NLU inbox query and the retraining tables on PostgreSQL (production's database).

Runs only when ``STAFF_TEST_POSTGRES_URL`` names an empty scratch database (``make test-training``
starts one); every table it creates is dropped again.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from admissions.db import migrate
from admissions.db.engine import create_engine
from admissions.training import history, inbox
from tests.web.fixtures import Conversation, create_tracker_store, write

URL = os.environ.get("STAFF_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set STAFF_TEST_POSTGRES_URL to run on PostgreSQL")


async def test_inbox_and_history_on_postgres(pg):
    tracker = create_tracker_store(URL)
    conv = Conversation("pg-1")
    conv.visitor("does medicaid cover it", intent="nlu_fallback", confidence=0.45)
    conv.visitor("i drink every day", intent="inform_schedule", confidence=0.52)
    conv.visitor("hello", intent="greet", confidence=0.99)
    write(tracker, conv)
    gone = Conversation("pg-forget").visitor("private", intent="nlu_fallback", confidence=0.4)
    write(tracker, gone.slot("forget_requested", True))
    tracker.dispose()
    migrate.upgrade(URL)
    engine = create_engine(URL)
    try:
        async with engine.connect() as t, engine.connect() as a:
            items = await inbox.inbox(t, a, 0.6, 100)
        assert [i.text for i in items] == ["i drink every day", "does medicaid cover it"]
        async with engine.begin() as conn:
            hello = (
                await conn.execute(
                    sa.text("select id from events where type_name = 'user' and data like :t"),
                    {"t": '%"text": "hello"%'},
                )
            ).scalar_one()
            await inbox.flag(conn, hello, "pg-1", "ann")
            await inbox.record_decision(
                conn, text="I drink every day!", decision="ignore", by="tina", source="inbox"
            )
            run_id = await history.create_run(conn, "tina", True)
            await history.update_run(conn, run_id, status="running", steps=[{"name": "x"}])
        async with engine.connect() as t, engine.connect() as a:
            items = await inbox.inbox(t, a, 0.6, 100)
            runs = await history.active_runs(a)
        assert [i.text for i in items] == ["hello", "does medicaid cover it"]
        assert items[0].flagged
        assert [r.id for r in runs] == [run_id]
    finally:
        await engine.dispose()
