"""``CrisisGuard``: the deterministic crisis safety net as the last step of Rasa's NLU pipeline.

It goes after DIETClassifier, SpacyEntityExtractor and FallbackClassifier::

    - name: rasa_addons.crisis_guard.CrisisGuard

and runs on every message, so a message that signals danger now reaches the crisis rule at
any turn, whatever the intent classifier said:

* **Override.** When ``admissions.safety`` finds a crisis signal, the intent becomes
  ``{"name": "crisis", "confidence": 1.0}``, ``crisis`` goes first in ``intent_ranking``
  (the classifier's other guesses stay after it) and the category is written to the parse
  data as ``crisis_kind`` (``suicide``, ``overdose``, ``medical_emergency`` ...).
* **Safe contexts.** When the net finds no crisis phrase at all but the classifier says
  ``crisis`` about a message in a clearly ordinary context (``safety.safe_context``: "I hurt
  myself at the gym", "narcan saved my life"), the prediction is demoted the same way.
* **Demotion.** When the classifier's top intent is ``crisis`` but the net finds no signal
  and the message *clearly* only uses crisis words negated or as an idiom ("I'm not
  suicidal", "this job is killing me"), the next-ranked intent takes its place (or
  ``nlu_fallback`` when that one is below ``fallback_threshold``, as FallbackClassifier
  would decide). The original prediction is kept as ``crisis_demoted_from`` for staff review.
  A crisis prediction with nothing the net recognises, or with phrases it set aside as
  history or general questions, is left alone: the classifier may know phrasings the rules
  don't, and when in doubt the assistant errs toward safety.
* **Entities.** ``crisis`` entities (from SpacyEntityExtractor) that signal a crisis are kept,
  so the transcript shows what triggered the reply. Crisis entities the net judged negated,
  idiomatic, past or informational are removed, so that no downstream slot or action ever
  sees a ``crisis`` entity on a message that is not a crisis. Other entities are untouched.

Where it can, the guard reuses the spaCy doc that ``SpacyNLP`` already made (its ``crisis``
spans); when that doc holds no signal (no SpacyNLP in the pipeline, a stale build, or a longer
span of another label shadowing a crisis phrase) it screens the text itself with the cached
crisis-only pipeline. It never calls the action server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from admissions import safety

logger = logging.getLogger(__name__)

CRISIS_KIND_KEY = "crisis_kind"
_NOT_SAFE = re.compile(
    r"\b(?:not|n't|nt|never|isn'?t|ain'?t|no longer)\s+(?:really\s+|very\s+|feeling\s+)?"
    r"(?:safe|ok|okay|fine|alright|all right)\b|\bunsafe\b"
)
CRISIS_DEMOTED_KEY = "crisis_demoted_from"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisGuard(GraphComponent, IntentClassifier):
    """Forces the ``crisis`` intent when the safety net finds danger; demotes clear false alarms."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {
            # the intent the crisis rule listens for
            "crisis_intent": "crisis",
            # demote a `crisis` prediction that is clearly a negation or an idiom
            "demote_figurative": True,
            # also demote when every crisis phrase is explained as past history or a general
            # question ("I had seizures last time I quit", "what are the signs of an overdose?");
            # the assessment then warns about withdrawal and routes to medical detox instead
            "demote_set_aside": True,
            # also demote a crisis prediction on a message the net finds no crisis phrase in
            # when the message is in a clearly ordinary context ("I hurt myself at the gym",
            # "I took my meds this morning"; `safe_contexts` in the crisis pattern file)
            "demote_safe_context": True,
            # below this confidence the intent that replaces a demoted crisis becomes
            # nlu_fallback (match FallbackClassifier's `threshold`)
            "fallback_threshold": 0.3,
            # drop `crisis` entities the safety net judged harmless
            "drop_dismissed_entities": True,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Keep the config."""
        self.component_config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisGuard:
        """Create the component and load the safety net once, not on the first message."""
        safety.crisis_pipeline()
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Override, demote or leave each message's intent (see the module docstring)."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            screening = self._screen(message, text)
            signal = screening.signal
            if signal is None and self._says_not_safe(message, text):
                # "no I'm not safe" must never read as "I'm safe": the classifier sees the
                # words of im_safe, the negation says the opposite
                signal = safety.CrisisSignal("not_safe", text, 0, len(text))
            if signal is not None:
                self._force_crisis(message, signal)
            elif self.component_config["demote_figurative"] and screening.figurative:
                self._demote(message)
            elif self.component_config["demote_set_aside"] and screening.set_aside:
                self._demote(message)
            elif (
                self.component_config["demote_safe_context"]
                and not screening.dismissals
                and self._predicted_crisis(message)
                and safety.safe_context(text) is not None
            ):
                self._demote(message)
            if self.component_config["drop_dismissed_entities"] and screening.dismissals:
                self._drop_dismissed(message, screening)
        return messages

    # ------------------------------------------------------------------ helpers

    def _screen(self, message: Message, text: str) -> safety.Screening:
        """Judge the pipeline's own crisis spans; screen the text afresh if they hold no signal."""
        doc = message.get(SPACY_DOCS[TEXT])
        ents = getattr(doc, "ents", None)
        if ents is not None and len(doc.text) == len(text):
            found: list[Any] = [e for e in ents if e.label_ == safety.CRISIS_LABEL]
        else:
            found = [
                e
                for e in message.get(ENTITIES) or []
                if e.get(ENTITY_ATTRIBUTE_TYPE) == safety.CRISIS_LABEL
            ]
        if found:
            screening = safety.screen_entities(text, found)
            if screening.signal is not None:
                return screening
        return safety.screen(text)

    @staticmethod
    def _says_not_safe(message: Message, text: str) -> bool:
        """The classifier says ``im_safe`` but the words deny being safe or okay."""
        intent = message.get(INTENT) or {}
        return intent.get(INTENT_NAME_KEY) == "im_safe" and bool(_NOT_SAFE.search(text.lower()))

    def _predicted_crisis(self, message: Message) -> bool:
        """The classifier's top intent is the crisis intent (only then is a demotion possible)."""
        intent = message.get(INTENT) or {}
        return intent.get(INTENT_NAME_KEY) == self.component_config["crisis_intent"]

    def _force_crisis(self, message: Message, signal: safety.CrisisSignal) -> None:
        name = self.component_config["crisis_intent"]
        crisis = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name
        ]
        message.set(INTENT, crisis, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(crisis), *ranking], add_to_output=True)
        message.set(CRISIS_KIND_KEY, signal.kind, add_to_output=True)
        logger.info("crisis guard: crisis intent set (kind=%s)", signal.kind)

    def _demote(self, message: Message) -> None:
        if not self._predicted_crisis(message):
            return
        name = self.component_config["crisis_intent"]
        intent = message.get(INTENT) or {}
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name
        ]
        threshold = float(self.component_config["fallback_threshold"])
        candidates = [
            r for r in ranking if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME
        ]
        best = candidates[0] if candidates else None
        if best is None or float(best.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < threshold:
            best = {
                INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                PREDICTED_CONFIDENCE_KEY: threshold,
            }
            ranking = [
                best,
                *(r for r in ranking if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME),
            ]
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set(CRISIS_DEMOTED_KEY, dict(intent), add_to_output=True)
        logger.info("crisis guard: crisis prediction demoted to %s", best.get(INTENT_NAME_KEY))

    @staticmethod
    def _drop_dismissed(message: Message, screening: safety.Screening) -> None:
        dismissed = [(d.start, d.end) for d in screening.dismissals]
        signals = [(s.start, s.end) for s in screening.signals]

        def harmless(entity: dict[str, Any]) -> bool:
            if entity.get(ENTITY_ATTRIBUTE_TYPE) != safety.CRISIS_LABEL:
                return False
            start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
            if not isinstance(start, int) or not isinstance(end, int):
                return False
            overlaps = [s < end and start < e for s, e in dismissed]
            return any(overlaps) and not any(s < end and start < e for s, e in signals)

        entities = message.get(ENTITIES)
        if entities:
            message.set(ENTITIES, [e for e in entities if not harmless(e)], add_to_output=True)
