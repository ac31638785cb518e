"""``FacilityNLG``: domain responses filled with the facility's own facts from ``facility.yml``.

Registered in the endpoints files::

    nlg:
      type: rasa_addons.nlg.FacilityNLG

It is Rasa's ``TemplatedNaturalLanguageGenerator`` with the facility's values
(``admissions.facility.reply_values``: ``{admissions_phone}``, ``{admissions_tel}``) added to
the fill-in values of every response, so the admissions number is written once, in
``facility.yml``, and a center that changes it edits one line.

A visitor must never read a raw ``{admissions_phone}``, least of all in a crisis reply, so
nothing here waits for chat time to go wrong:

* the facility file (``$FACILITY_FILE``, else ``facility.yml``) is read and validated once,
  when Rasa creates the generator at start-up; a broken file stops the server with the
  ``FacilityConfigError`` naming the field;
* whenever a model's responses are handed over (Rasa sets ``responses`` when it loads a
  model, at start-up and on every model swap), every ``{placeholder}`` in them must be a
  facility value or a slot of the domain the generator was built with; an unknown one
  refuses the model with a ``ResponsePlaceholderError`` naming the response and the
  placeholder, and Rasa keeps serving nothing rather than a broken reply. (``rasa run``
  builds the generator before it loads a model, with an empty domain, so there a response
  can use facility values only; this domain's responses use no slot placeholders.)

Facility values win over slots and over values an action passes with a response: they are
facts of the facility, not of the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from admissions.facility import Facility, default_facility_path, load_facility, reply_values
from rasa_addons import replies

# the same placeholder syntax Rasa's interpolator fills ("{name}", no braces or newline inside)
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


class ResponsePlaceholderError(ValueError):
    """A response names a placeholder that neither the facility nor a slot can fill."""


def placeholders(value: Any) -> Iterator[str]:
    """Every ``{name}`` in a response (its text, buttons and any nested text)."""
    if isinstance(value, str):
        yield from _PLACEHOLDER.findall(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from placeholders(item)


def unknown_placeholders(
    responses: Mapping[str, list[dict[str, Any]]], known: set[str]
) -> list[str]:
    """``utter_x: {name}`` for each placeholder in ``responses`` that is not in ``known``."""
    problems = []
    for name, variants in responses.items():
        for variant in variants:
            for key in ("text", "buttons", "image", "custom", "attachment", "quick_replies"):
                for found in placeholders(variant.get(key)):
                    if found not in known:
                        problems.append(f"{name}: {{{found}}}")
    return sorted(set(problems))


class FacilityNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated responses, with the facility's values always filled in."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        facility: Facility | None = None,
    ) -> None:
        """Read the facility file now (start-up), so a bad file stops the server at once."""
        domain = domain or Domain.empty()
        loaded = facility if facility is not None else load_facility(default_facility_path())
        self.values: dict[str, str] = reply_values(loaded)
        replies.remember_phone(loaded.admissions.phone)  # the channel's own replies: same number
        self.slot_names = {slot.name for slot in domain.slots}
        self._responses: dict[str, list[dict[str, Any]]] = {}
        super().__init__(domain.responses)

    @property  # type: ignore[override]
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        """The domain's responses (checked when set: every placeholder can be filled)."""
        return self._responses

    @responses.setter
    def responses(self, value: dict[str, list[dict[str, Any]]]) -> None:
        problems = unknown_placeholders(value or {}, set(self.values) | self.slot_names)
        if problems:
            raise ResponsePlaceholderError(
                "domain responses use placeholders that neither facility.yml nor a slot fills "
                f"({', '.join(problems)}); known facility values: {', '.join(sorted(self.values))}"
            )
        self._responses = value or {}

    def _response_variables(  # type: ignore[override]
        self, filled_slots: dict[str, Any] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Slots, then values passed with the response, then the facility's values on top."""
        return {**(filled_slots or {}), **kwargs, **self.values}
