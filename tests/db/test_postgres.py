"""The same queries, migrations and triggers on PostgreSQL (production's database).

Runs only when ``STAFF_TEST_POSTGRES_URL`` names an empty scratch database, e.g.
``postgresql://postgres@127.0.0.1:5432/staff_test``; every table it creates is dropped again.
"""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from admissions.db import audit, migrate, synthetic, transcripts
from admissions.db.engine import create_engine
from admissions.db.models import AUDIT_LOG
from admissions.db.summaries import SummaryIndex
from admissions.db.transcripts import ListFilters
from admissions.web import retention
from tests.web.fixtures import Conversation, create_tracker_store, write

URL = os.environ.get("STAFF_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set STAFF_TEST_POSTGRES_URL to run on PostgreSQL")


async def test_summaries_match_sqlite(pg, tmp_path):
    lite_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    lite = create_tracker_store(lite_url)
    create_tracker_store(URL).dispose()
    now = time.time()
    handmade = [
        Conversation("pg-1", start=now)
        .visitor("hi")
        .fit("iop")
        .callback()
        .slot("reference_code", "K7F-2Q"),
        Conversation("pg-2", start=now)
        .visitor("call")
        .slot("callback_requested", True)
        .slot("callback_requested", False),
        Conversation("pg-3", start=now).visitor("bye").slot("forget_requested", True),
    ]
    for engine in (lite, pg):
        with engine.begin() as conn:
            synthetic.seed(conn, 300, now=now, days=10, seed=5)
        write(engine, *handmade)
    results = []
    for url in (lite_url, URL):
        engine = create_engine(url)
        async with engine.connect() as conn:
            rows = await transcripts.list_conversations(conn, ListFilters())
            slots = await transcripts.latest_slots(conn, ["pg-1"], transcripts.CALLBACK_SLOTS)
            candidates = await transcripts.purge_candidates(conn, now - 5 * 86400)
            index = SummaryIndex(count_check_seconds=0)
            await index.refresh(conn)
            assert index.select(ListFilters()) == rows
        await engine.dispose()
        results.append((rows, slots, candidates))
    assert results[0] == results[1]
    rows = results[1][0]
    assert {r.conversation_id for r in rows if r.reference_code == "K7F-2Q"} == {"pg-1"}
    assert "pg-3" not in {r.conversation_id for r in rows}
    assert not next(r for r in rows if r.conversation_id == "pg-2").callback
    lite.dispose()


async def test_migrations_triggers_and_purge(pg):
    migrate.upgrade(URL)
    create_tracker_store(URL).dispose()
    write(
        pg,
        Conversation("old", start=time.time() - 400 * 86400).visitor("x"),
        Conversation("new").visitor("y"),
    )
    engine = create_engine(URL)
    await audit.write(engine, username="t", action="test", result="ok")
    from admissions.web.settings import Settings

    settings = Settings(tracker_db_url=URL, app_db_url=URL)
    result = await retention.run_job(engine, engine, settings, actor="t", address=None)
    await engine.dispose()
    assert result.expired == ["old"]
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with pg.begin() as conn:
            conn.execute(sa.update(AUDIT_LOG).values(result="x"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with pg.begin() as conn:
            conn.execute(sa.delete(AUDIT_LOG))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with pg.begin() as conn:
            conn.exec_driver_sql("TRUNCATE staff_audit_log")


async def test_simultaneous_wrong_passwords_are_counted_one_by_one(
    pg, aiohttp_client, tmp_path, monkeypatch
):
    """Issue 15 #1 on PostgreSQL: 40 wrong passwords at once, only 5 reach Argon2."""
    from collections import Counter

    from aiohttp import DummyCookieJar

    from admissions.db import staff
    from admissions.web import auth
    from admissions.web.main import init_app
    from admissions.web.settings import Settings
    from tests.web.conftest import REPO
    from tests.web.test_signin_throttle import CountingVerify, _race_logins

    settings = Settings(
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        app_db_url=URL,
        facility_file=REPO / "facility.yml",
        retention_interval_minutes=0,
    )
    create_tracker_store(settings.tracker_db_url).dispose()
    migrate.upgrade(URL)
    engine = create_engine(URL)
    async with engine.begin() as conn:
        await staff.create_user(
            conn, "karen", auth.hash_password("a long password 1"), ["admissions"]
        )
    await engine.dispose()
    client = await aiohttp_client(init_app(settings), cookie_jar=DummyCookieJar())
    counter = CountingVerify(auth._verify, pause=0.02)
    monkeypatch.setattr(auth, "_verify", counter)
    statuses = await _race_logins(client, ["karen"] * 40, "a wrong guess")
    assert Counter(statuses) == {401: 5, 429: 35}
    assert counter.calls == 5


async def test_an_oversized_id_is_still_audited(pg):
    """Issue 15 #10: an id longer than the column used to make the audit insert fail."""
    migrate.upgrade(URL)
    engine = create_engine(URL)
    try:
        await audit.write(
            engine,
            username="u" * 100,
            action="view",
            result="denied",
            conversation_id="c" * 7000,
            address="a" * 100,
        )
    finally:
        await engine.dispose()
    with pg.connect() as conn:
        row = conn.execute(sa.select(AUDIT_LOG)).one()
    assert len(row.conversation_id) == 255 and len(row.username) == 64
