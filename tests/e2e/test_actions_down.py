"""With the action server stopped, a crisis message still gets the full crisis reply."""

from __future__ import annotations

import uuid

import pytest
from servers import Stack


@pytest.mark.parametrize(
    "message",
    [
        "i want to kill myself",
        "my brother took a bunch of pills and he won't wake up",
        "I think I'm overdosing",
    ],
)
def test_crisis_reply_without_action_server(no_actions: Stack, message: str) -> None:
    """911, 988, SAMHSA and the admissions line, first message, no custom action needed."""
    replies = no_actions.say(f"t-{uuid.uuid4().hex}", message)
    text = "\n".join(r.get("text", "") for r in replies)
    for needle in ("911", "988", "1-800-662-4357", "833-820-2922"):
        assert needle in text, f"{needle} missing from crisis reply to {message!r}"
