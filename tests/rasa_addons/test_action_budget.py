"""Custom actions get a ≤5 s budget; a hung action server costs a turn one budget, not more."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, FollowupAction, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_addons import action_budget

ROOT = Path(__file__).resolve().parents[2]
action_budget.install()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def hung_server() -> Iterator[str]:
    """A server that accepts connections and never answers (a frozen action server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/webhook"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture(autouse=True)
def short_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("ACTION_WARM_UP", "no_such_action")  # no background warm-up here


def tracker_saying(text: str, domain: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker("budget", domain.slots)
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    return tracker


def test_budget_is_capped_at_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "300")
    assert action_budget.budget_seconds() == 5.0
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "not a number")
    assert action_budget.budget_seconds() == 5.0


def test_hung_action_server_costs_one_budget_per_turn(hung_server: str, domain: Domain) -> None:
    """First call waits out the budget; later calls in the same turn fail at once."""
    endpoint = EndpointConfig(hung_server)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    tracker = tracker_saying("hello", domain)

    async def call(t: DialogueStateTracker) -> float:
        started = time.monotonic()
        with pytest.raises(action_budget.ActionServerUnavailable):
            await RemoteAction("action_extract_facts", endpoint).run(
                CollectingOutputChannel(), nlg, t, domain
            )
        return time.monotonic() - started

    async def scenario() -> tuple[float, float, float]:
        first = await call(tracker)
        second = await call(tracker)
        next_turn = tracker_saying("hello again", domain)
        return first, second, await call(next_turn)

    first, second, next_turn = asyncio.run(scenario())
    assert 0.4 < first < 1.5
    assert second < 0.1
    assert 0.4 < next_turn < 1.5


def test_refused_connection_fails_at_once(domain: Domain) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)

    async def scenario() -> float:
        started = time.monotonic()
        with pytest.raises(action_budget.ActionServerUnavailable):
            await RemoteAction("action_handoff", endpoint).run(
                CollectingOutputChannel(), nlg, tracker_saying("hi", domain), domain
            )
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0


def test_fallback_reply_names_the_line_and_ends_the_turn() -> None:
    events = action_budget.fallback_events("action_handoff")
    bot, followup = events
    assert isinstance(bot, BotUttered) and "833-820-2922" in (bot.text or "")
    assert "try again" in (bot.text or "") and "988" in (bot.text or "")
    assert bot.data["buttons"][0]["payload"] == "tel:+18338202922"
    assert bot.metadata["fallback"] == "action_server"
    assert isinstance(followup, FollowupAction) and followup.action_name == ACTION_LISTEN_NAME


def test_install_is_idempotent_and_patches_rasa() -> None:
    import rasa.core.actions.action as action_module
    from rasa.core.processor import MessageProcessor

    run = RemoteAction.run
    action_budget.install()
    assert RemoteAction.run is run
    assert RemoteAction.run.__name__ == "budgeted_remote_run"
    assert MessageProcessor._run_action.__name__ == "run_action_with_fallback"
    assert action_module.DEFAULT_REQUEST_TIMEOUT <= 6
