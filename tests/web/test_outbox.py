"""The CRM webhook outbox against a real receiver on loopback: while it is down, answers 500,
or hangs past the timeout, nothing is lost; once it recovers every packet arrives exactly
once, in order of completion, signed, with the 42 CFR Part 2 notice, and each attempt is
audited as a disclosure. Real SQLite databases, a real HTTP server, no mocks."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from admissions.db.engine import create_engine
from admissions.db.models import PACKET_OUTBOX
from admissions.handoff import envelope, packet
from admissions.web.outbox import Outbox
from admissions.web.settings import WebhookSettings
from scripts.stack import free_port
from tests.web.conftest import REPO, audit_rows
from tests.web.crm_receiver import Receiver
from tests.web.fixtures import write
from tests.web.packet_fixtures import DOB, MEMBER_ID, handoff_conversation

SECRET = b"s" * 40


def webhook(receiver: Receiver, **changes: float) -> WebhookSettings:
    values = {
        "timeout_seconds": 0.4,
        "retry_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "interval_seconds": 0.05,
        "max_attempts": 200,
        **changes,
    }
    return WebhookSettings(url=receiver.url, secret=SECRET, **values)  # type: ignore[arg-type]


def status(app_db, index: int) -> str | None:
    found = rows(app_db)
    return found[index].status if len(found) > index else None


def rows(app_db) -> list:
    with app_db.connect() as conn:
        return list(conn.execute(sa.select(PACKET_OUTBOX).order_by(PACKET_OUTBOX.c.id)))


async def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


@pytest.fixture
async def engines(settings, tracker, app_db):
    tracker_db = create_engine(settings.tracker_db_url, foreign_keys=False)
    app = create_engine(settings.app_db_url)
    yield tracker_db, app
    await tracker_db.dispose()
    await app.dispose()


@pytest.fixture
def running() -> Callable[[Outbox], Awaitable[Callable[[], Awaitable[None]]]]:
    async def start(outbox: Outbox) -> Callable[[], Awaitable[None]]:
        stop = asyncio.Event()
        task = asyncio.create_task(outbox.run(stop))

        async def halt() -> None:
            stop.set()
            await task

        return halt

    return start


async def test_down_500_timeout_then_recovered_every_packet_exactly_once_in_order(
    tracker, app_db, engines, running, caplog, capsys
):
    caplog.set_level(logging.INFO)  # the level production logs at
    now = time.time()
    # written to the tracker out of order: completion order is c1, c2, c3
    c3 = handoff_conversation("conv-c3", now - 300, code="CCC-33")
    c1 = handoff_conversation("conv-c1", now - 900, code="AAA-11")
    c2 = handoff_conversation("conv-c2", now - 600, code="BBB-22")
    write(tracker, c3, c1, c2)
    order = [packet.packet_id(c) for c in ("conv-c1", "conv-c2", "conv-c3")]
    receiver = Receiver(SECRET)
    outbox = Outbox(*engines, webhook(receiver), "Harbor Light", settle_seconds=0)
    halt = await running(outbox)
    try:
        # 1. down: nobody listens on the port
        await until(lambda: any(r.attempts >= 3 for r in rows(app_db)))
        assert [r.packet_id for r in rows(app_db)] == order  # enqueued in order of completion
        assert {r.status for r in rows(app_db)} == {"pending"}
        # only the oldest is tried: later packets wait behind it
        assert [r.attempts > 0 for r in rows(app_db)] == [True, False, False]
        # 2. the receiver answers 500
        receiver.mode = "fail"
        await receiver.start()
        await until(lambda: len(receiver.requests) >= 3)
        # 3. it hangs past the sender's timeout
        receiver.mode = "hang"
        await until(lambda: sum(m == "hang" for _, m in receiver.requests) >= 2)
        assert receiver.stored == [] and {r.status for r in rows(app_db)} == {"pending"}
        # 4. it recovers
        receiver.mode = "ok"
        await until(lambda: {r.status for r in rows(app_db)} == {"delivered"})
        # a packet completed afterwards goes out after them
        write(tracker, handoff_conversation("conv-c4", time.time() - 300, code="DDD-44"))
        await until(lambda: len(receiver.stored) == 4)
        await asyncio.sleep(0.5)  # several more rounds: nothing is sent again
    finally:
        await halt()
        await receiver.stop()
    assert receiver.keys() == [*order, packet.packet_id("conv-c4")]
    assert receiver.duplicates == 0 and receiver.bad_signatures == 0
    assert [k for k, m in receiver.requests if m == "ok"] == receiver.keys()
    first = receiver.stored[0]
    assert first["notice"]["text"] == envelope.NOTICE_42_CFR_2_32
    assert first["packet"]["reference_code"] == "AAA-11"
    assert first["packet"]["insurance"]["member_id"] == MEMBER_ID
    # each attempt audited as a disclosure, the delivered ones once each
    disclosures = [r for r in audit_rows(app_db) if r.action == "disclosure"]
    delivered = [r for r in disclosures if r.result == "ok"]
    assert [r.conversation_id for r in delivered] == ["conv-c1", "conv-c2", "conv-c3", "conv-c4"]
    detail = json.loads(delivered[0].detail)
    assert detail["notice"] == "42 CFR 2.32(a)(1)"
    assert detail["recipient"] == receiver.url
    assert len(disclosures) - len(delivered) >= 6  # down, 500 and timeouts, each recorded
    failed = {json.loads(r.detail)["outcome"] for r in disclosures if r.result == "error"}
    assert {"HTTP 500", "timed out"} <= failed
    assert any(o.startswith("no answer") for o in failed)
    with capsys.disabled():  # the closing note's figures
        print(
            f"\noutbox: {len(receiver.keys())} packets delivered in order of completion after "
            f"{len(disclosures)} attempts ({len(disclosures) - len(delivered)} failed: down, 500, "
            f"timeouts); stored twice: {receiver.duplicates}; lost: "
            f"{4 - len(set(receiver.keys()))}; bad signatures: {receiver.bad_signatures}"
        )
    # the packet appears in no log
    for secret_value in (MEMBER_ID, DOB, "Jordan", "+14125550143", "Sam Test"):
        assert secret_value not in caplog.text


async def test_a_late_answer_is_retried_and_the_receiver_keeps_one_copy(
    tracker, app_db, engines, running
):
    write(tracker, handoff_conversation("conv-late", time.time() - 300))
    receiver = Receiver(SECRET, mode="late", hang_seconds=0.8)
    await receiver.start()
    halt = await running(Outbox(*engines, webhook(receiver), "HL", settle_seconds=0))
    try:
        await until(lambda: len(receiver.requests) >= 2)
        receiver.mode = "ok"
        await until(lambda: status(app_db, 0) == "delivered")
    finally:
        await halt()
        await receiver.stop()
    assert len(receiver.stored) == 1  # the same idempotency key every time
    assert receiver.duplicates >= 1


async def test_dead_letter_after_the_last_attempt_then_the_next_packet_goes(
    tracker, app_db, engines, running
):
    now = time.time()
    write(
        tracker,
        handoff_conversation("conv-d1", now - 600),
        handoff_conversation("conv-d2", now - 300),
    )
    receiver = Receiver(SECRET, mode="fail")
    await receiver.start()
    halt = await running(
        Outbox(*engines, webhook(receiver, max_attempts=3), "HL", settle_seconds=0)
    )
    try:
        await until(lambda: status(app_db, 0) == "dead")
        assert rows(app_db)[0].attempts == 3
        receiver.mode = "ok"
        await until(lambda: status(app_db, 1) == "delivered")
    finally:
        await halt()
        await receiver.stop()
    assert receiver.keys() == [packet.packet_id("conv-d2")]
    assert rows(app_db)[0].last_outcome == "HTTP 500"


async def test_forget_me_before_delivery_withdraws_or_never_enqueues(
    tracker, app_db, engines, running
):
    now = time.time()
    early = handoff_conversation("conv-f1", now - 600)
    early.slot("forget_requested", True)
    write(tracker, early, handoff_conversation("conv-f2", now - 300))
    receiver = Receiver(SECRET)
    await receiver.start()
    outbox = Outbox(*engines, webhook(receiver), "HL", settle_seconds=0)
    await outbox.scan()
    assert [r.conversation_id for r in rows(app_db)] == ["conv-f2"]  # never enqueued
    write(tracker, handoff_conversation("conv-f2", now).slot("forget_requested", True))
    halt = await running(outbox)
    try:
        await until(lambda: status(app_db, 0) == "withdrawn")
    finally:
        await halt()
        await receiver.stop()
    assert receiver.requests == []
    assert rows(app_db)[0].body is None


async def test_a_completion_still_settling_waits_for_an_earlier_one(tracker, app_db, engines):
    receiver = Receiver(SECRET)
    outbox = Outbox(*engines, webhook(receiver), "HL", settle_seconds=30)
    conv = handoff_conversation("conv-new", time.time() - 600, complete=False)
    conv.ts = time.time() - 10  # the step ends 10 seconds ago
    conv.slot("handoff_packet_complete", True)
    write(tracker, conv)
    assert await outbox.scan() == 0  # completed moments ago: a turn may still be written
    outbox.settle_seconds = 0
    assert await outbox.scan() == 1
    assert await outbox.scan() == 0  # once per conversation


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://crm.example.org/hooks/admissions", True),
        ("http://127.0.0.1:9000/hook", True),
        ("http://[::1]:9000/hook", True),
        ("http://localhost/hook", True),
        ("http://crm.example.org/hook", False),
        ("http://10.0.0.5/hook", False),
        ("ftp://crm.example.org/", False),
    ],
)
def test_the_receiver_must_be_https_except_on_loopback(url, ok):
    env = {"CRM_WEBHOOK_URL": url, "CRM_WEBHOOK_SECRET": "x" * 32}
    if ok:
        assert WebhookSettings.from_env(env).url == url
    else:
        with pytest.raises(ValueError, match="https"):
            WebhookSettings.from_env(env)


def test_a_short_secret_is_refused_and_never_shown(tmp_path):
    with pytest.raises(ValueError, match="at least 32"):
        WebhookSettings.from_env({"CRM_WEBHOOK_URL": "https://crm.example.org/h"})
    secret_file = tmp_path / "secret"
    secret_file.write_text("k" * 40 + "\n")
    read = WebhookSettings.from_env(
        {
            "CRM_WEBHOOK_URL": "https://crm.example.org/h",
            "CRM_WEBHOOK_SECRET_FILE": str(secret_file),
        }
    )
    assert read.secret == b"k" * 40 and "kkkk" not in repr(read)
    assert [read.retry_delay(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert read.retry_delay(30) == 3600.0


async def test_the_documented_example_receiver_accepts_what_the_app_sends(
    tracker, app_db, engines, monkeypatch
):
    doc = (REPO / "docs" / "crm-webhook.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.splitlines()) <= 25
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", SECRET.decode())
    namespace: dict = {}
    exec(code.replace("web.run_app(app, port=8443)", ""), namespace)  # the doc, as written
    port = free_port()
    runner = web.AppRunner(namespace["app"])
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    write(tracker, handoff_conversation("conv-doc", time.time() - 300))
    hook = WebhookSettings(url=f"http://127.0.0.1:{port}/admissions/packets", secret=SECRET)
    outbox = Outbox(*engines, hook, "HL", settle_seconds=0)
    await outbox.scan()
    try:
        async with aiohttp.ClientSession() as session:
            assert await outbox.deliver_one(session)
    finally:
        await runner.cleanup()
    assert rows(app_db)[0].status == "delivered"
    assert list(namespace["seen"]) == [packet.packet_id("conv-doc")]
