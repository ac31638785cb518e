"""The NLU inbox catches confident mistakes by what happened next in the conversation (re-asks,
"Change it" at the read-back, later corrections), says why each message is there, never takes
in answers to the callback form, and the annotate page never pre-selects the model's guess —
through the real app and real SQLite databases."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from admissions.training import inbox, intents, nludata, pii
from tests.web.conftest import REPO
from tests.web.fixtures import Conversation, write

SHAKES = "I get the shakes in the morning if I skip a day"
KINDERGARTEN = "whenever he's at kindergarten"
NINE_TO_FIVE = "i work 9 to 5 at the warehouse"


def loop(conv: Conversation, name: str | None) -> Conversation:
    conv.events.append({"event": "active_loop", "timestamp": conv._tick(), "name": name})
    return conv


def ask(conv: Conversation, slot: str, text: str, attempt: int) -> Conversation:
    """The form asks ``slot`` (attempt 1 = first time), as the ask actions record it."""
    conv.slot("requested_slot", slot)
    conv.slot("ask_counts", {slot: attempt})
    return conv.bot(text)


@pytest.fixture
def data(training_sandbox: Path) -> Path:
    shutil.copytree(REPO / "data", training_sandbox / "data")
    return training_sandbox / "data" / "nlu"


@pytest.fixture
def chats(tracker: Any) -> dict[str, Conversation]:
    now = time.time()
    # 1. a confident mistake the form had to re-ask
    reask = Conversation("conv-reask", start=now - 5000)
    loop(reask, "assessment_form")
    ask(reask, "screen_withdrawal", "When you stop or cut down, do you get withdrawal?", 1)
    reask.visitor(SHAKES, intent="ready_to_start", confidence=0.89)
    ask(reask, "screen_withdrawal", "Sorry, I didn't catch that. When you stop ...", 2)
    reask.visitor("/affirm", intent="affirm", confidence=1.0)
    reask.slot("screen_withdrawal", True)
    # 2. free time read back, visitor taps "Change it"
    readback = Conversation("conv-readback", start=now - 4000)
    loop(readback, "assessment_form")
    ask(readback, "availability", "When are you free during the week?", 1)
    readback.visitor(KINDERGARTEN, intent="inform_schedule", confidence=0.95)
    readback.slot("availability", {"mon": [[480, 720]]})
    readback.slot("requested_slot", "availability_confirmed")
    readback.bot(
        "So you're free Monday 8 AM to noon. Is that right?",
        buttons=[
            {"title": "Yes, that's right", "payload": "/affirm"},
            {"title": "Change it", "payload": "/deny"},
        ],
    )
    readback.visitor("/deny", intent="deny", confidence=1.0)
    readback.slot("availability", None)
    readback.slot("availability_confirmed", None)
    readback.slot("ask_counts", {"availability": 0})
    ask(readback, "availability", "When are you free during the week?", 1)
    # 3. a later message corrects an answer
    corrected = Conversation("conv-corrected", start=now - 3000)
    loop(corrected, "assessment_form")
    corrected.slot("assessment_started", True)
    ask(corrected, "work_school", "Do you work or go to school?", 1)
    corrected.visitor(NINE_TO_FIVE, intent="inform_work_school", confidence=0.97)
    corrected.slot("work_school", {"kind": "work", "days": "mon-fri", "from": 540, "to": 1020})
    ask(corrected, "caregiving", "Do you look after anyone?", 1)
    corrected.visitor("actually i work nights", intent="inform_work_school", confidence=0.96)
    corrected.slot("work_school", {"kind": "work", "days": "mon-fri", "from": 1320, "to": 360})
    corrected.slot("ask_counts", {"work_school": 1, "caregiving": 1})
    corrected.bot("Got it, I've updated that. Work/school: nights. Do you look after anyone?")
    # 4. a fallback, and a confident message nobody questioned
    plain = Conversation("conv-plain", start=now - 2000)
    plain.visitor("hello there", intent="greet", confidence=0.99)
    plain.bot("Hi! Who is the help for?")
    plain.visitor("wat abt the thing for evenings", intent="nlu_fallback", confidence=0.3)
    plain.action("utter_default")
    plain.bot("Sorry, I didn't quite get that. Could you say it another way?")
    # 5. the callback form: contact details, unsure or re-asked, never in the inbox
    callback = Conversation("conv-callback", start=now - 1000)
    loop(callback, "callback_form")
    ask(callback, "callback_name", "What name should we ask for?", 1)
    callback.visitor("it's Jessica", intent="inform", confidence=0.31)
    callback.slot("callback_name", "Jessica")
    ask(callback, "callback_phone", "What number should we call?", 1)
    callback.visitor("reach me at four one two five five five", intent="nlu_fallback")
    callback.bot("That doesn't look like a US phone number. Please type 10 digits.")
    ask(callback, "callback_phone", "What number should we call?", 2)
    callback.visitor("(412) 555-0143 best after 1pm", intent="inform", confidence=0.95)
    callback.slot("callback_phone", "(412) 555-0143")
    ask(callback, "callback_best_time", "When is a good time to call?", 1)
    callback.visitor("mornings i guess", intent="inform_schedule", confidence=0.35)
    loop(callback, None)
    callback.slot("requested_slot", None)
    callback.visitor("how much does it cost", intent="ask_cost", confidence=0.42)  # after it
    write(tracker, reask, readback, corrected, plain, callback)
    return {
        "reask": reask,
        "readback": readback,
        "corrected": corrected,
        "plain": plain,
        "callback": callback,
    }


def _rows(body: str) -> dict[str, str]:
    """Inbox rows: message text -> the row's HTML."""
    table = body.split("Recently done")[0]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        text = re.search(r'<span class="pre">(.*?)</span>', row, re.S)
        if text:
            out[text.group(1)] = row
    return out


async def test_confident_mistakes_reach_the_inbox_and_say_why(sign_in, chats):
    trainer = await sign_in("tina", "trainer")
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    rows = _rows(body)
    shakes = rows[SHAKES]
    assert "ready_to_start" in shakes and "(0.89)" in shakes
    assert '<span class="badge">asked again</span>' in shakes
    assert "had to ask the question again" in shakes
    kinder = rows[KINDERGARTEN.replace("'", "&#39;")]
    assert '<span class="badge">read back, then changed</span>' in kinder
    assert "Change it" in kinder
    nine = rows[NINE_TO_FIVE]
    assert '<span class="badge">corrected later</span>' in nine
    fallback = rows["wat abt the thing for evenings"]
    assert '<span class="badge">fallback</span>' in fallback
    assert "asked again" in fallback  # utter_default followed it
    # every row says why it is here
    assert all('<span class="badge">' in row for row in rows.values())
    # confident messages nobody questioned, the correction itself and button payloads stay out
    for absent in ("hello there", "actually i work nights", "/deny", "/affirm"):
        assert absent not in rows, absent
    # after the callback form, messages count again
    assert "how much does it cost" in rows


async def test_callback_form_answers_never_enter_the_inbox(sign_in, chats, tracker):
    both = await sign_in("bea", "trainer", "admissions")
    body = await (await both.client.get("/staff/training/inbox")).text()
    for private in ("Jessica", "four one two", "412", "0143", "mornings i guess"):
        assert private not in body, private
    # not even when a coordinator flags one of them
    transcript = await (await both.client.get("/staff/conversations/conv-callback")).text()
    ids = [int(i) for i in re.findall(r'id="e(\d+)"', transcript)]
    assert len(ids) == 5
    for eid in ids[:4]:
        flagged = await both.post("/staff/conversations/conv-callback/flag", {"event_id": str(eid)})
        assert flagged.status == 400
        assert "callback form" in await flagged.text()
    body = await (await both.client.get("/staff/training/inbox")).text()
    for private in ("Jessica", "four one two", "412", "0143", "mornings i guess"):
        assert private not in body, private
    # a trainer cannot open them by id either
    trainer = await sign_in("tina", "trainer")
    for eid in ids[:4]:
        assert (await trainer.client.get(f"/staff/training/inbox/{eid}")).status == 404
        page = await trainer.client.get(f"/staff/training/conversations/conv-callback?event={eid}")
        assert page.status == 404
    # the message after the form is in the inbox and opens
    assert (await trainer.client.get(f"/staff/training/inbox/{ids[4]}")).status == 200


async def test_a_re_asked_message_opens_for_a_trainer_masked(sign_in, chats):
    trainer = await sign_in("tina", "trainer")
    body = await (await trainer.client.get("/staff/training/inbox")).text()
    link = re.search(r'href="(/staff/training/conversations/conv-reask\?event=\d+)#e\d+"', body)
    assert link, "the re-asked message links its conversation"
    page = await trainer.client.get(link.group(1))
    assert page.status == 200 and SHAKES in await page.text()


async def test_annotate_never_preselects_the_guess(sign_in, tracker, data, app_db):
    conv = Conversation("conv-me", start=time.time() - 600)
    conv.bot("Who is the help for?")
    conv.visitor("for myself", intent="crisis", confidence=0.93)
    write(tracker, conv)
    ann = await sign_in("ann", "admissions")
    transcript = await (await ann.client.get("/staff/conversations/conv-me")).text()
    (eid,) = [int(i) for i in re.findall(r'id="e(\d+)"', transcript)]
    assert (await ann.post("/staff/conversations/conv-me/flag", {"event_id": str(eid)})).status
    trainer = await sign_in("tina", "trainer")
    page = await (await trainer.client.get(f"/staff/training/inbox/{eid}")).text()
    assert "crisis (0.93)" in page  # the guess is shown as information ...
    assert " checked" not in page and "selected" not in page  # ... never chosen
    assert '<span class="badge">flagged by staff</span>' in page
    # each intent with its description and two examples without personal details
    for g in intents.guide(data, REPO / "domain.yml"):
        assert f"<strong>{g.name}</strong> — {g.description}" in page.replace("&#39;", "'")
    assert "e.g. “i want to kill myself” · “i have a plan to end my life”" in page
    assert "“i want to start treatment”" in page
    # accepting without choosing is refused; nothing is written
    snapshot = {p.name: p.read_bytes() for p in data.glob("*.yml")}
    refused = await trainer.post(
        f"/staff/training/inbox/{eid}", {"action": "accept", "text": "for myself"}
    )
    assert refused.status == 400
    assert "Choose what the visitor meant" in await refused.text()
    assert {p.name: p.read_bytes() for p in data.glob("*.yml")} == snapshot
    # the trainer's own choice survives a round trip (e.g. after "Replace them for me")
    again = await trainer.post(
        f"/staff/training/inbox/{eid}",
        {"action": "redact", "text": "for myself", "intent": "ready_to_start"},
    )
    form = await again.text()
    assert re.search(r'value="ready_to_start" checked', form)
    assert form.count(" checked") == 1
    ok = await trainer.post(
        f"/staff/training/inbox/{eid}",
        {"action": "accept", "text": "for myself", "intent": "ready_to_start"},
    )
    assert ok.status == 303


def test_examples_shown_hold_no_personal_details() -> None:
    texts = [
        "my name is NAME, call me at 555-0100",
        "i'm Maria Lopez and i need help",
        "call me at 412-555-0143",
        "/ready_to_start",
        "i need help",
        "x" * 80,
        "i need help with my drinking, how do i start",
    ]
    assert intents.pick_examples(texts) == (
        "i need help",
        "i need help with my drinking, how do i start",
    )
    for g in intents.guide(REPO / "data" / "nlu", REPO / "domain.yml"):
        assert g.description != intents.NO_DESCRIPTION, g.name
        for example in g.examples:
            assert not pii.find(example), (g.name, example)
        assert len(g.examples) == (2 if g.count >= 2 else g.count), g.name


def test_callback_slots_match_the_domain() -> None:
    domain = yaml.safe_load((REPO / "domain.yml").read_text())
    assert set(domain["forms"]["callback_form"]["required_slots"]) == inbox.CALLBACK_SLOTS
    assert set(intents.DESCRIPTIONS) == set(nludata.trainable_intents(REPO / "domain.yml"))
