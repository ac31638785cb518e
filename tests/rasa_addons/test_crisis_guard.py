"""CrisisGuard overrides the classifier on real danger and demotes clear false alarms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from admissions.understanding import pipeline as nlp_builder
from rasa_addons.crisis_guard import CrisisGuard

Ranking = list[tuple[str, float]]


@pytest.fixture
def guard(tmp_path: Path) -> CrisisGuard:
    return _make_guard(tmp_path, {})


def _make_guard(tmp_path: Path, config: dict[str, Any]) -> CrisisGuard:
    return CrisisGuard.create(
        {**CrisisGuard.get_default_config(), **config},
        LocalModelStorage.create(tmp_path),
        Resource("crisis_guard"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )


def _message(text: str, ranking: Ranking | None = None) -> Message:
    """A message as DIET (and FallbackClassifier) left it: intent = first of the ranking."""
    message = Message(data={TEXT: text})
    if ranking:
        intents = [{"name": name, "confidence": conf} for name, conf in ranking]
        message.set(INTENT, dict(intents[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, intents, add_to_output=True)
    return message


def _parse(message: Message) -> dict[str, Any]:
    """What Rasa's processor puts in the tracker's parse_data."""
    return message.as_dict(only_output_properties=True)


def _names(message: Message) -> list[str]:
    return [r["name"] for r in message.get(INTENT_RANKING_KEY)]


def test_registered_as_an_untrainable_intent_classifier() -> None:
    registered = DefaultV1Recipe._from_registry("CrisisGuard")
    assert registered.clazz is CrisisGuard
    assert DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER in registered.types
    assert registered.is_trainable is False


def test_danger_overrides_a_confident_wrong_intent(guard: CrisisGuard) -> None:
    message = _message(
        "my brother took a bunch of pills and won't wake up",
        [("inform_caregiving", 0.91), ("greet", 0.05), ("crisis", 0.04)],
    )
    guard.process([message])
    parse = _parse(message)
    assert parse["intent"] == {"name": "crisis", "confidence": 1.0}
    assert _names(message) == ["crisis", "inform_caregiving", "greet"]
    assert parse["crisis_kind"] == "medical_emergency"


def test_danger_overrides_the_fallback_intent(guard: CrisisGuard) -> None:
    message = _message(
        "i wanna unalive myself",
        [("nlu_fallback", 0.45), ("chitchat", 0.3), ("inform_readiness", 0.25)],
    )
    guard.process([message])
    assert message.get(INTENT)["name"] == "crisis"
    assert _parse(message)["crisis_kind"] == "suicide"
    assert _names(message)[0] == "crisis"


def test_danger_is_caught_at_any_turn_even_without_a_classifier(guard: CrisisGuard) -> None:
    message = _message("he's seizing on the kitchen floor")
    guard.process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert message.get("crisis_kind") == "withdrawal_danger"


def test_a_crisis_the_classifier_already_saw_is_confirmed_with_full_confidence(
    guard: CrisisGuard,
) -> None:
    message = _message("I want to kill myself", [("crisis", 0.88), ("deny", 0.1)])
    guard.process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert _names(message) == ["crisis", "deny"]


def test_a_negation_predicted_as_crisis_is_demoted_to_the_next_intent(
    guard: CrisisGuard,
) -> None:
    message = _message(
        "I'm not suicidal, I just want to stop drinking",
        [("crisis", 0.62), ("inform_readiness", 0.33), ("greet", 0.05)],
    )
    guard.process([message])
    parse = _parse(message)
    assert parse["intent"] == {"name": "inform_readiness", "confidence": 0.33}
    assert _names(message) == ["inform_readiness", "greet"]
    assert parse["crisis_demoted_from"] == {"name": "crisis", "confidence": 0.62}
    assert "crisis_kind" not in parse


def test_an_idiom_demoted_with_no_confident_alternative_becomes_fallback(
    guard: CrisisGuard,
) -> None:
    message = _message(
        "this job is killing me", [("crisis", 0.7), ("inform_schedule", 0.2), ("greet", 0.1)]
    )
    guard.process([message])
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.3}
    assert _names(message) == ["nlu_fallback", "inform_schedule", "greet"]


def test_fallback_threshold_follows_the_config(tmp_path: Path) -> None:
    guard = _make_guard(tmp_path, {"fallback_threshold": 0.45})
    message = _message("my phone died", [("crisis", 0.6), ("chitchat", 0.4)])
    guard.process([message])
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.45}


def test_a_crisis_prediction_the_rules_do_not_explain_is_kept(guard: CrisisGuard) -> None:
    """The classifier may know phrasings the patterns don't: those are kept."""
    for text in (
        "I feel like giving up on everything",
        "i'm done with everything, i can't anymore",
    ):
        message = _message(text, [("crisis", 0.8), ("inform_readiness", 0.2)])
        guard.process([message])
        assert message.get(INTENT) == {"name": "crisis", "confidence": 0.8}, text
        assert message.get("crisis_demoted_from") is None


def test_past_history_and_general_questions_are_demoted(guard: CrisisGuard) -> None:
    """ "I had seizures last time I quit" is a detox need, not an emergency now."""
    for text in ("I had seizures last time I quit", "what are the signs of an overdose?"):
        message = _message(text, [("crisis", 0.8), ("ready_to_start", 0.2)])
        guard.process([message])
        assert message.get(INTENT)["name"] != "crisis", text
        assert message.get("crisis_demoted_from") is not None


def test_a_crisis_prediction_in_an_ordinary_context_is_demoted(guard: CrisisGuard) -> None:
    """No crisis phrase, and the message is plainly about the gym, meds or life history."""
    for text in (
        "I hurt myself at the gym so I can't run",
        "i take my meds every morning like always",
        "narcan saved my life two years ago",
        "I get panic attacks",
    ):
        message = _message(text, [("crisis", 0.97), ("ready_to_start", 0.02)])
        guard.process([message])
        assert message.get(INTENT)["name"] != "crisis", text
        assert message.get("crisis_demoted_from") == {"name": "crisis", "confidence": 0.97}


def test_an_ordinary_context_does_not_overrule_danger_now(guard: CrisisGuard) -> None:
    """A safe-sounding context never outweighs a crisis phrase or something happening now."""
    for text in (
        "i cut back on drinking but right now i'm in danger",
        "narcan saved my life last year and now i took too many pills again",
    ):
        message = _message(text, [("crisis", 0.9), ("ready_to_start", 0.1)])
        guard.process([message])
        assert message.get(INTENT)["name"] == "crisis", text


def test_demotion_can_be_switched_off(tmp_path: Path) -> None:
    guard = _make_guard(tmp_path, {"demote_figurative": False, "demote_set_aside": False})
    message = _message("I'm not suicidal", [("crisis", 0.6), ("deny", 0.4)])
    guard.process([message])
    assert message.get(INTENT)["name"] == "crisis"


def test_ordinary_messages_pass_through_untouched(guard: CrisisGuard) -> None:
    ranking = [("inform_payment", 0.93), ("inform_schedule", 0.07)]
    message = _message("We have Blue Cross and I work nights", ranking)
    before = _parse(message)
    guard.process([message])
    assert _parse(message) == before


def test_reuses_spacy_nlp_doc_and_keeps_only_entities_that_signal_danger(
    guard: CrisisGuard,
) -> None:
    """As in the real pipeline: SpacyNLP's lowercased doc plus SpacyEntityExtractor's dicts."""
    nlp = nlp_builder.build()
    text = "I'm not suicidal but he's not breathing"
    message = _message(text, [("deny", 0.7), ("crisis", 0.3)])
    message.set(SPACY_DOCS[TEXT], nlp(text.lower()))
    entities = [
        {"entity": e.label_, "value": e.text, "start": e.start_char, "end": e.end_char}
        for e in nlp(text).ents
    ]
    assert {e["value"] for e in entities} >= {"suicidal", "he's not breathing"}
    message.set(ENTITIES, entities, add_to_output=True)

    guard.process([message])

    assert message.get(INTENT)["name"] == "crisis"
    assert message.get("crisis_kind") == "medical_emergency"
    kept = {e["value"] for e in message.get(ENTITIES) if e["entity"] == "crisis"}
    assert kept == {"he's not breathing"}


def test_a_negated_crisis_entity_is_dropped(guard: CrisisGuard) -> None:
    text = "I have no thoughts of self harm"
    start = text.index("self harm")
    message = _message(text, [("deny", 0.9)])
    message.set(
        ENTITIES,
        [
            {"entity": "crisis", "value": "self harm", "start": start, "end": start + 9},
            {"entity": "payer", "value": "Aetna", "start": 0, "end": 1},
        ],
        add_to_output=True,
    )
    guard.process([message])
    assert [e["entity"] for e in message.get(ENTITIES)] == ["payer"]
    assert message.get(INTENT)["name"] == "deny"


def test_a_denied_safe_never_reads_as_safe() -> None:
    """ "no I'm not safe" classified as im_safe is turned into the crisis intent."""
    from rasa.shared.nlu.training_data.message import Message

    from rasa_addons.crisis_guard import CrisisGuard

    guard = CrisisGuard({})
    for text, intent, crisis in [
        ("no I'm not safe", "im_safe", True),
        ("i'm not okay", "im_safe", True),
        ("I'm safe now", "im_safe", False),
        ("i'm not in danger", "im_safe", False),
    ]:
        message = Message(data={"text": text})
        message.set("intent", {"name": intent, "confidence": 0.75})
        message.set("intent_ranking", [{"name": intent, "confidence": 0.75}])
        guard.process([message])
        assert (message.get("intent")["name"] == "crisis") is crisis, text


def test_idioms_found_by_first_word_are_those_found_everywhere() -> None:
    """The guard's idiom search starts only where an idiom's first word is (speed); it finds
    exactly what trying every idiom at every position finds, in the crisis file's order."""
    import yaml

    from admissions import safety

    cases = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "admissions" / "crisis_cases.yml").read_text()
    )
    texts: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            texts.add(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cases)
    ctx = safety.patterns.context()
    texts.update(phrase for phrase, _ in ctx.idioms)  # every idiom, said on its own
    texts.update(f"honestly {phrase} lately, 2019 was worse" for phrase, _ in ctx.idioms)
    nlp = safety.crisis_pipeline()
    found_some = 0
    for text in sorted(texts):
        judge = safety.judge.Judge(nlp(text), ctx)
        everywhere = tuple(
            phrase
            for phrase, seq in ctx.idioms
            if safety.judge.contains_seq(judge.words, judge.nums, 0, len(judge.words), seq)
        )
        assert judge.idioms() == everywhere, text
        found_some += bool(everywhere)
    assert found_some >= len(ctx.idioms)
