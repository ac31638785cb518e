"""Recorded conversations (Rasa tracker JSON) load into a Rasa-format store and open in the app.

``fixtures/example_tracker.json`` is always checked; files that ``make`` records from a real
Rasa server into ``fixtures/recorded/`` are picked up automatically.
"""

from __future__ import annotations

import html as htmllib

import pytest

from admissions.web.templating import conversation_url
from tests.web.fixtures import EXAMPLE_TRACKER, load_recorded, recorded_files, write_conversation

FILES = [EXAMPLE_TRACKER, *recorded_files()]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
async def test_recorded_conversations_open(path, sign_in, tracker):
    conversations = load_recorded(path)
    assert conversations, path
    for sender_id, evts in conversations:
        write_conversation(tracker, sender_id, evts)
    staff = await sign_in("karen", "admissions")
    listing = await (await staff.client.get("/staff/conversations?reviewed=any")).text()
    for sender_id, evts in conversations:
        said = [e["text"] for e in evts if e.get("event") == "user" and e.get("text")]
        if not said or any(
            e.get("event") == "slot" and e.get("name") == "forget_requested" and e.get("value")
            for e in evts
        ):
            continue
        assert htmllib.escape(conversation_url(sender_id)) in listing
        for text in said:
            assert htmllib.escape(text) not in listing or len(text) < 4  # no bodies in the list
        page = htmllib.unescape(await (await staff.client.get(conversation_url(sender_id))).text())
        for text in said:
            assert text in page
        intents = [
            e["parse_data"]["intent"]["name"]
            for e in evts
            if e.get("event") == "user" and e.get("parse_data")
        ]
        for intent in intents:
            assert intent in page


def test_example_tracker_is_loadable():
    [(sender_id, evts)] = load_recorded(EXAMPLE_TRACKER)
    assert sender_id == "example-tracker-1"
    assert {e["event"] for e in evts} >= {"user", "bot", "slot", "action", "session_started"}
