"""The callback queue: name, tap-to-call phone, best time, contact wishes in words, insurer,
code, fit; status with who and when, confirmed in place without the row moving."""

from __future__ import annotations

import html as htmllib
import json
import re
import time

import pytest

from admissions.web.views.callbacks import row_anchor
from tests.web.conftest import audit_rows
from tests.web.fixtures import Conversation, write


@pytest.fixture
def requests(tracker):
    now = time.time()
    write(
        tracker,
        Conversation("cb-old", start=now - 8 * 3600)
        .visitor("call me")
        .fit("php", "Needs daytime care.")
        .slot("payment", "insurance")
        .slot("payer", "Aetna")
        .callback(name="Ann Old", phone="(555) 555-0101", voicemail=True, text=True),
        Conversation("cb-new", start=now - 1 * 3600)
        .visitor("call me too")
        .slot("payment", "medicaid")
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
    assert '<a href="tel:+15555550101">(555) 555-0101</a>' in page  # tap to call
    # discreet-contact wishes in words, never "no / no"
    assert "Voicemail OK · texts OK" in page and "No voicemail · no texts" in page
    assert "no / no" not in page and "yes / yes" not in page
    assert ">Insurer</th>" in page
    assert '<td data-label="Insurer">Aetna</td>' in page
    assert '<td data-label="Insurer">Medicaid</td>' in page
    assert "ACE-77" in page and "PHP" in page and "Needs daytime care." in page
    assert "just browsing" not in page and "no-cb" not in page


def _row_order(page: str) -> list[str]:
    return re.findall(r'<tr id="(cb-[0-9a-f]+)"', page)


async def test_saving_confirms_and_the_row_stays_put(sign_in, requests):
    """Saving comes back to the same row, says it was saved, and no row changes place, even
    when the request was closed in the "open" view."""
    staff = await sign_in("karen", "admissions")
    before = _row_order(await (await staff.client.get("/staff/callbacks")).text())
    assert before == [row_anchor("cb-crisis"), row_anchor("cb-old"), row_anchor("cb-new")]
    for status in ("attempted", "closed"):
        response = await staff.post(
            "/staff/callbacks/cb-old/status",
            {"status": status, "back": "/staff/callbacks?status=open&page=1"},
        )
        anchor = row_anchor("cb-old")
        assert response.headers["Location"] == (
            f"/staff/callbacks?status=open&page=1&saved={anchor}#{anchor}"
        )
        page = await (await staff.client.get(response.headers["Location"])).text()
        assert _row_order(page) == before
        row = page[page.index(f'<tr id="{anchor}"') :]
        row = row[: row.index("</tr>")]
        assert 'class=" saved"' in row and f'role="status">Saved: {status}.' in row
    assert "It leaves this list next time it is loaded." in page
    # without the confirmation, the closed request has left the open list
    assert row_anchor("cb-old") not in _row_order(
        await (await staff.client.get("/staff/callbacks")).text()
    )


async def test_status_changes_record_who_and_when(sign_in, requests):
    staff = await sign_in("karen", "admissions")
    response = await staff.post(
        "/staff/callbacks/cb-old/status",
        {"status": "attempted", "back": "/staff/callbacks?status=open"},
    )
    assert response.status == 303
    assert response.headers["Location"].startswith("/staff/callbacks?status=open&saved=cb-")
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


async def test_a_note_per_attempt(sign_in, requests, app_db):
    """Each save can carry a note on that attempt: kept with the conversation's notes, the
    newest shown in the queue, the audit row saying a note was added (not what it says)."""
    staff = await sign_in("karen", "admissions")
    await staff.post(
        "/staff/callbacks/cb-new/status", {"status": "attempted", "note": "  no answer  "}
    )
    await staff.post(
        "/staff/callbacks/cb-new/status", {"status": "attempted", "note": "line busy, try 7 pm"}
    )
    page = htmllib.unescape(await (await staff.client.get("/staff/callbacks")).text())
    row = page[page.index(f'<tr id="{row_anchor("cb-new")}"') :]
    row = row[: row.index("</tr>")]
    assert "Callback attempted: line busy, try 7 pm" in row and "no answer" not in row
    assert "attempted (2 attempts)" in row
    transcript = htmllib.unescape(
        await (await staff.client.get("/staff/conversations/cb-new")).text()
    )
    assert "Callback attempted: no answer" in transcript
    assert "Callback attempted: line busy, try 7 pm" in transcript
    audit = [r for r in audit_rows(app_db) if r.action == "callback_status"]
    assert [json.loads(r.detail) for r in audit] == [
        {"status": "attempted", "note": True},
        {"status": "attempted", "note": True},
    ]
    assert "busy" not in " ".join(r.detail for r in audit)
    too_long = await staff.post(
        "/staff/callbacks/cb-new/status", {"status": "new", "note": "x" * 501}
    )
    assert too_long.status == 400


async def test_queue_audit_names_the_conversations_on_screen(sign_in, requests, app_db):
    """Issue 15 #8: "who saw this person's phone number?" is answerable from the audit log."""
    staff = await sign_in("karen", "admissions")
    page = await (await staff.client.get("/staff/callbacks")).text()
    assert "(555) 555-0103" in page
    rows = [r for r in audit_rows(app_db) if r.action == "callbacks_view"]
    assert len(rows) == 1
    assert json.loads(rows[0].detail)["ids"] == ["cb-crisis", "cb-new", "cb-old"]
