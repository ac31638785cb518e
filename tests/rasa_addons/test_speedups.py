"""Rasa's hot spots done once: the same verdicts and the same classes as Rasa's own code.

Action server responses are validated as strictly as Rasa does (a malformed one is still
refused), and events are deserialised into the same classes, without the per-call cost.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from rasa_addons import action_budget, speedups

ROOT = Path(__file__).resolve().parents[2]
SPEC = RemoteAction.action_response_format_spec()
action_budget.install()
speedups.install()

USER = {
    "event": "user",
    "timestamp": 1.5,
    "text": "hi",
    "parse_data": {
        "intent": {"name": "greet", "confidence": 0.9},
        "entities": [{"entity": "payer", "value": "Aetna", "start": 0, "end": 5}],
        "intent_ranking": [{"name": "greet", "confidence": 0.9}],
    },
}
VALID: list[Any] = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "timestamp": None, "name": "payment", "value": "aetna"}]},
    {"events": [{"event": "slot", "name": "work_school", "value": {"days": 5}}]},
    {"events": [{"event": "active_loop", "name": "assessment_form"}, {"event": "followup"}]},
    {"events": [{"event": "bot", "text": "hi", "metadata": {"x": 1}}, USER]},
    {"events": [{"event": "action", "name": "utter_greet", "policy": None, "confidence": 1}]},
    {"events": [{"event": "entities", "entities": []}, {"event": "reset_slots"}]},
    {"responses": [{"text": "hello", "buttons": []}, {}]},
    {"events": [{"event": "session_started", "timestamp": 3}], "extra": "allowed"},
]
MALFORMED: list[Any] = [
    [],
    "events",
    None,
    {"events": {}},
    {"events": "slot"},
    {"events": [None]},
    {"events": [[]]},
    {"events": [{}]},
    {"events": [{"name": "payment", "value": 1}]},  # no "event"
    {"events": [{"event": 3}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "name": "payment"}]},  # no value
    {"events": [{"event": "slot", "value": 1}]},  # no name
    {"events": [{"event": "slot", "name": 7, "value": 1}]},
    {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "now"}]},
    {"events": [{"event": "bot", "metadata": "not an object"}]},
    {"events": [{"event": "action", "name": "x", "hide_rule_turn": "yes"}]},
    {"events": [{"event": "entities"}]},
    {"events": [{"event": "entities", "entities": [{"entity": "x"}]}]},
    {"events": [{**USER, "parse_data": {"intent": {"confidence": "high"}}}]},
    {"events": [{**USER, "text": 5}]},
    {"events": [{"event": "followup"}, {"event": "slot"}]},  # the second one is bad
    {"responses": {}},
    {"responses": ["hello"]},
    {"responses": [{"text": "hello"}, None]},
]


def verdict(check: Any, response: Any) -> bool:
    try:
        check(response)
    except jsonschema.ValidationError:
        return False
    return True


@pytest.mark.parametrize("response", VALID + MALFORMED)
def test_same_verdict_as_jsonschema_validate(response: Any) -> None:
    """Whatever Rasa's own ``jsonschema.validate`` accepts or refuses, the fast check does too."""
    check = speedups.build_checker(SPEC)
    expected = verdict(lambda r: jsonschema.validate(r, SPEC), response)
    assert verdict(check, response) is expected
    assert expected is (response in VALID)  # the cases are what they say they are


def test_an_unexpected_schema_is_validated_whole() -> None:
    """If Rasa's schema changes shape, the check falls back to the whole schema (still strict)."""
    spec = copy.deepcopy(SPEC)
    branch = {"properties": {"event": {"enum": ["custom"]}}}  # no const: cannot dispatch
    spec["properties"]["events"]["items"]["oneOf"].append(branch)
    check = speedups.build_checker(spec)
    for response in [
        {"events": [{"event": "slot", "name": "a", "value": 1}]},
        {"events": [{"event": "custom"}]},
        {"events": [{"event": "slot"}]},
        {"events": [{"event": "unknown"}]},
    ]:
        expected = verdict(lambda r: jsonschema.validate(r, spec), response)
        assert verdict(check, response) is expected
    assert not verdict(check, {"events": [{"event": "slot"}]})


def test_rasa_uses_the_fast_check() -> None:
    speedups.install()  # idempotent
    assert RemoteAction._validate_action_result.__name__ == "validate_action_result"
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        RemoteAction("action_x", None)._validate_action_result({"events": [{"event": "slot"}]})


@pytest.fixture
def answering_server() -> Iterator[tuple[str, list[Any]]]:
    """A real HTTP action server that answers each call with the next queued JSON body."""
    bodies: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payload = json.dumps(bodies.pop(0)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook", bodies
    server.shutdown()
    server.server_close()


def test_a_malformed_action_response_is_still_refused(
    answering_server: tuple[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over real HTTP: a valid answer becomes events; a malformed one fails the action."""
    monkeypatch.setenv("ACTION_WARM_UP", "no_such_action")  # no background warm-up here
    url, bodies = answering_server
    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    endpoint = EndpointConfig(url)

    def tracker(text: str) -> DialogueStateTracker:
        t = DialogueStateTracker("schema", domain.slots)
        t.update(ActionExecuted(ACTION_LISTEN_NAME))
        t.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
        return t

    async def run(text: str) -> list[Any]:
        action = RemoteAction("action_extract_facts", endpoint)
        return await action.run(CollectingOutputChannel(), nlg, tracker(text), domain)

    bodies.append({"events": [{"event": "slot", "name": "payment", "value": "aetna"}]})
    assert asyncio.run(run("first")) == [SlotSet("payment", "aetna")]
    bodies.append({"events": [{"event": "slot", "value": "aetna"}]})  # no slot name
    with pytest.raises(action_budget.ActionServerUnavailable, match="ValidationError"):
        asyncio.run(run("second"))
    bodies.append({"events": [{"event": "no_such_event"}]})
    with pytest.raises(action_budget.ActionServerUnavailable, match="ValidationError"):
        asyncio.run(run("third"))


def rasa_lookup(type_name: str, default: Any = None) -> Any:
    """Rasa 3.6.21's ``Event.resolve_by_type``, as written there."""
    for cls in all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    if type_name == "topic":
        return None
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def test_event_classes_are_the_ones_rasa_finds() -> None:
    assert Event.resolve_by_type.__name__ == "resolve_by_type"
    assert Event.resolve_by_type is not rasa_lookup
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "session_started", "active_loop"} <= names
    for _ in range(2):  # the second round is answered from what the first one found
        for name in names:
            assert Event.resolve_by_type(name) is rasa_lookup(name)
            assert Event.resolve_by_type(name, BotUttered) is rasa_lookup(name, BotUttered)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", BotUttered) is BotUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    restored = Event.from_parameters(SessionStarted(timestamp=1.0).as_dict())
    assert restored == SessionStarted(timestamp=1.0)
