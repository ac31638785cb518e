"""What a trainer may read: inbox messages only, one at a time with the assistant's turns
around it and personal details masked; whole transcripts need the ``admissions`` role."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from tests.web.conftest import REPO, audit_rows, last_audit_id
from tests.web.fixtures import Conversation, write


@pytest.fixture
def chat(tracker):
    conv = (
        Conversation("conv-p", start=time.time() - 600)
        .bot("Hi, who is the help for?")
        .visitor("for me, I'm Maria Lopez", intent="inform_who", confidence=0.95)
        .bot("Thanks Maria. How do you plan to pay?")
        .visitor(
            "my dad Robert pays, call him at 555-867-5309", intent="inform_payment", confidence=0.4
        )
        .bot("Got it, Robert will pay. What about work?")
        .visitor("i work nights at the Shell on Elm Street", intent="inform_work", confidence=0.97)
        .bot("Thanks. Anything else?")
    )
    write(tracker, conv)
    return conv


async def _ids(client, cid: str = "conv-p") -> list[int]:
    """Visitor message ids of a conversation, as the admissions transcript shows them."""
    body = await (await client.get(f"/staff/conversations/{cid}")).text()
    return [int(i) for i in re.findall(r'id="e(\d+)"', body)]


async def test_a_trainer_sees_one_inbox_message_in_context_with_details_masked(
    sign_in, chat, app_db
):
    ann = await sign_in("ann", "admissions")
    _first, unsure, _last = await _ids(ann.client)
    trainer = await sign_in("tina", "trainer")
    inbox = await (await trainer.client.get("/staff/training/inbox")).text()
    link = f"/staff/training/conversations/conv-p?event={unsure}#e{unsure}"
    assert link in inbox
    before = last_audit_id(app_db)
    page = await trainer.client.get(link.split("#")[0])
    body = await page.text()
    assert page.status == 200
    # the message and the assistant's turn before and after it, masked
    assert "my dad NAME pays, call him at 555-0100" in body
    assert "Thanks NAME. How do you plan to pay?" in body
    assert "Got it, NAME will pay. What about work?" in body
    assert "inform_payment (0.40)" in body
    for private in ("Robert", "867-5309", "Maria", "Lopez", "Elm Street", "Shell", "who is"):
        assert private not in body, private
    assert "Full transcript" not in body
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result, r.conversation_id) for r in rows] == [
        ("nlu_conversation_view", "ok", "conv-p")
    ]
    assert '"view": "context"' in rows[0].detail


async def test_a_trainer_cannot_read_the_whole_transcript_or_other_messages(sign_in, chat, app_db):
    ann = await sign_in("ann", "admissions")
    first, unsure, last = await _ids(ann.client)
    trainer = await sign_in("tina", "trainer")
    whole = await trainer.client.get("/staff/training/conversations/conv-p")
    assert whole.status == 403
    assert "Maria" not in await whole.text()
    # a confident message is not in the inbox: not by the conversation view ...
    for eid in (first, last):
        other = await trainer.client.get(f"/staff/training/conversations/conv-p?event={eid}")
        assert other.status == 404
        # ... nor by the annotate page ...
        annotate = await trainer.client.get(f"/staff/training/inbox/{eid}")
        assert annotate.status == 404
        assert "Elm Street" not in await annotate.text()
        # ... nor by flagging it into the inbox
        flag = await trainer.post("/staff/conversations/conv-p/flag", {"event_id": str(eid)})
        assert flag.status == 403
    inbox = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "Elm Street" not in inbox and "Maria" not in inbox
    # the inbox message of another conversation does not open this one
    write_other = await trainer.client.get(
        f"/staff/training/conversations/conv-other?event={unsure}"
    )
    assert write_other.status == 404
    assert (await trainer.client.get("/staff/conversations/conv-p")).status == 403


async def test_a_flagged_message_opens_for_trainers_and_admissions_see_everything(sign_in, chat):
    ann = await sign_in("ann", "admissions")
    _first, _unsure, last = await _ids(ann.client)
    flagged = await ann.post("/staff/conversations/conv-p/flag", {"event_id": str(last)})
    assert flagged.status == 303
    trainer = await sign_in("tina", "trainer")
    page = await trainer.client.get(f"/staff/training/conversations/conv-p?event={last}")
    body = await page.text()
    assert page.status == 200
    assert "i work nights at the Shell on ADDRESS" in body and "Elm Street" not in body
    assert "Got it, NAME will pay. What about work?" in body
    assert "my dad" not in body  # the visitor's earlier message is not context
    both = await sign_in("bea", "trainer", "admissions")
    full = await (await both.client.get("/staff/training/conversations/conv-p")).text()
    assert "for me, I&#39;m Maria Lopez" in full and "555-867-5309" in full
    assert "Full transcript" in full


async def test_a_trainer_annotates_the_masked_message(sign_in, chat, training_sandbox, app_db):
    shutil.copytree(REPO / "data", training_sandbox / "data")
    ann = await sign_in("ann", "admissions")
    _first, unsure, _last = await _ids(ann.client)
    trainer = await sign_in("tina", "trainer")
    inbox = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "my dad NAME pays, call him at 555-0100" in inbox
    assert "Robert" not in inbox and "867-5309" not in inbox
    assert "personal details" in inbox  # still badged
    url = f"/staff/training/inbox/{unsure}"
    page = await (await trainer.client.get(url)).text()
    assert "Robert" not in page and "867-5309" not in page
    assert "my dad NAME pays, call him at 555-0100</textarea>" in page
    accepted = await trainer.post(
        url,
        {
            "action": "accept",
            "intent": "ask_cost",
            "text": "my dad NAME pays, call him at 555-0100",
        },
    )
    assert accepted.status == 303
    written = "".join(p.read_text() for p in (training_sandbox / "data" / "nlu").glob("*.yml"))
    assert "- my dad NAME pays, call him at 555-0100\n" in written
    assert "Robert" not in written


async def test_the_inbox_audit_row_names_the_conversations_shown(sign_in, chat, tracker, app_db):
    write(tracker, Conversation("conv-q").visitor("whats a php", "nlu_fallback", 0.3))
    trainer = await sign_in("tina", "trainer")
    before = last_audit_id(app_db)
    assert (await trainer.client.get("/staff/training/inbox")).status == 200
    (row,) = audit_rows(app_db, before)
    assert row.action == "nlu_inbox"
    assert json.loads(row.detail)["ids"] == ["conv-p", "conv-q"]
