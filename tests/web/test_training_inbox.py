"""The NLU inbox and annotating: what shows up, de-duplication, decisions, personal details,
direct examples, flags from transcripts — through the real app and real SQLite databases."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from admissions.training import nludata
from tests.web.conftest import REPO, audit_rows, last_audit_id
from tests.web.fixtures import Conversation, write


@pytest.fixture
def data(training_sandbox: Path) -> Path:
    """A copy of the repo's training data for the app to write into."""
    shutil.copytree(REPO / "data", training_sandbox / "data")
    return training_sandbox / "data" / "nlu"


def fallback(
    conv: Conversation, text: str, guess: str = "ask_cost", conf: float = 0.31
) -> Conversation:
    conv.visitor(text, intent="nlu_fallback", confidence=0.45)
    conv.events[-2]["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": guess, "confidence": conf},
        {"name": "greet", "confidence": 0.1},
    ]
    return conv


@pytest.fixture
def chats(tracker):
    now = time.time()
    a = Conversation("conv-a", start=now - 7200)
    fallback(a, "does medicaid cover the evening thing")
    a.visitor("i drink every day", intent="inform_schedule", confidence=0.52)  # low
    a.visitor("hello", intent="greet", confidence=0.99)  # confident: not in the inbox
    a.visitor("/affirm", intent="affirm", confidence=0.2)  # a button payload: never
    b = Conversation("conv-b", start=now - 3600)
    fallback(b, "Does Medicaid cover the  evening thing?")  # same text, newer
    b.visitor(
        "my name is Jessica Smith, call me at 555-867-5309",
        intent="request_callback",
        confidence=0.41,
    )
    forgotten = Conversation("conv-forget", start=now - 1800)
    fallback(forgotten, "some private thing i said")
    forgotten.slot("forget_requested", True)
    for conv in (a, b, forgotten):
        write(tracker, conv)
    return {"a": a, "b": b}


def _event_ids(body: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/staff/training/inbox/(\d+)"', body)]


async def test_inbox_lists_unsure_messages_once_newest_first(sign_in, chats, app_db):
    trainer = await sign_in("tina", "trainer")
    before = last_audit_id(app_db)
    response = await trainer.client.get("/staff/training/inbox")
    body = await response.text()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Does Medicaid cover the  evening thing?" in body  # the newest occurrence
    assert body.count("cover the evening thing") == 0 and body.count("evening thing") == 1
    assert "2×" in body  # seen twice
    assert "i drink every day" in body and "(0.52)" in body
    assert "best guess: ask_cost (0.31)" in body
    assert "hello" not in body and "/affirm" not in body
    assert "some private thing" not in body  # visitor asked to be forgotten
    assert "personal details" in body  # the Jessica message is badged
    ids = _event_ids(body)
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert "/staff/training/conversations/conv-b?event=" in body
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result) for r in rows] == [("nlu_inbox", "ok")]
    assert "evening" not in (rows[0].detail or "")


async def test_threshold_is_configurable(sign_in, chats, monkeypatch):
    monkeypatch.setenv("NLU_INBOX_THRESHOLD", "0.5")
    trainer = await sign_in("tina", "trainer")
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "i drink every day" not in body  # 0.52 is not below 0.5
    assert "evening thing" in body  # fallbacks always


async def _item_url(trainer, text: str) -> str:
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    for match in re.finditer(
        r'<td><span class="pre">(.*?)</span>.*?href="(/staff/training/inbox/\d+)"', body, re.S
    ):
        if text in match.group(1):
            return match.group(2)
    raise AssertionError(f"{text!r} not in the inbox")


async def test_annotating_writes_the_example_and_empties_the_item(sign_in, chats, data, app_db):
    trainer = await sign_in("tina", "trainer")
    url = await _item_url(trainer, "evening thing")
    page = await trainer.client.get(url)
    text = await page.text()
    assert page.status == 200 and "ask_cost" in text and "Conversation" in text
    before_counts = nludata.intent_counts(data)
    before = last_audit_id(app_db)
    response = await trainer.post(
        url,
        {
            "action": "accept",
            "intent": "ask_cost",
            "text": "Does Medicaid cover the  evening thing?",
        },
    )
    assert response.status == 303 and response.headers["Location"].endswith("done=added")
    assert nludata.intent_counts(data)["ask_cost"] == before_counts["ask_cost"] + 1
    assert "    - Does Medicaid cover the evening thing?\n" in (data / "cost.yml").read_text()
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result, r.conversation_id) for r in rows] == [
        ("nlu_annotate", "ok", "conv-b")
    ]
    assert '"intent": "ask_cost"' in rows[0].detail and "Medicaid" not in rows[0].detail
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "evening thing" not in body.split("Recently done")[0]  # both occurrences done


async def test_personal_details_block_acceptance_until_replaced(sign_in, chats, data, app_db):
    # Staff who also read transcripts see the message as it was and replace details
    # themselves; trainers alone get it masked (test_training_privacy.py).
    trainer = await sign_in("tina", "trainer", "admissions")
    url = await _item_url(trainer, "Jessica")
    page = await (await trainer.client.get(url)).text()
    assert '<mark class="pii" title="name">Jessica Smith</mark>' in page
    assert '<mark class="pii" title="phone">555-867-5309</mark>' in page
    original = "my name is Jessica Smith, call me at 555-867-5309"
    snapshot = {p.name: p.read_bytes() for p in data.glob("*.yml")}
    before = last_audit_id(app_db)
    refused = await trainer.post(
        url, {"action": "accept", "intent": "request_callback", "text": original}
    )
    assert refused.status == 400
    assert "still contains a name and a phone number" in await refused.text()
    assert {p.name: p.read_bytes() for p in data.glob("*.yml")} == snapshot
    # a light edit that keeps the name is refused too
    still = await trainer.post(
        url,
        {"action": "accept", "intent": "request_callback", "text": "i am Jessica, please call me"},
    )
    assert still.status == 400
    redacted = await trainer.post(
        url, {"action": "redact", "intent": "request_callback", "text": original}
    )
    form = await redacted.text()
    assert redacted.status == 200
    assert "my name is NAME, call me at 555-0100</textarea>" in form
    accepted = await trainer.post(
        url,
        {
            "action": "accept",
            "intent": "request_callback",
            "text": "my name is NAME, call me at 555-0100",
        },
    )
    assert accepted.status == 303
    written = "".join(p.read_text() for p in data.glob("*.yml"))
    assert "- my name is NAME, call me at 555-0100\n" in written
    assert "Jessica" not in written and "867-5309" not in written
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result) for r in rows] == [
        ("nlu_annotate", "invalid"),
        ("nlu_annotate", "invalid"),
        ("nlu_annotate", "ok"),
        ("nlu_annotate", "ok"),
    ]
    assert all("Jessica" not in (r.detail or "") and "867" not in (r.detail or "") for r in rows)
    assert '"refused": "personal details"' in rows[0].detail


async def test_ignore_and_out_of_scope(sign_in, chats, data):
    trainer = await sign_in("tina", "trainer")
    url = await _item_url(trainer, "i drink every day")
    response = await trainer.post(url, {"action": "ignore"})
    assert response.status == 303
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "i drink every day" not in body.split("Recently done")[0]
    url = await _item_url(trainer, "evening thing")
    oos = await trainer.post(
        url,
        {
            "action": "accept",
            "intent": "out_of_scope",
            "text": "does medicaid cover the evening thing",
        },
    )
    assert oos.status == 303
    blocks = nludata.load_blocks(data)
    assert "does medicaid cover the evening thing" in [
        t for b in blocks if b.intent == "out_of_scope" for t in b.examples
    ]


async def test_held_out_sentences_are_refused(sign_in, chats, data):
    trainer = await sign_in("tina", "trainer")
    url = await _item_url(trainer, "evening thing")
    heldout = nludata.load_blocks(REPO / "tests" / "nlu")[0]
    response = await trainer.post(
        url, {"action": "accept", "intent": heldout.intent, "text": heldout.examples[0]}
    )
    assert response.status == 400 and "held-out test set" in await response.text()


async def test_adding_examples_directly(sign_in, data, app_db):
    trainer = await sign_in("tina", "trainer")
    page = await (await trainer.client.get("/staff/training/intents")).text()
    counts = nludata.intent_counts(data)
    assert "<td>ask_cost</td>" in page.replace(
        '<a href="/staff/training/intents?intent=ask_cost">ask_cost</a>', "ask_cost"
    )
    assert f"<td>{counts['ask_cost']}</td>" in page
    refused = await trainer.post(
        "/staff/training/examples",
        {"intent": "ask_cost", "examples": "is iop covered\nmy email is bob.k@gmail.com"},
    )
    assert refused.status == 400
    assert '<mark class="pii" title="email">bob.k@gmail.com</mark>' in await refused.text()
    assert nludata.intent_counts(data)["ask_cost"] == counts["ask_cost"]
    before = last_audit_id(app_db)
    ok = await trainer.post(
        "/staff/training/examples",
        {
            "intent": "ask_cost",
            "examples": "is iop covered by tricare\n\nwhat's the weekly price for php\n",
        },
    )
    assert ok.status == 303
    assert nludata.intent_counts(data)["ask_cost"] == counts["ask_cost"] + 2
    page = await (await trainer.client.get(ok.headers["Location"])).text()
    assert "Added 2 examples to ask_cost" in page and "is iop covered by tricare" in page
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result) for r in rows] == [("nlu_example_add", "ok")]
    assert '"added": 2' in rows[0].detail and "tricare" not in rows[0].detail


async def test_staff_flag_a_confident_message_from_the_transcript(sign_in, chats, app_db):
    admissions = await sign_in("ann", "admissions")
    transcript = await (await admissions.client.get("/staff/conversations/conv-a")).text()
    match = re.search(
        r'name="event_id" value="(\d+)">\s*<button[^>]*>Flag: misunderstood', transcript
    )
    assert match, "the transcript offers a flag button on visitor messages"
    hello_id = [int(i) for i in re.findall(r'id="e(\d+)"', transcript)][2]  # "hello" (0.99)
    before = last_audit_id(app_db)
    response = await admissions.post(
        "/staff/conversations/conv-a/flag", {"event_id": str(hello_id)}
    )
    assert response.status == 303 and response.headers["Location"].startswith(
        "/staff/conversations/conv-a"
    )
    wrong = await admissions.post("/staff/conversations/conv-b/flag", {"event_id": str(hello_id)})
    assert wrong.status == 404  # not a message of that conversation
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result, r.conversation_id) for r in rows] == [
        ("nlu_flag", "ok", "conv-a"),
        ("nlu_flag", "not_found", "conv-b"),
    ]
    trainer = await sign_in("tina", "trainer")
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    assert "hello" in body and "flagged by staff" in body


async def test_trainers_conversation_view_shows_nlu_and_no_callback_details(sign_in, tracker):
    write(
        tracker,
        Conversation("conv-c")
        .visitor("how much is it", intent="ask_cost", confidence=0.5)
        .bot("It depends on your insurance.")
        .callback(name="Sam Test", phone="(555) 555-0142"),
    )
    trainer = await sign_in("tina", "trainer")
    inbox = await (await trainer.client.get("/staff/training/inbox")).text()
    link = re.search(r'href="(/staff/training/conversations/conv-c\?event=\d+)#e\d+"', inbox)
    assert link, "the inbox links the message in its conversation"
    page = await trainer.client.get(link.group(1))
    body = await page.text()
    assert page.status == 200
    assert "how much is it" in body and "ask_cost (0.50)" in body
    assert "It depends on your insurance." in body
    assert "Sam Test" not in body and "555-0142" not in body
    assert "Annotate" in body


async def test_a_broken_data_file_is_named_not_a_bare_error(sign_in, data):
    """Someone hand-edited a data file and broke its indentation: the trainer is told which."""
    broken = data / "basics.yml"
    broken.write_text(broken.read_text() + "  - intent: goodbye\n    examples: |\n   - bye now\n")
    trainer = await sign_in("tina", "trainer")
    response = await trainer.client.get("/staff/training/intents")
    assert response.status == 500
    page = await response.text()
    assert "basics.yml is not valid YAML near line" in page
