"""A time budget for every custom action, and a visible reply when the action server fails.

Rasa 3.6.21 calls the action server with a hard-coded 300 s timeout
(``rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT``) while a conversation's lock lasts 60 s,
and when a custom action fails the processor logs the error and carries on: the visitor gets
silence. ``install()`` patches three places of Rasa, once per process (it is idempotent and
is called when Rasa imports ``rasa_addons.tracker_store`` or ``rasa_addons.channels``):

1. ``RemoteAction.run`` gets a budget of ``ACTION_TIMEOUT_SECONDS`` (default 5 s, capped at
   5 s) through ``asyncio.wait_for``; the module constant ``DEFAULT_REQUEST_TIMEOUT`` (read at
   call time) is lowered to just above it. Any failure other than a form's deliberate
   rejection (timeout, refused connection, HTTP error, invalid answer) becomes
   ``ActionServerUnavailable``. After a timeout or a refused connection, later calls *in the
   same turn* fail at once (the turn is the sender and its latest user message), so one turn
   never pays the budget twice; and a background warm-up call (``warm_up``) waits, with a
   long timeout, until the action server answers again, so a restarted (cold) action server
   loads its models on Rasa's call rather than on a visitor's.
2. ``ActionExtractSlots.run`` (slot mappings that call ``action_extract_facts`` on every
   message) marks its calls, and on a message whose intent is ``crisis`` their budget drops
   to ``CRISIS_EXTRACTION_SECONDS`` (1 s): the crisis reply is a static response and must not
   wait for a hung action server. Rasa already ignores failed extraction calls.
3. ``MessageProcessor._run_action``: when a predicted custom action or form fails with
   ``ActionServerUnavailable``, the action's events become a bot message naming the
   admissions line (``replies.action_failed``) and a ``FollowupAction(action_listen)``, so the
   turn ends with a useful reply instead of silence. The message carries
   ``metadata.fallback = "action_server"`` so staff see why.

Worst case per turn with a hung action server: one budget (5 s) plus normal processing.
``warm_up`` is also run once when the Rasa server starts (``GuardedRestInput`` registers it),
and while a just-started action server is answering that call, the channel holds new turns
for up to 4 s (``wait_until_warm``) so the first visitors after a restart are not the ones who
pay for its model loading. (The durable fix is an action server that loads its models before
it reports healthy.)
Nothing here logs message text: only action names and the kind of failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import time
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from rasa.shared.exceptions import RasaException

if TYPE_CHECKING:  # imported at install time: importing this module stays light
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction
    from rasa.core.processor import MessageProcessor

logger = logging.getLogger(__name__)

MAX_BUDGET_SECONDS = 5.0
CRISIS_EXTRACTION_SECONDS = 1.0
FALLBACK_METADATA = {"fallback": "action_server"}

_installed = False
_in_extraction: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "rasa_addons_in_extraction", default=False
)


class ActionServerUnavailable(RasaException):
    """A custom action failed, ran out of its budget, or the action server failed this turn."""


def budget_seconds() -> float:
    """The per-action time budget: ``ACTION_TIMEOUT_SECONDS``, at most 5 s."""
    try:
        value = float(os.environ.get("ACTION_TIMEOUT_SECONDS", MAX_BUDGET_SECONDS))
    except ValueError:
        value = MAX_BUDGET_SECONDS
    return max(0.1, min(value, MAX_BUDGET_SECONDS))


class TurnFailures:
    """Turns (sender, latest user message id) in which the action server already failed."""

    def __init__(self, limit: int = 10_000) -> None:
        """Remember at most ``limit`` turns."""
        self.limit = limit
        self._turns: OrderedDict[tuple[str, str], float] = OrderedDict()

    @staticmethod
    def key(tracker: Any) -> tuple[str, str]:
        """The turn a tracker is in."""
        message = getattr(tracker, "latest_message", None)
        turn = getattr(message, "message_id", None) or repr(getattr(message, "timestamp", None))
        return (str(getattr(tracker, "sender_id", "")), str(turn))

    def failed(self, tracker: Any) -> None:
        """Remember that this turn saw the action server time out or refuse."""
        self._turns[self.key(tracker)] = time.monotonic()
        while len(self._turns) > self.limit:
            self._turns.popitem(last=False)

    def __contains__(self, tracker: Any) -> bool:
        """Whether this turn already saw the action server fail."""
        return self.key(tracker) in self._turns


failed_turns = TurnFailures()
_warm_up_task: asyncio.Task | None = None


class Warmth:
    """Whether the action server may be cold (just started, models not loaded yet)."""

    cold = True  # until it has answered once; again after it refused a connection
    in_flight = False  # a warm-up call is waiting for the action server right now


warmth = Warmth()


async def wait_until_warm(limit: float) -> float:
    """If a (re)started action server is loading its models, wait for it up to ``limit`` s.

    Returns the seconds waited. Does not wait for a server that is down (refusing) or one
    that answered before and then hung (that is what the budget is for).
    """
    task = _warm_up_task
    if not (warmth.cold and warmth.in_flight) or task is None or task.done():
        return 0.0
    started = time.monotonic()
    with contextlib.suppress(Exception):  # a bounded wait, whatever the warm-up does
        await asyncio.wait_for(asyncio.shield(task), limit)
    return time.monotonic() - started


def _warm_up_tracker(domain: Any) -> Any:
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events(
        f"warm-up-{uuid.uuid4().hex}",
        [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("hello", {"name": "greet", "confidence": 1.0}),
        ],
        domain.slots,
    )


async def warm_up(endpoint: Any, domain: Any, deadline_seconds: float = 180.0) -> bool:
    """Call ``ACTION_WARM_UP`` (default ``action_extract_facts``) until the server answers.

    Waits up to 60 s per attempt and retries refused connections every 2 s, for at most
    ``deadline_seconds``. Returns whether the action server answered.
    """
    from rasa.core.actions.action import RemoteAction

    name = os.environ.get("ACTION_WARM_UP", "action_extract_facts")
    if endpoint is None or domain is None or name not in domain.action_names_or_texts:
        return False
    body = RemoteAction(name, endpoint)._action_call_format(_warm_up_tracker(domain), domain)
    started = time.monotonic()
    while time.monotonic() - started < deadline_seconds:
        warmth.in_flight = True
        try:
            await endpoint.request(json=body, method="post", timeout=60)
        except Exception:  # noqa: BLE001 - retried until the deadline
            warmth.in_flight = False
            await asyncio.sleep(2.0)
            continue
        finally:
            warmth.in_flight = False
        warmth.cold = False
        logger.info("action server answered a warm-up call (%.1f s)", time.monotonic() - started)
        return True
    logger.warning("action server did not answer warm-up calls for %.0f s", deadline_seconds)
    return False


def schedule_warm_up(endpoint: Any, domain: Any) -> None:
    """Start ``warm_up`` in the background unless one is running."""
    global _warm_up_task
    if _warm_up_task is not None and not _warm_up_task.done():
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    _warm_up_task = loop.create_task(warm_up(endpoint, domain))


def _latest_intent(tracker: Any) -> str | None:
    message = getattr(tracker, "latest_message", None)
    intent = getattr(message, "intent", None) or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None


def fallback_events(action_name: str) -> list[Any]:
    """What a failed custom action contributes instead of nothing: a reply, then listen."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import BotUttered, FollowupAction

    from rasa_addons import replies

    return [
        BotUttered(
            text=replies.action_failed(),
            data={"buttons": [replies.call_button()]},
            metadata={**FALLBACK_METADATA, "action": action_name},
        ),
        FollowupAction(ACTION_LISTEN_NAME),
    ]


def _budgeted(original_run: Any) -> Any:
    """``RemoteAction.run`` within the budget; every failure but a form's rejection becomes
    ``ActionServerUnavailable``, and a timeout or refused connection fails the rest of the turn."""
    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection

    async def budgeted_remote_run(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        name = self.name()
        if tracker in failed_turns:
            raise ActionServerUnavailable(f"action server failed this turn; skipped {name!r}")
        budget = budget_seconds()
        if _in_extraction.get() and _latest_intent(tracker) == "crisis":
            budget = min(budget, CRISIS_EXTRACTION_SECONDS)
        try:
            events = await asyncio.wait_for(
                original_run(self, output_channel, nlg, tracker, domain), budget
            )
        except ActionExecutionRejection:
            raise
        except asyncio.TimeoutError:
            failed_turns.failed(tracker)
            schedule_warm_up(self.action_endpoint, domain)
            logger.warning("custom action '%s' exceeded its %.1f s budget", name, budget)
            raise ActionServerUnavailable(f"custom action '{name}' timed out") from None
        except Exception as exc:  # noqa: BLE001 - every failure must become a visible reply
            cause = exc.__cause__ or exc.__context__
            if isinstance(exc, aiohttp.ClientConnectionError) or isinstance(
                cause, (aiohttp.ClientConnectionError, asyncio.TimeoutError)
            ):
                failed_turns.failed(tracker)
                if not isinstance(cause, asyncio.TimeoutError):
                    warmth.cold = True  # refused: when it is back, it starts cold
                schedule_warm_up(self.action_endpoint, domain)
                kind = "connection failed"
            else:
                kind = type(exc).__name__
            logger.warning("custom action '%s' failed: %s", name, kind)
            raise ActionServerUnavailable(f"custom action '{name}' failed: {kind}") from None
        warmth.cold = False
        return list(events)

    return budgeted_remote_run


def _marking_extraction(original_run: Any) -> Any:
    """``ActionExtractSlots.run`` that marks the custom action calls it makes (crisis budget)."""

    async def marked_extract_run(
        self: ActionExtractSlots, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        token = _in_extraction.set(True)
        try:
            return list(await original_run(self, output_channel, nlg, tracker, domain))
        finally:
            _in_extraction.reset(token)

    return marked_extract_run


class _FallbackOnFailure:
    """Wraps the action the processor runs: an unavailable action server becomes a reply."""

    def __init__(self, action: Any) -> None:
        self._action = action

    def __getattr__(self, item: str) -> Any:
        return getattr(self._action, item)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        try:
            return await self._action.run(output_channel, nlg, tracker, domain)
        except ActionServerUnavailable:
            return fallback_events(self._action.name())


def _with_fallback(original_run_action: Any) -> Any:
    """``MessageProcessor._run_action`` that runs the action wrapped in ``_FallbackOnFailure``."""

    async def run_action_with_fallback(
        self: MessageProcessor,
        action: Any,
        tracker: Any,
        output_channel: Any,
        nlg: Any,
        prediction: Any,
    ) -> bool:
        return bool(
            await original_run_action(
                self, _FallbackOnFailure(action), tracker, output_channel, nlg, prediction
            )
        )

    return run_action_with_fallback


def install() -> None:
    """Apply the three patches to Rasa (idempotent)."""
    global _installed
    if _installed:
        return

    import rasa.core.actions.action as action_module
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction
    from rasa.core.processor import MessageProcessor

    # aiohttp's own timeout stays just above the budget, so ``wait_for`` decides
    action_module.DEFAULT_REQUEST_TIMEOUT = int(budget_seconds()) + 1

    RemoteAction.run = _budgeted(RemoteAction.run)  # type: ignore[method-assign]
    ActionExtractSlots.run = _marking_extraction(ActionExtractSlots.run)  # type: ignore[method-assign]
    MessageProcessor._run_action = _with_fallback(MessageProcessor._run_action)  # type: ignore[method-assign]
    _installed = True
    logger.debug("custom action budget installed (%.1f s)", budget_seconds())
