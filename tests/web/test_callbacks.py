"""The callback queue: name, phone, best time, consents, code, fit; status with who and when."""

from __future__ import annotations

import html as htmllib
import time

import pytest

from tests.web.fixtures import Conversation, write


@pytest.fixture
def requests(tracker):
    now = time.time()
    write(
        tracker,
        Conversation("cb-old", start=now - 8 * 3600)
        .visitor("call me")
        .fit("php", "Needs daytime care.")
        .callback(name="Ann Old", phone="(555) 555-0101", voicemail=True, text=True),
        Conversation("cb-new", start=now - 1 * 3600)
        .visitor("call me too")
        .callback(name="Ben New", phone="(555) 555-0102", voicemail=False),
        Conversation("cb-crisis", start=now - 30 * 60)
        .visitor("I'm scared", intent="crisis")
        .slot("crisis_detected", True)
        .callback(name="Cy Crisis", phone="(555) 555-0103"),
        Conversation("no-cb", start=now - 60).visitor("just browsing"),
    )
    write(tracker, Conversation("cb-old").slot("reference_code", "ACE-77"))


async def test_queue_lists_requests_with_contact_details(sign_in, requests):
    staff = await sign_in("karen", "admissions")
    page = htmllib.unescape(await (await staff.client.get("/staff/callbacks")).text())
    assert (
        page.index("Cy Crisis") < page.index("Ann Old") < page.index("Ben New")
    )  # crisis, then oldest
    assert "(555) 555-0101" in page and "after 6 pm" in page
    assert "yes / yes" in page and "no / no" in page  # voicemail / text consent
    assert "ACE-77" in page and "PHP" in page and "Needs daytime care." in page
    assert "just browsing" not in page and "no-cb" not in page


async def test_status_changes_record_who_and_when(sign_in, requests):
    staff = await sign_in("karen", "admissions")
    response = await staff.post(
        "/staff/callbacks/cb-old/status",
        {"status": "attempted", "back": "/staff/callbacks?status=open"},
    )
    assert response.status == 303 and response.headers["Location"] == "/staff/callbacks?status=open"
    await staff.post("/staff/callbacks/cb-old/status", {"status": "attempted"})
    page = await (await staff.client.get("/staff/callbacks")).text()
    assert "attempted (2 attempts)" in page and "karen," in page
    await staff.post("/staff/callbacks/cb-old/status", {"status": "closed"})
    open_page = await (await staff.client.get("/staff/callbacks")).text()
    assert "Ann Old" not in open_page
    closed = await (await staff.client.get("/staff/callbacks?status=closed")).text()
    assert "Ann Old" in closed
    transcript = await (await staff.client.get("/staff/conversations/cb-old")).text()
    assert "closed (karen," in transcript


async def test_bad_status_and_unknown_conversation(sign_in, requests):
    staff = await sign_in("karen", "admissions")
    assert (await staff.post("/staff/callbacks/cb-old/status", {"status": "lost"})).status == 400
    assert (await staff.post("/staff/callbacks/nobody/status", {"status": "closed"})).status == 404
    evil_back = await staff.post(
        "/staff/callbacks/cb-old/status", {"status": "new", "back": "https://evil.example/"}
    )
    assert evil_back.headers["Location"] == "/staff/"
