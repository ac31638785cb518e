"""The transcript page: the chat, NLU details per visitor message, slots, fit, notes; headers."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from yarl import URL

from admissions.web import security
from admissions.web.templating import path_segment
from tests.web.conftest import audit_rows
from tests.web.fixtures import Conversation, write

ENTITIES = [
    {"entity": "payer", "value": "Aetna", "start": 10, "end": 15, "extractor": "EntityRuler"}
]


@pytest.fixture
def chat(tracker):
    c = (
        Conversation("chat-1")
        .bot("Hi! What brings you here?", buttons=[{"title": "Get started", "payload": "/start"}])
        .visitor(
            "I have Aetna and work 9 to 5",
            intent="inform_payment",
            confidence=0.8734,
            entities=ENTITIES,
        )
        .bot("Thanks, admissions verifies benefits.")
        .fit("iop", "Works Mon-Fri 9-5.\nInsured: Aetna.")
        .callback(name="Rosa Diaz", phone="(555) 555-0199", voicemail=True, text=False)
    )
    c.action("action_handoff").slot("reference_code", "K7F-2Q")
    write(tracker, c)


async def test_shows_the_chat_with_nlu_details(sign_in, chat):
    staff = await sign_in("karen", "admissions")
    response = await staff.client.get("/staff/conversations/chat-1")
    assert response.status == 200
    page = htmllib.unescape(await response.text())
    assert (
        page.index("What brings you here?")
        < page.index("I have Aetna")
        < page.index("verifies benefits")
    )
    assert "inform_payment (0.87)" in page
    assert "payer=Aetna" in page and "[EntityRuler]" in page
    assert "Get started" in page  # the buttons the visitor saw
    assert "K7F-2Q" in page


async def test_shows_slots_fit_and_callback(sign_in, chat):
    staff = await sign_in("karen", "admissions")
    page = htmllib.unescape(await (await staff.client.get("/staff/conversations/chat-1")).text())
    assert "Need level: <strong>IOP</strong>" in page
    assert "the evening track fits work" in page and "clashes with work hours" in page
    assert "Works Mon-Fri 9-5.\nInsured: Aetna." in page
    assert "Rosa Diaz" in page and "(555) 555-0199" in page
    assert "recommended_program" in page and "callback_best_time" in page


async def test_notes(sign_in, chat, app_db):
    staff = await sign_in("karen", "admissions")
    response = await staff.post(
        "/staff/conversations/chat-1/notes", {"body": "Left a voicemail <b>9:05</b>"}
    )
    assert response.status == 303 and response.headers["Location"].endswith("#notes")
    page = await (await staff.client.get("/staff/conversations/chat-1")).text()
    assert "Left a voicemail &lt;b&gt;9:05&lt;/b&gt;" in page
    assert (await staff.post("/staff/conversations/chat-1/notes", {"body": "   "})).status == 400
    assert (await staff.post("/staff/conversations/nope/notes", {"body": "x"})).status == 404


async def test_security_headers(sign_in, chat):
    staff = await sign_in("karen", "admissions")
    response = await staff.client.get("/staff/conversations/chat-1")
    h = response.headers
    assert h["Content-Security-Policy"] == security.STAFF_CSP
    assert "script-src 'none'" in h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Cache-Control"] == "no-store"
    assert h["X-Frame-Options"] == "DENY"
    assert "aiohttp" not in h.get("Server", "")
    html = await response.text()
    assert "<script" not in html and " style=" not in html and "<style" not in html


async def test_headers_on_every_response(client):
    for path in ("/staff/login", "/staff/nothing-here", "/staff/static/app.css", "/staff/health"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


async def test_forgotten_conversation_is_not_shown(sign_in, tracker):
    write(
        tracker,
        Conversation("gone").visitor("delete everything please").slot("forget_requested", True),
    )
    staff = await sign_in("karen", "admissions")
    response = await staff.client.get("/staff/conversations/gone")
    assert response.status == 410
    assert "delete everything" not in await response.text()


@pytest.mark.parametrize(
    "sender_id", ["a/b", "x?y#z", "<script>alert(1)</script>", "ünï côdé", "..", ".", "%2F"]
)
async def test_odd_conversation_ids(sign_in, tracker, app_db, sender_id):
    write(tracker, Conversation(sender_id).visitor("hello from an odd id"))
    staff = await sign_in("karen", "admissions")
    listing = await (await staff.client.get("/staff/conversations?since=all&short=show")).text()
    link = path_segment(sender_id)
    assert f'href="/staff/conversations/{htmllib.escape(link)}"' in listing
    response = await staff.client.get(URL(f"/staff/conversations/{link}", encoded=True))
    assert response.status == 200, sender_id
    assert "hello from an odd id" in await response.text()
    assert audit_rows(app_db)[-1].conversation_id == sender_id


async def test_error_pages(sign_in):
    staff = await sign_in("karen", "admissions")
    missing = await staff.client.get("/staff/no-such-page")
    assert missing.status == 404 and "There is nothing here." in await missing.text()
    wrong_method = await staff.client.put("/staff/conversations")
    assert wrong_method.status in (403, 405)  # a PUT without a CSRF token is refused first
    get_only = await staff.post("/staff/dashboard")
    assert get_only.status == 405 and "GET" in get_only.headers["Allow"]


async def test_trainer_sees_no_transcript_links(sign_in):
    staff = await sign_in("tina", "trainer")
    home = await (await staff.client.get("/staff/")).text()
    assert "/staff/conversations" not in home and "Retraining" in home


@pytest.fixture
def tapped(tracker):
    """A conversation through the real widget: the greeting trigger, tapped buttons, a crisis."""
    c = Conversation("tapped-1")
    c.visitor("/greet", intent="greet", confidence=1.0)
    c.bot(
        "Hi! Who are you looking for help for?",
        buttons=[
            {"title": "I want help for myself", "payload": "/ready_to_start"},
            {"title": "I'm asking for someone I care about", "payload": "/ask_for_loved_one"},
        ],
    )
    c.visitor("/ready_to_start", intent="ready_to_start", confidence=1.0)
    c.bot("Are you safe right now?", buttons=[{"title": "Yes", "payload": "/affirm"}])
    c.visitor("I took all my pills", intent="crisis", confidence=0.99)
    c.slot("crisis_detected", True)
    c.events.append(
        {
            "event": "bot",
            "timestamp": c._tick(),
            "text": "Please call 911 now.",
            "metadata": {"utter_action": "utter_crisis_emergency"},
            "data": {"buttons": [{"title": "Call 911", "payload": "tel:911"}]},
        }
    )
    c.visitor("/request_human", intent="request_human", confidence=1.0)
    write(tracker, c)


async def test_tapped_buttons_show_their_titles_not_payloads(sign_in, tapped):
    staff = await sign_in("karen", "admissions")
    page = htmllib.unescape(await (await staff.client.get("/staff/conversations/tapped-1")).text())
    texts = re.findall(r'<p class="text">(.*?)</p>', page, re.S)
    assert '<span class="tapped">Tapped:</span> I want help for myself' in texts
    assert '<span class="tapped">Tapped:</span> Talk to a person' in texts
    assert not [t for t in texts if "/ready_to_start" in t or "/greet" in t]
    # the payload is still there for the people who need it, inside the details
    details = page[page.index("I want help for myself</p>") :]
    details = details[: details.index("</details>")]
    assert "<dt>payload</dt>" in details and "/ready_to_start" in details


async def test_crisis_messages_are_highlighted(sign_in, tapped):
    staff = await sign_in("karen", "admissions")
    page = await (await staff.client.get("/staff/conversations/tapped-1")).text()
    crisis = re.findall(r'<div class="bubble (visitor|assistant) crisis', page)
    assert crisis == ["visitor", "assistant"]
    assert page.count('<p class="crisis-label">Crisis message</p>') == 1
    assert page.count('<p class="crisis-label">Crisis reply</p>') == 1
    # crisis rows give the conversation's code (none was given in this one)
    assert page.count('<p class="crisis-code">no reference code given</p>') == 2
    assert page.index("Crisis message</p>") < page.index("I took all my pills")


@pytest.mark.parametrize(
    ("roles", "open_"), [(("admissions",), False), (("admissions", "trainer"), True)]
)
async def test_nlu_details_open_only_for_trainers_and_admins(sign_in, chat, roles, open_):
    staff = await sign_in("karen", *roles)
    page = await (await staff.client.get("/staff/conversations/chat-1")).text()
    toggles = re.findall(
        r"<details class=\"nlu-details\"( open)?>\s*<summary>Details</summary>", page
    )
    assert toggles == [" open" if open_ else ""]
    slots = re.search(r"<details( open)?>\s*<summary><h2 id=\"slots-h\"", page)
    assert slots and (slots.group(1) == " open") is open_
    assert "inform_payment (0.87)" in page  # inside the toggle, in the page either way


async def test_admin_sees_the_details_open(sign_in, chat):
    staff = await sign_in("ada", "admissions", "admin")
    page = await (await staff.client.get("/staff/conversations/chat-1")).text()
    assert '<details class="nlu-details" open>' in page


async def test_flag_misunderstood_confirms(sign_in, chat, tracker):
    staff = await sign_in("karen", "admissions")
    page = await (await staff.client.get("/staff/conversations/chat-1")).text()
    event_id = re.search(r'name="event_id" value="(\d+)"', page).group(1)
    response = await staff.post("/staff/conversations/chat-1/flag", {"event_id": event_id})
    assert response.status == 303
    after = await (await staff.client.get(response.headers["Location"])).text()
    assert 'role="status">Recorded: the message is in the retraining inbox.' in after
    assert "Flagged just now: sent to the retraining inbox" in after
    assert 'name="event_id"' not in after  # no second flag button for the same message
    later = await (await staff.client.get("/staff/conversations/chat-1")).text()
    assert "Flagged: in the retraining inbox" in later and "Recorded:" not in later


async def test_callback_panel_and_fit_in_words(sign_in, chat):
    staff = await sign_in("karen", "admissions")
    page = htmllib.unescape(await (await staff.client.get("/staff/conversations/chat-1")).text())
    assert '<a href="tel:+15555550199">(555) 555-0199</a>' in page
    assert "<strong>Voicemail OK · no texts</strong>" in page
    assert "Fits: the visitor is free for enough of a track's sessions each week." in page
    assert "covers about 20 % of what the best track needs each week" in page
    # the summary, the callback and the fit come before the transcript's messages in print
    assert page.index('id="summary-h"') < page.index('id="callback-h"') < page.index('id="fit-h"')


def test_a_stored_e164_number_reads_the_way_people_write_it() -> None:
    """The callback form stores +14125550143; staff read and tap "(412) 555-0143"."""
    from admissions.web.transcript import phone_words, tel_href

    assert phone_words("+14125550143") == "(412) 555-0143"
    assert tel_href("+14125550143") == "tel:+14125550143"
    assert phone_words("call my cell") == "call my cell"
