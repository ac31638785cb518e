"""Deterministic crisis safety net: finds messages that signal danger now.

The crisis phrases live in ``admissions/understanding/patterns/crisis.yml`` (entity-ruler
patterns, label ``crisis``, ``id`` = category) together with the context rules used here.
Every candidate span is judged in its sentence and set aside (a ``Dismissal``) when it is

* ``negated`` - "I'm not suicidal", "never thought of killing myself", "no thoughts of self
  harm", "suicidal thoughts? no". A short contrast restores it ("I'm not suicidal but my
  sister is"); a negated call for help is still one ("I don't want to call 911");
* an ``idiom`` - "take my life back", "don't want to live like this", "shoot him a text",
  "I can't wake up early";
* ``not_now`` - an acute event (overdose, medical emergency, withdrawal danger) that the
  sentence puts in the past, a vague future or a habit: "I had seizures last time I quit",
  "my friend died of an overdose", "I'm worried about seizures when I stop drinking".
  A "now" in the sentence wins: "I quit two days ago and now I'm seeing things";
* ``informational`` - a general question with no specific person and nothing about now that
  names an overdose, narcan, withdrawal seizures, hallucinations or the DTs ("what are the
  signs of an overdose?", "how do you know if someone overdosed?"). The same question about a
  person ("how do I know if my son is overdosing?") is a crisis, and so is every state of a
  person ("not breathing", "won't wake up", "hallucinating"), question or not.

When in doubt the net errs toward safety: the crisis reply is a check-in with 911 / 988 /
SAMHSA, not an accusation. So suicide, self-harm and violence are never informational and are
not dismissed as history - a past attempt is the strongest sign of future risk - with one
exception: someone else's suicide dated in the past ("my cousin took his own life in 2015")
is bereavement. Past or feared withdrawal seizures and DTs are not an emergency now; the
assessment routes them to medical detox. Ordinary withdrawal ("I get the shakes in the
morning") has no crisis pattern at all.

The parts: ``patterns`` (the rule knowledge from crisis.yml, loaded once), ``judge`` (one
phrase in its sentence: a signal, or set aside and why) and ``screen`` (a whole message, and
the public calls below). Rasa-free: the pipeline component in ``rasa_addons/crisis_guard.py``
is a thin adapter.
"""

from __future__ import annotations

from admissions.safety.judge import IDIOM, INFORMATIONAL, NEGATED, NOT_NOW
from admissions.safety.patterns import (
    ACUTE_KINDS,
    CRISIS_FILE,
    CRISIS_LABEL,
    KINDS,
    UNKNOWN_KIND,
    crisis_patterns,
    crisis_pipeline,
)
from admissions.safety.screen import (
    CrisisSignal,
    Dismissal,
    Screening,
    detect_crisis,
    safe_context,
    screen,
    screen_entities,
    signal_from_entities,
)

__all__ = [
    "ACUTE_KINDS",
    "CRISIS_FILE",
    "CRISIS_LABEL",
    "IDIOM",
    "INFORMATIONAL",
    "KINDS",
    "NEGATED",
    "NOT_NOW",
    "UNKNOWN_KIND",
    "CrisisSignal",
    "Dismissal",
    "Screening",
    "crisis_patterns",
    "crisis_pipeline",
    "detect_crisis",
    "safe_context",
    "screen",
    "screen_entities",
    "signal_from_entities",
]
