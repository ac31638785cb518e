"""The crisis safety net catches danger now and stays quiet on ordinary admissions messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from admissions import safety
from admissions.safety import CrisisSignal, detect_crisis, screen, signal_from_entities
from admissions.understanding import pipeline as nlp_builder

CASES = yaml.safe_load((Path(__file__).parent / "crisis_cases.yml").read_text(encoding="utf-8"))
POSITIVE: list[dict[str, str]] = CASES["positive"]
NEGATIVE: list[str] = CASES["negative"]
MAX_FALSE_ALARM_RATE = 0.03


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


@pytest.fixture(scope="module")
def project_pipeline() -> Any:
    """The pipeline Rasa's SpacyNLP loads: every pattern file, not only crisis.yml."""
    return nlp_builder.build()


def test_case_tables_are_large_and_well_formed() -> None:
    assert len(POSITIVE) >= 100
    assert len(NEGATIVE) >= 100
    assert {case["kind"] for case in POSITIVE} == set(safety.KINDS)
    texts = [case["text"] for case in POSITIVE] + NEGATIVE
    assert len(texts) == len(set(texts)), "a case appears twice"


@pytest.mark.parametrize("case", POSITIVE, ids=[_short(c["text"]) for c in POSITIVE])
def test_every_positive_phrasing_is_caught_with_its_category(case: dict[str, str]) -> None:
    signal = detect_crisis(case["text"])
    assert signal is not None, f"missed: {case['text']!r}"
    assert signal.kind == case["kind"]
    assert case["text"][signal.start : signal.end] == signal.text


def test_false_alarm_rate_on_ordinary_messages_is_at_most_three_percent() -> None:
    alarms = [(text, detect_crisis(text)) for text in NEGATIVE]
    false_alarms = [(text, s) for text, s in alarms if s is not None]
    rate = len(false_alarms) / len(NEGATIVE)
    caught = sum(detect_crisis(case["text"]) is not None for case in POSITIVE)
    print(
        f"\ncrisis safety net: recall {caught}/{len(POSITIVE)} = {caught / len(POSITIVE):.2%}, "
        f"false alarms {len(false_alarms)}/{len(NEGATIVE)} = {rate:.2%}"
    )
    for text, s in false_alarms:
        print(f"  false alarm ({s.kind if s else ''}): {text}")
    assert rate <= MAX_FALSE_ALARM_RATE


def test_project_pipeline_finds_every_crisis_phrase_too(project_pipeline: Any) -> None:
    """Patterns of other labels (schedule, payer...) must never shadow a crisis phrase."""
    missed = [c["text"] for c in POSITIVE if detect_crisis(c["text"], project_pipeline) is None]
    assert missed == []


def test_signal_points_at_the_phrase_buried_mid_paragraph() -> None:
    text = (
        "Hi, I work Monday to Friday and have Aetna. Honestly my brother is on the couch "
        "and he won't wake up. Do you have evening groups?"
    )
    signal = detect_crisis(text)
    assert signal == CrisisSignal(
        "medical_emergency", "won't wake up", text.index("won't"), text.index(" Do you") - 1
    )


def test_shouting_and_curly_apostrophes_are_caught() -> None:
    assert detect_crisis("I WANT TO DIE") is not None
    signal = detect_crisis("I don\u2019t want to be alive anymore")
    assert signal is not None and signal.text == "don\u2019t want to be alive"


def test_the_most_urgent_category_is_reported() -> None:
    signal = detect_crisis("I want to die. My brother took a bunch of pills and isn't breathing")
    assert signal is not None and signal.kind == "medical_emergency"
    found = screen("I want to die. My brother took a bunch of pills and isn't breathing")
    assert {s.kind for s in found.signals} == {"suicide", "overdose", "medical_emergency"}


def test_general_questions_about_overdose_are_informational_but_a_person_now_is_not() -> None:
    assert detect_crisis("how do you know if someone overdosed?") is None
    assert detect_crisis("what are the signs of an overdose?") is None
    assert detect_crisis("how do I know if my son is overdosing?") is not None
    assert detect_crisis("how do you know if someone overdosed? he's not breathing") is not None
    # states of a person are never "informational", even as a question
    assert detect_crisis("what do I do if someone is not breathing?") is not None


def test_past_withdrawal_is_history_unless_it_is_happening_now() -> None:
    assert detect_crisis("I had seizures last time I quit drinking") is None
    assert detect_crisis("I've had the DTs before.") is None
    assert detect_crisis("I had seizures last time I quit and I'm seizing again now") is not None
    assert detect_crisis("I quit two days ago and now I'm seeing things") is not None
    assert detect_crisis("he took pills before bed and won't wake up") is not None


def test_past_suicide_attempts_still_count() -> None:
    signal = detect_crisis("I attempted suicide years ago")
    assert signal is not None and signal.kind == "suicide"


def test_negations_are_per_phrase_and_contrasts_restore_them() -> None:
    assert detect_crisis("I'm not suicidal") is None
    assert detect_crisis("I'm not suicidal but I've been thinking about ending it all") is not None
    assert detect_crisis("I'm not suicidal but my sister is") is not None
    assert detect_crisis("I don't want to call 911, he'll get arrested") is not None


def test_screening_says_when_a_message_is_only_figurative() -> None:
    assert screen("I'm not suicidal").figurative
    assert screen("this job is killing me").figurative
    assert not screen("I had seizures last time I quit").figurative
    assert not screen("I want to die").figurative
    assert not screen("Do you take Medicaid?").figurative


def test_signal_from_rasa_entities_recovers_the_category_and_judges_context() -> None:
    text = "my brother took a bunch of pills and won't wake up"
    start = text.index("won't")
    entity = {"entity": "crisis", "value": "won't wake up", "start": start, "end": start + 13}
    signal = signal_from_entities(text, [entity])
    assert signal == CrisisSignal("medical_emergency", "won't wake up", start, start + 13)

    negated = "I'm not suicidal"
    ent = {"entity": "crisis", "value": "suicidal", "start": 8, "end": 16, "extractor": "x"}
    assert signal_from_entities(negated, [ent]) is None
    other = {"entity": "payer", "value": "Aetna", "start": 0, "end": 5}
    assert signal_from_entities("Aetna", [other]) is None


def test_signal_from_spacy_spans_of_the_project_pipeline(project_pipeline: Any) -> None:
    text = "she's talking about ending her life"
    doc = project_pipeline(text)
    signal = signal_from_entities(text, list(doc.ents))
    assert signal is not None and signal.kind == "suicide" and signal.text == "ending her life"


def test_every_category_has_patterns_and_the_builder_compiles_them() -> None:
    patterns = safety.crisis_patterns()
    assert {p["id"] for p in patterns} == set(safety.KINDS)
    built = [p for p in nlp_builder.load_patterns() if p["label"] == safety.CRISIS_LABEL]
    assert len(built) == len(patterns)


def test_an_unquoted_yaml_no_in_a_pattern_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "crisis.yml"
    bad.write_text(
        "patterns:\n  - label: crisis\n    id: suicide\n"
        "    tokens: [{LOWER: {IN: [no, none]}}, {LOWER: hope}]\n",
        encoding="utf-8",
    )
    with pytest.raises(nlp_builder.PatternError, match="quote"):
        safety.crisis_patterns(bad)


# ---------------------------------------------------------------- warning signs, safe contexts

WARNING_SIGNS = [
    "i have a noose in my closet",
    "i just loaded my dad's pistol",
    "i'm sitting in my garage with the car running and the door shut",
    "no one would even notice if i was gone",
    "this is my last message to anyone",
    "my husband grabbed me by the throat and i'm hiding in the bathroom",
]


@pytest.mark.parametrize("text", WARNING_SIGNS)
def test_warning_signs_without_kill_words_are_caught(text: str) -> None:
    assert safety.detect_crisis(text) is not None


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("I sprained my wrist playing soccer", "activity_injury"),
        ("i take my suboxone every morning", "routine_medication"),
        ("i'm cutting back to two drinks a night", "cutting_back"),
        ("i lost my brother to fentanyl", None),  # no "I've": could be news right now
        ("i've lost two friends to fentanyl", "life_history"),
        ("I'm at the end of my rope", None),  # hopelessness: left to the classifier
        ("narcan saved my life but right now i can't breathe", None),  # now wins
        # withdrawal told as history answers "have you had withdrawal?", not an emergency
        (
            "when I tried skipping a night I couldn't sleep and my heart was racing",
            "past_withdrawal",
        ),
        ("every time i stop drinking i get the shakes and sweat", "past_withdrawal"),
        (
            "no, just the shakes and sweating in the morning till I have a drink",
            "habitual_withdrawal",
        ),
        ("i'm shaking and sweating and can't stop throwing up", None),  # no drink ends it
        ("i stopped drinking yesterday and my heart is racing right now", None),  # now wins
        ("my heart is racing and i can't stop shaking", None),  # no history: classifier decides
    ],
)
def test_safe_contexts(text: str, context: str | None) -> None:
    assert safety.safe_context(text) == context


# Danger now, or a look-alike, by the rule that decides it.
DANGER_OR_NOT = [
    # taking all one's meds as a routine is adherence; "at once"/"tonight" is not
    ("I take all my meds every morning", False),
    ("she takes all her pills as prescribed", False),
    ("i'm going to take all my pills at once", True),
    ("i want to take all my meds tonight", True),
    # means gathered in one place, finality with a time, shut in with a weapon
    ("i have all my pills counted out on the counter", True),
    ("tonight is my last night alive", True),
    ("she locked herself in the bathroom with a knife", True),
    ("i've said my goodbyes to my kids", True),
    ("it all ends tonight", True),
    ("my last night in detox was really hard", False),
    ("tonight is the last night i drink, tomorrow i call you", False),
    ("this is my last night of using", False),
    ("i counted my drinks and it was 12", False),
    ("my brother locked himself out of the house again", False),
    # a loved one's withdrawal history, told in the third person, is history; "now" wins
    ("he gets really shaky and once had a seizure when he stopped", False),
    ("she had the dts when she quit last time", False),
    ("will he have a seizure if he stops drinking", False),
    ("he had a seizure when he stopped and he's having one now", True),
    ("my dad is having a seizure right now, he quit drinking two days ago", True),
]


@pytest.mark.parametrize(("text", "danger"), DANGER_OR_NOT, ids=[t for t, _ in DANGER_OR_NOT])
def test_danger_now_versus_look_alikes(text: str, danger: bool) -> None:
    assert (safety.detect_crisis(text) is not None) is danger
