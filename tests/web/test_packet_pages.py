"""The handoff packet in the staff app: at the top of the transcript and in the callback queue,
downloadable as JSON and as FHIR, for the admissions role only, every read audited; it leaves
with the conversation (retention, forget me) and never reaches the retraining inbox."""

from __future__ import annotations

import json
import logging
import re
import time

import jsonschema
import pytest
import sqlalchemy as sa
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from admissions.db.engine import create_engine
from admissions.db.models import PACKET_OUTBOX
from admissions.handoff import packet
from admissions.web import retention
from admissions.web.outbox import Outbox
from admissions.web.settings import WebhookSettings
from tests.web.conftest import REPO, audit_rows, last_audit_id
from tests.web.fixtures import write
from tests.web.packet_fixtures import DOB, LOVED_ONE, MEMBER_ID, TYPED, handoff_conversation

CID = "conv-packet"
SCHEMA = json.loads((REPO / "schemas" / "handoff-packet.v1.json").read_text())


@pytest.fixture
def chats(tracker):
    now = time.time()
    write(
        tracker,
        handoff_conversation(CID, now - 900),
        handoff_conversation("conv-mom", now - 600, LOVED_ONE, role="loved_one", code="M0M-22"),
    )


async def test_the_packet_heads_the_transcript_and_downloads_as_json_and_fhir(
    sign_in, chats, app_db
):
    ann = await sign_in("ann", "admissions")
    page = await (await ann.client.get(f"/staff/conversations/{CID}")).text()
    assert page.index("Handoff packet") < page.index(">Transcript<")
    for shown in (MEMBER_ID, "GRP-0042", f"{DOB} (age", "alcohol, opioids", "text message"):
        assert shown in page, shown
    assert "Past withdrawal seizures or DTs</dt><dd>yes" in page
    assert "CRM delivery: not queued" in page
    before = last_audit_id(app_db)
    got = await ann.client.get(f"/staff/conversations/{CID}/packet.json")
    assert got.status == 200
    assert got.headers["Content-Disposition"] == 'attachment; filename="packet-K7F-2Q.json"'
    record = json.loads(await got.text())
    jsonschema.validate(record, SCHEMA)
    assert record["insurance"]["member_id"] == MEMBER_ID
    got = await ann.client.get(f"/staff/conversations/{CID}/packet.fhir.json")
    assert got.status == 200 and got.content_type == "application/fhir+json"
    response = QuestionnaireResponse.parse_obj(json.loads(await got.text()))
    assert response.status == "completed"
    rows = audit_rows(app_db, before)
    assert [(r.action, r.conversation_id, r.result) for r in rows] == [
        ("packet_export", CID, "ok"),
        ("packet_export", CID, "ok"),
    ]
    assert [json.loads(r.detail)["format"] for r in rows] == ["json", "fhir"]


async def test_loved_one_packet_reads_in_words(sign_in, chats):
    ann = await sign_in("ann", "admissions")
    page = await (await ann.client.get("/staff/conversations/conv-mom")).text()
    for shown in ("a parent", "Keystone Health Plan", "school counselor", "Spanish"):
        assert shown in page, shown
    assert re.search(r"Group number</dt><dd class=\"muted\">skipped", page)


async def test_the_callback_queue_shows_each_packet(sign_in, chats, app_db):
    ann = await sign_in("ann", "admissions")
    before = last_audit_id(app_db)
    page = await (await ann.client.get("/staff/callbacks")).text()
    assert page.count("handoff packet</summary>") == 2
    assert MEMBER_ID in page and "KHP-99812" in page
    (row,) = audit_rows(app_db, before)
    assert json.loads(row.detail)["packets"] == 2


@pytest.mark.parametrize("role", ["trainer", "admin"])
async def test_only_the_admissions_role_reads_a_packet(role, sign_in, chats, app_db):
    other = await sign_in("otto", role)
    before = last_audit_id(app_db)
    for path in ("", "/packet.json", "/packet.fhir.json"):
        response = await other.client.get(f"/staff/conversations/{CID}{path}")
        assert response.status == 403
        assert MEMBER_ID not in await response.text()
    assert {(r.username, r.result) for r in audit_rows(app_db, before)} == {("otto", "denied")}


async def test_no_packet_no_download(sign_in, tracker):
    from tests.web.fixtures import Conversation

    write(tracker, Conversation("conv-plain").visitor("hi").fit("op"))
    ann = await sign_in("ann", "admissions")
    assert (await ann.client.get("/staff/conversations/conv-plain/packet.json")).status == 404
    page = await (await ann.client.get("/staff/conversations/conv-plain")).text()
    assert "Handoff packet" not in page


async def test_forget_me_and_retention_take_the_packet_and_its_outbox_row(
    settings, sign_in, tracker, app_db, chats
):
    tracker_db = create_engine(settings.tracker_db_url, foreign_keys=False)
    app = create_engine(settings.app_db_url)
    hook = WebhookSettings(url="http://127.0.0.1:9/hook", secret=b"s" * 32)
    try:
        assert await Outbox(tracker_db, app, hook, "HL", settle_seconds=0).scan() == 2
        with app_db.connect() as conn:
            assert len(conn.execute(sa.select(PACKET_OUTBOX)).all()) == 2
        write(tracker, handoff_conversation(CID, time.time()).slot("forget_requested", True))
        ann = await sign_in("ann", "admissions")
        assert (await ann.client.get(f"/staff/conversations/{CID}/packet.json")).status == 410
        result = await retention.purge(tracker_db, app, retention_days=90, actor="t", address=None)
        assert result.forgotten == [CID]
        with app_db.connect() as conn:
            left = conn.execute(sa.select(PACKET_OUTBOX.c.conversation_id)).scalars().all()
        assert left == ["conv-mom"]
        # retention: a conversation past RETENTION_DAYS goes with its packet
        result = await retention.purge(
            tracker_db, app, retention_days=1, actor="t", address=None, now=time.time() + 3 * 86400
        )
        assert "conv-mom" in result.expired
        with app_db.connect() as conn:
            assert conn.execute(sa.select(PACKET_OUTBOX)).all() == []
    finally:
        await tracker_db.dispose()
        await app.dispose()


async def test_answers_to_the_packet_questions_never_reach_the_retraining_inbox(sign_in, tracker):
    conv = handoff_conversation("conv-inbox", time.time() - 900)
    conv.visitor("how long is the waitlist", intent="ask_cost", confidence=0.41)
    write(tracker, conv)
    trainer = await sign_in("tina", "trainer")
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "how long is the waitlist" in body  # after the step, messages count again
    for _, _, typed in TYPED:
        assert typed not in body, typed
    assert MEMBER_ID not in body
    ann = await sign_in("ann", "admissions")
    page = await (await ann.client.get("/staff/conversations/conv-inbox")).text()
    ids = [int(i) for i in re.findall(r'id="e(\d+)"', page)]
    for eid in ids[1:3]:  # the two answers typed during the step
        flagged = await ann.post("/staff/conversations/conv-inbox/flag", {"event_id": str(eid)})
        assert flagged.status == 400
        assert "handoff packet" in await flagged.text()
    for eid in ids[1:3]:
        assert (await trainer.client.get(f"/staff/training/inbox/{eid}")).status == 404


def test_packet_ids_do_not_reveal_the_conversation():
    assert packet.packet_id(CID) == packet.packet_id(CID)
    assert CID not in packet.packet_id(CID) and len(packet.packet_id(CID)) == 36


async def test_the_packet_appears_in_no_log(aiohttp_client, app_factory, make_user, chats, caplog):
    from aiohttp.test_utils import TestServer

    from admissions.web.accesslog import AccessLogger
    from tests.web.conftest import login

    await make_user("karen", "admissions", "admin")
    caplog.set_level(logging.INFO)
    server = TestServer(app_factory())
    await server.start_server(access_log_class=AccessLogger)  # as ``python -m admissions.web``
    client = await aiohttp_client(server)
    await login(client, "karen")
    for url in (
        f"/staff/conversations/{CID}",
        f"/staff/conversations/{CID}/packet.json",
        f"/staff/conversations/{CID}/packet.fhir.json",
        "/staff/callbacks",
        "/staff/outbox",
        "/staff/audit",
    ):
        assert (await client.get(url)).status == 200, url
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(f"GET /staff/conversations/{CID}/packet.json" in line for line in lines)
    for line in lines:
        for value in (MEMBER_ID, DOB, "Jordan", "GRP-0042", "Keystone", "+14125550143"):
            assert value not in line, line
