"""Keep a long conversation's working history short: roll it into a new session at a quiet turn.

Every turn Rasa rebuilds the tracker from its events, copies it for each prediction, turns the
whole history into policy states and sends it to the action server: all O(events in the
session). Rasa reads only the last session (the tracker store loads from the last
``session_started``), so a conversation that never pauses for two hours grows one session
without bound, and its turn 300 cost about eight times its turn 10 (issue 14).

Rasa's own answer to a long history is the session: after ``session_expiration_time`` it starts
a new one and carries the slots over. This module does the same, without waiting for silence,
once the current session holds ``TRACKER_ROLL_EVENTS`` events (default 300, about 25 turns; 0
turns it off). It appends, at the end of a turn, the events ``action_session_start`` would have
written, marked ``{"rolled": true}``, plus the last turn's bot actions:

    action_session_start, session_started{rolled}, one SlotSet per slot not at its initial value,
    the ActionExecuted events of the last bot turn{rolled}, action_listen

What the policies see afterwards is what they saw before, up to ``max_history`` (4 here):
the same slots, the same active loop (none, see below), and the same last bot action, so a reply
to the question just asked ("Did I get that right?") is read the same way. The user messages of
the last turn are not copied (a transcript would show them twice); the policies lose only the
previous intent, which no rule here conditions on.

It rolls only at a quiet point: the turn ended in ``action_listen``, no form is active, no slot is
being requested, nothing is paused or queued. A form runs to its end before the session rolls.
Staff transcripts skip the ``rolled`` session marker (it is not a new visit); the full history
stays in the database for them, for exports, retention and forget-me, exactly as before.
"""

from __future__ import annotations

import itertools
import os
import time

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

ROLLED = {"rolled": True}
DEFAULT_EVENTS = 300


def roll_limit() -> int:
    """``TRACKER_ROLL_EVENTS`` (events in one session before it rolls; 0 = never)."""
    raw = os.environ.get("TRACKER_ROLL_EVENTS", "").strip()
    if not raw:
        return DEFAULT_EVENTS
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"TRACKER_ROLL_EVENTS must be a whole number, not {raw!r}") from exc
    if value < 0:
        raise ValueError(f"TRACKER_ROLL_EVENTS must be 0 (off) or more, not {value}")
    return value


def _session_length(tracker: DialogueStateTracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, (SessionStarted, Restarted)):
            break
        count += 1
    return count


def _quiet(tracker: DialogueStateTracker) -> bool:
    """The turn is over and nothing is half done: a form, a requested slot, a queued action."""
    if not tracker.events:
        return False
    last = tracker.events[-1]
    return (
        isinstance(last, ActionExecuted)
        and last.action_name == ACTION_LISTEN_NAME
        and not tracker.active_loop_name
        and not tracker.get_slot("requested_slot")
        and tracker.followup_action in (None, ACTION_LISTEN_NAME)
        and not tracker.is_paused()
    )


def _last_bot_actions(tracker: DialogueStateTracker) -> list[ActionExecuted]:
    """The ActionExecuted events after the last user message, without the closing listen."""
    actions: list[ActionExecuted] = []
    for event in reversed(tracker.events):
        if isinstance(event, (UserUttered, SessionStarted, Restarted)):
            break
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            actions.append(event)
    return actions[::-1]


def roll_events(tracker: DialogueStateTracker, limit: int) -> list[Event]:
    """The events that start a new session here, or ``[]`` when the session stays as it is."""
    if limit <= 0 or _session_length(tracker) < limit or not _quiet(tracker):
        return []
    now = time.time()
    stamps = (now + i * 1e-6 for i in itertools.count())  # strictly increasing: unique row keys
    events: list[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=next(stamps), metadata=dict(ROLLED)),
        SessionStarted(timestamp=next(stamps), metadata=dict(ROLLED)),
    ]
    for name, slot in tracker.slots.items():
        if slot.value != slot.initial_value:
            events.append(SlotSet(name, slot.value, timestamp=next(stamps), metadata=dict(ROLLED)))
    for action in _last_bot_actions(tracker):
        events.append(
            ActionExecuted(
                action.action_name,
                policy=action.policy,
                confidence=action.confidence,
                timestamp=next(stamps),
                metadata=dict(ROLLED),
                action_text=action.action_text,
                hide_rule_turn=action.hide_rule_turn,
            )
        )
    events.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=next(stamps)))
    return events


def roll_if_long(tracker: DialogueStateTracker, limit: int) -> bool:
    """Append a new session to ``tracker`` when it is long and quiet; whether it rolled."""
    events = roll_events(tracker, limit)
    for event in events:
        tracker.update(event)
    return bool(events)
