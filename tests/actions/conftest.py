"""Tracker fixtures for action tests: real rasa_sdk trackers, the real domain and facility."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The project's domain.yml as the action server receives it."""
    return dict(yaml.safe_load((ROOT / "domain.yml").read_text()))


@pytest.fixture()
def dispatcher() -> CollectingDispatcher:
    """Collects what an action says."""
    return CollectingDispatcher()


@pytest.fixture()
def make_tracker(domain: dict[str, Any]) -> Callable[..., Tracker]:
    """Build a tracker whose latest message is ``text`` with ``intent``, and given slots."""

    def make(
        text: str = "",
        intent: str = "inform_schedule",
        slots: dict[str, Any] | None = None,
        active_loop: str | None = None,
        ranking: list[dict[str, Any]] | None = None,
    ) -> Tracker:
        values = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
        values.update(slots or {})
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
            "entities": [],
        }
        return Tracker(
            sender_id="test",
            slots=values,
            latest_message=message,
            events=[{"event": "user", "text": text, "parse_data": message}],
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return make
