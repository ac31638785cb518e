"""Run a ``rasa`` command with wall-clock timers on the steps of a turn (profiling only).

    python benchmarks/turn_timer.py run --model ...         # the Rasa server
    python benchmarks/turn_timer.py run actions --actions actions

Used by ``benchmarks/profile_turns.py``; it changes no server code: it wraps, in this process
only, the methods a turn goes through (Rasa's message processor, each graph component, the HTTP
call to the action server, the tracker store's reads and writes; the action server's actions;
spaCy in both) and writes ``{name: [calls, seconds]}`` to ``$TURN_TIMER_DIR/timers-{rasa,actions}.json`` after each turn / action.
Timers nest (a turn contains its parse, which contains SpacyNLP): read them as parts of a whole,
not as a sum.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATS: dict[str, list[float]] = {}
OUT = Path(os.environ.get("TURN_TIMER_DIR", ".")) / (
    "timers-actions.json" if sys.argv[1:3] == ["run", "actions"] else "timers-rasa.json"
)
_last_dump = 0.0


def _add(name: str, seconds: float) -> None:
    entry = STATS.setdefault(name, [0, 0.0])
    entry[0] += 1
    entry[1] += seconds


def dump(force: bool = False) -> None:
    """Write the timers (at most twice a second unless forced)."""
    global _last_dump
    now = time.monotonic()
    if force or now - _last_dump > 0.5:
        _last_dump = now
        OUT.write_text(json.dumps(STATS, indent=1, sort_keys=True))


def _wrap_async(owner: Any, attr: str, name: Callable[..., str] | str, flush: bool = False) -> None:
    original = getattr(owner, attr)

    @functools.wraps(original)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _add(name(*args, **kwargs) if callable(name) else name, time.perf_counter() - start)
            if flush:
                dump(force=True)

    setattr(owner, attr, timed)


def _wrap_sync(owner: Any, attr: str, name: Callable[..., str] | str) -> None:
    original = getattr(owner, attr)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _add(name(*args, **kwargs) if callable(name) else name, time.perf_counter() - start)

    setattr(owner, attr, timed)


def _spacy() -> None:
    from spacy.language import Language

    _wrap_sync(Language, "__call__", "spacy: nlp(text) calls")
    _wrap_sync(Language, "pipe", "spacy: nlp.pipe calls (generator, time not counted)")


def install_rasa() -> None:
    """Timers on the Rasa server's turn."""
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import TrackerStore
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from rasa_addons import tracker_store as durable  # what endpoints.yml loads

    p = MessageProcessor
    _wrap_async(p, "handle_message", "turn: handle_message (total)", flush=True)
    _wrap_async(p, "fetch_tracker_and_update_session", "turn: tracker fetch + session check")
    _wrap_async(p, "parse_message", "turn: parse_message (NLU graph)")
    _wrap_async(p, "run_action_extract_slots", "turn: action_extract_slots (incl. custom mapping)")
    _wrap_async(p, "_run_prediction_loop", "turn: prediction loop (policies + actions)")
    _wrap_sync(p, "_predict_next_with_tracker", "loop: predict next action (policy graph)")
    _wrap_async(p, "_run_action", lambda _self, action, *a, **k: f"action: {action.name()}")
    _wrap_async(p, "save_tracker", "turn: save_tracker")
    _wrap_sync(DialogueStateTracker, "copy", "tracker.copy() (deep copy)")
    _wrap_async(EndpointConfig, "request", "http: action server round trip")
    _wrap_sync(GraphNode, "__call__", lambda node, *a, **k: f"graph: {node._node_name}")
    for cls in {durable.DurableSQLTrackerStore, TrackerStore}:
        for attr in ("retrieve", "save"):
            if attr in vars(cls):
                _wrap_async(cls, attr, f"store: {cls.__name__}.{attr}")
    _spacy()


def install_sdk() -> None:
    """Timers on the action server."""
    from rasa_sdk.executor import ActionExecutor

    def action_name(_self: Any, action_call: Any, **_: Any) -> str:
        return f"sdk action: {action_call.get('next_action')}"

    _wrap_async(ActionExecutor, "run", action_name, flush=True)
    _spacy()


def main() -> None:
    """Install the timers for this kind of server, then run ``rasa`` with the same arguments."""
    args = sys.argv[1:]
    sys.path.insert(1, os.getcwd())  # as rasa's own main does: the project's modules
    if args[:2] == ["run", "actions"]:
        install_sdk()
    else:
        install_rasa()
    import atexit

    atexit.register(dump, True)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
