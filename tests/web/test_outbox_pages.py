"""The CRM deliveries page through the real app with its webhook configured: staff see each
packet's delivery status (never its content), an admin sends a dead-lettered packet again,
and the CRM then has it once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest
import sqlalchemy as sa

from admissions.db.models import PACKET_OUTBOX
from admissions.handoff import packet
from admissions.web.main import init_app
from admissions.web.settings import WebhookSettings
from tests.web.conftest import audit_rows
from tests.web.crm_receiver import Receiver
from tests.web.fixtures import write
from tests.web.packet_fixtures import MEMBER_ID, handoff_conversation

SECRET = b"r" * 48
CID = "conv-resend"


@pytest.fixture
def receiver() -> Receiver:
    return Receiver(SECRET, mode="fail")


@pytest.fixture
def app_factory(settings, tracker, app_db, receiver):
    hook = WebhookSettings(
        url=receiver.url,
        secret=SECRET,
        timeout_seconds=1.0,
        retry_seconds=0.05,
        retry_max_seconds=0.1,
        interval_seconds=0.05,
        max_attempts=2,
    )
    return lambda: init_app(dataclasses.replace(settings, webhook=hook))


def outbox_status(app_db) -> str | None:
    with app_db.connect() as conn:
        return conn.execute(
            sa.select(PACKET_OUTBOX.c.status).where(PACKET_OUTBOX.c.conversation_id == CID)
        ).scalar()


async def until(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def test_staff_see_the_status_and_an_admin_resends_a_dead_packet(
    sign_in, tracker, app_db, receiver
):
    write(tracker, handoff_conversation(CID, time.time() - 900))
    await receiver.start()
    try:
        ann = await sign_in("ann", "admissions")  # its app starts sending
        await until(lambda: outbox_status(app_db) == "dead")
        listing = await (await ann.client.get("/staff/outbox")).text()
        assert "dead" in listing and "HTTP 500" in listing and receiver.url in listing
        assert "Send again" not in listing  # only an admin resends
        transcript = await (await ann.client.get(f"/staff/conversations/{CID}")).text()
        assert "CRM delivery: dead after 2 attempts (HTTP 500)" in transcript
        refused = await ann.post(f"/staff/outbox/{CID}/resend")
        assert refused.status == 403
        admin = await sign_in("ada", "admin")
        listing = await (await admin.client.get("/staff/outbox")).text()
        assert "Send again" in listing
        assert MEMBER_ID not in listing and "Jordan" not in listing
        receiver.mode = "ok"
        resent = await admin.post(f"/staff/outbox/{CID}/resend")
        assert resent.status == 303
        await until(lambda: outbox_status(app_db) == "delivered")
        again = await admin.post(f"/staff/outbox/{CID}/resend")  # delivered: may go again
        assert again.status == 303
        await until(lambda: outbox_status(app_db) == "delivered" and len(receiver.requests) >= 4)
    finally:
        await receiver.stop()
    assert receiver.keys() == [packet.packet_id(CID)]  # stored once: same idempotency key
    resends = [r for r in audit_rows(app_db) if r.action == "packet_resend"]
    assert [(r.username, r.result) for r in resends] == [
        ("ann", "denied"),
        ("ada", "ok"),
        ("ada", "ok"),
    ]
    assert [json.loads(r.detail)["was"] for r in resends[1:]] == ["dead", "delivered"]
