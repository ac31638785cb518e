"""The packet outbox on PostgreSQL (production's database): completions found through JSONB,
delivered in order of completion exactly once through a real receiver after it failed, each
disclosure audited, and the rows purged with their conversations.

Runs only when ``STAFF_TEST_POSTGRES_URL`` names an empty scratch database (``make test-app``
starts one); every table it creates is dropped again.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import sqlalchemy as sa

from admissions.db import migrate
from admissions.db.engine import create_engine
from admissions.db.models import AUDIT_LOG, PACKET_OUTBOX
from admissions.handoff import packet
from admissions.web import retention
from admissions.web.outbox import Outbox
from admissions.web.settings import WebhookSettings
from tests.web.crm_receiver import Receiver
from tests.web.fixtures import create_tracker_store, write
from tests.web.packet_fixtures import handoff_conversation

URL = os.environ.get("STAFF_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set STAFF_TEST_POSTGRES_URL to run on PostgreSQL")
SECRET = b"p" * 40


async def test_outbox_on_postgres(pg):
    migrate.upgrade(URL)
    tracker = create_tracker_store(URL)
    now = time.time()
    write(
        tracker,
        handoff_conversation("pg-b", now - 600),
        handoff_conversation("pg-a", now - 900),
        handoff_conversation("pg-c", now - 300),
    )
    tracker.dispose()
    receiver = Receiver(SECRET, mode="fail")
    await receiver.start()
    hook = WebhookSettings(
        url=receiver.url,
        secret=SECRET,
        timeout_seconds=1.0,
        retry_seconds=0.05,
        retry_max_seconds=0.1,
        interval_seconds=0.05,
    )
    tracker_db, app_db = create_engine(URL, foreign_keys=False), create_engine(URL)
    outbox = Outbox(tracker_db, app_db, hook, "HL", settle_seconds=0)
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.run(stop))

    def statuses() -> list[str]:
        with pg.connect() as conn:
            return list(
                conn.execute(
                    sa.select(PACKET_OUTBOX.c.status).order_by(PACKET_OUTBOX.c.id)
                ).scalars()
            )

    try:
        deadline = time.monotonic() + 20
        while len(receiver.requests) < 3:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        receiver.mode = "ok"
        while statuses() != ["delivered"] * 3:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await task
        await receiver.stop()
    assert receiver.keys() == [packet.packet_id(c) for c in ("pg-a", "pg-b", "pg-c")]
    assert receiver.duplicates == 0 and receiver.bad_signatures == 0
    with pg.connect() as conn:
        ok = conn.execute(
            sa.select(AUDIT_LOG.c.conversation_id).where(
                AUDIT_LOG.c.action == "disclosure", AUDIT_LOG.c.result == "ok"
            )
        ).scalars()
        assert list(ok) == ["pg-a", "pg-b", "pg-c"]
    result = await retention.purge(
        tracker_db, app_db, retention_days=1, actor="t", address=None, now=now + 3 * 86400
    )
    assert sorted(result.expired) == ["pg-a", "pg-b", "pg-c"]
    assert statuses() == []
    await tracker_db.dispose()
    await app_db.dispose()
