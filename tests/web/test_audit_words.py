"""The audit trail says in words what happened (no raw JSON) and its table reflows into cards
(labelled cells) at 200 % zoom — through the real app and real SQLite databases."""

from __future__ import annotations

import html
import json
import re

from admissions.web.audit_words import action_words, detail_words, result_words
from tests.web.fixtures import Conversation, write


def test_details_read_as_words() -> None:
    listed = {
        "filters": {"crisis": "yes", "since": "closing", "short": "hide", "reviewed": "no"},
        "page": 1,
        "results": 3,
        "ids": ["a", "b", "c"],
    }
    assert detail_words(json.dumps(listed)) == (
        "Filters: crisis yes, since the line closed, short chats hidden, not reviewed yet"
        " · page 1 · 3 results · 3 conversations on screen (ids kept in the stored row)"
    )
    annotate = {"event": 12, "decision": "accept", "intent": "ask_cost", "file": "cost.yml"}
    assert detail_words(json.dumps(annotate)) == (
        "Visitor message #12 · accepted as an example · intent ask_cost · file cost.yml"
    )
    assert detail_words('{"reviewed": false}') == "Review mark removed"
    assert detail_words('{"format": "csv", "conversations": 1}') == "As CSV · 1 conversation"
    # keys nobody taught it still read as words, never as JSON
    odd = detail_words('{"some_new_key": {"a": 1}, "flags": [1, 2], "dry": true}')
    assert odd == "Some new key: a 1 · flags: 1, 2 · dry: yes"
    assert detail_words(None) == detail_words("") == ""
    assert action_words("nlu_inbox") == "Opened the NLU inbox"
    assert action_words("brand_new_thing") == "Brand new thing"
    assert result_words("denied") == "refused: not allowed"


async def test_audit_page_shows_words_not_json(sign_in, tracker):
    write(tracker, Conversation("conv-1").visitor("hello").slot("reference_code", "K7F-2Q"))
    staff = await sign_in("karen", "admissions")
    await staff.client.get("/staff/conversations?crisis=no&reviewed=any")
    await staff.client.get("/staff/conversations/conv-1")
    await staff.post("/staff/conversations/conv-1/review", {"reviewed": "yes"})
    admin = await sign_in("ada", "admin")
    page = await (await admin.client.get("/staff/audit")).text()
    cells = [
        html.unescape(c) for c in re.findall(r'<td data-label="Details"[^>]*>(.*?)</td>', page)
    ]
    assert cells, "the audit table has a details column"
    assert not [c for c in cells if "{" in c or '"' in c], cells  # no JSON anywhere
    (listed,) = [c for c in cells if c.startswith("Filters: crisis no, ")]
    assert "reviewed or not" in listed and "any date" in listed
    assert "page 1" in listed and "· 1 result" in listed and "1 conversation on screen" in listed
    assert "Code K7F-2Q" in cells
    assert "Marked reviewed" in cells
    assert "Read a transcript" in page and "Changed a review mark" in page
    # every cell is labelled, so the rows read as cards once the table reflows
    assert '<table class="list audit reflow">' in page
    for label in ("Record", "Time", "User", "What", "Result", "Conversation", "Address"):
        assert f'data-label="{label}"' in page
