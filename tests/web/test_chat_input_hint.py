"""A date question's native date field reaches the widget; nothing else of the payload does."""

from __future__ import annotations

from admissions.web.chat_rasa import history_from_tracker, replies_from_webhook

HINT = {
    "input": {"type": "date", "label": "Date of birth", "min": "1916-12-02", "max": "2026-12-03"}
}


def test_the_rest_channels_custom_item_becomes_the_questions_date_field() -> None:
    replies = replies_from_webhook(
        [
            {"recipient_id": "x", "text": "What's your date of birth?", "buttons": []},
            {"recipient_id": "x", "custom": {**HINT, "secret": "slot values"}},
        ]
    )
    assert replies == [{"from": "bot", "text": "What's your date of birth?", "buttons": [], **HINT}]


def test_the_history_keeps_the_date_field_and_drops_anything_else() -> None:
    bad = {"input": {"type": "text", "label": "x"}}
    events = [
        {"event": "bot", "text": "Date of birth?", "data": {"custom": HINT}},
        {"event": "bot", "text": "Anything?", "data": {"custom": bad}},
        {"event": "bot", "text": "Odd bounds", "data": {"custom": {"input": {
            "type": "date", "min": "<script>", "label": "L" * 99}}}},
    ]  # fmt: skip
    messages, _ = history_from_tracker({"events": events})
    assert messages[0]["input"] == HINT["input"]
    assert "input" not in messages[1]
    assert messages[2]["input"] == {"type": "date", "label": "L" * 60}
