"""Two hot spots of Rasa 3.6.21, done once per process instead of on every call (and a third,
the model load at start-up, in ``model_load.py``).

Both are exact equivalents of Rasa's own code, installed from here (``install()``, idempotent)
when Rasa imports ``rasa_addons.tracker_store`` or ``rasa_addons.channels`` (both named in
the project's endpoints / credentials), like ``action_budget``. No file inside the virtual
environment is changed. Measured in ``benchmarks/results/profile-2026-12-03.md``.

1. **Action response validation.** ``RemoteAction._validate_action_result`` calls
   ``jsonschema.validate(result, schema)`` on every custom action response. That call checks
   the *schema* itself against the JSON Schema meta-schema (``check_schema``, ~40 ms here)
   before checking the response, and the response check walks the 23 ``oneOf`` branches of
   ``EVENT_SCHEMA`` for every event (~5 ms for a typical response even with a prebuilt
   validator). With 3-4 action calls per turn that was about two thirds of the Rasa server's
   CPU (``benchmarks/results/profile-2026-12-02.md``). The replacement:

   * checks the schema against its meta-schema once, at install time, and builds the
     validators once;
   * dispatches ``oneOf`` in ``EVENT_SCHEMA`` on the event's name. Every branch there
     constrains ``event`` to one distinct ``const`` and the enclosing schema requires
     ``event``, so for an event named ``X`` every branch but the one for ``X`` fails, and
     ``oneOf`` holds exactly when that branch holds (no branch for ``X``: none holds, the
     response is refused). Each event is therefore validated against ``EVENT_SCHEMA`` without
     ``oneOf``, then against the branch for its name;
   * validates the rest of the response schema (an object; ``events`` an array;
     ``responses`` an array of objects) as Rasa's schema says, with a validator built once.

   A malformed response is refused exactly as before: ``jsonschema.ValidationError`` with
   Rasa's explanation appended, which ``RemoteAction.run`` lets propagate (``action_budget``
   turns it into the visible "something went wrong" reply). If Rasa's schema ever stops having
   the shape this relies on, the check falls back to one prebuilt validator for the whole
   schema (still no per-call ``check_schema``).

2. **Event class lookup.** ``Event.resolve_by_type`` (used for every event deserialised: each
   tracker the store loads, each action response) walks ``all_subclasses(Event)`` — a
   recursive list of ~40 classes with an ``inspect.isabstract`` call each — per event:
   ~0.15 ms per event, ~90 % of loading a tracker. The replacement remembers, per type name,
   the class Rasa's own lookup returned (a class found stays found: event classes are never
   removed); names it did not resolve (``topic``, unknown names, defaults) always go to
   Rasa's lookup, so its answers and errors are unchanged.

``tests/rasa_addons/test_speedups.py`` compares the verdicts with ``jsonschema.validate`` on
valid and malformed responses (and over real HTTP through ``RemoteAction.run``), and the
cached lookup with Rasa's for every event type.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from rasa_addons import model_load

logger = logging.getLogger(__name__)

_installed = False

Check = Callable[[Any], None]


def _event_name_branches(event_schema: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """``oneOf`` branches of ``EVENT_SCHEMA`` keyed by their ``event`` const, if dispatchable."""
    branches = event_schema.get("oneOf")
    if not isinstance(branches, list) or "event" not in event_schema.get("required", []):
        return None
    by_name: dict[str, dict[str, Any]] = {}
    for branch in branches:
        event = (branch.get("properties") or {}).get("event") if isinstance(branch, dict) else None
        name = event.get("const") if isinstance(event, dict) else None
        if not isinstance(name, str) or name in by_name:
            return None  # not one distinct const per branch: dispatch would not be exact
        by_name[name] = branch
    return by_name


def build_checker(schema: dict[str, Any]) -> Check:
    """A function that raises ``jsonschema.ValidationError`` exactly when ``schema`` fails.

    ``schema`` is Rasa's action response schema; it is checked against its meta-schema here,
    once.
    """
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for

    cls = validator_for(schema)
    cls.check_schema(schema)
    whole = cls(schema)

    def check_whole(result: Any) -> None:
        whole.validate(result)

    events = (schema.get("properties") or {}).get("events")
    items = events.get("items") if isinstance(events, dict) else None
    branches = _event_name_branches(items) if isinstance(items, dict) else None
    if (
        not isinstance(events, dict)
        or not isinstance(items, dict)
        or branches is None
        or set(events) != {"type", "items"}
    ):
        logger.warning("action response schema has an unexpected shape; validating it whole")
        return check_whole

    outer_schema = copy.deepcopy(schema)
    outer_schema["properties"]["events"] = {"type": events["type"]}
    outer = cls(outer_schema)
    base = {k: v for k, v in items.items() if k != "oneOf"}
    per_event = {name: cls(branch) for name, branch in branches.items()}
    base_validator = cls(base)

    def check(result: Any) -> None:
        outer.validate(result)
        if not isinstance(result, dict) or not isinstance(result.get("events"), list):
            return  # no events, or the outer schema let a non-list through (it cannot)
        for event in result["events"]:
            base_validator.validate(event)  # an object with an "event" string, else raises
            validator = per_event.get(event["event"])
            if validator is None:
                raise ValidationError(
                    f"{event['event']!r} is not a known event: it is not valid under any of "
                    "the given schemas",
                    validator="oneOf",
                    instance=event,
                )
            validator.validate(event)

    return check


class _NotFound:
    """Passed as Rasa's ``default`` to tell "no class has this name" from a class found."""


def cached_event_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    """``Event.resolve_by_type`` remembering each class found (see the module docstring)."""
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        cls = original(type_name, _NotFound)
        if cls is _NotFound:
            return original(type_name, default)  # unknown: Rasa's own default or error
        if cls is not None:  # None: Rasa's "topic" compatibility case, not remembered
            found[type_name] = cls
        return cls

    return resolve_by_type


def install() -> None:
    """Install both replacements into Rasa (idempotent)."""
    global _installed
    if _installed:
        return
    _install_validation()
    _install_event_lookup()
    model_load.install()  # 3. DIET / TED load without a traced training step (model_load.py)
    _installed = True


def _install_event_lookup() -> None:
    from rasa.shared.core.events import Event

    lookup = cached_event_lookup(Event.resolve_by_type)
    Event.resolve_by_type = staticmethod(lookup)  # type: ignore[method-assign,assignment]


def _install_validation() -> None:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    check = build_checker(RemoteAction.action_response_format_spec())

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            check(result)
            return True
        except ValidationError as e:  # Rasa's own wording, as in 3.6.21
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                "For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
