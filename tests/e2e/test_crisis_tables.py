"""Every crisis phrasing gets the crisis reply over the real REST channel, as the first
message and inside the assessment form; ordinary messages rarely do (false alarms <= 3 %)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from servers import Stack

CASES = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "admissions" / "crisis_cases.yml").read_text()
)
NEEDLES = ("911", "988", "1-800-662-4357", "833-820-2922")


def _gets_crisis_reply(live: Stack, text: str, inside_form: bool) -> bool:
    sender = f"crisis-{uuid.uuid4().hex}"
    if inside_form:
        live.say(sender, "I want help to stop drinking")
        assert live.tracker(sender)["active_loop"].get("name") == "assessment_form"
    reply = "\n".join(r.get("text", "") for r in live.say(sender, text))
    return all(n in reply for n in NEEDLES)


def _run(live: Stack, texts: list[str], inside_form: bool) -> list[str]:
    """Texts that did NOT get the crisis reply."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: _gets_crisis_reply(live, t, inside_form), texts))
    return [t for t, ok in zip(texts, results, strict=True) if not ok]


def test_every_crisis_phrasing_as_first_message(live: Stack) -> None:
    """100 % recall on the positive table, first message."""
    missed = _run(live, [c["text"] for c in CASES["positive"]], inside_form=False)
    print(f"crisis recall (first message): {1 - len(missed) / len(CASES['positive']):.1%}")
    assert missed == []


def test_every_crisis_phrasing_inside_the_form(live: Stack) -> None:
    """100 % recall on the positive table, in the middle of the assessment."""
    missed = _run(live, [c["text"] for c in CASES["positive"]], inside_form=True)
    print(f"crisis recall (inside the form): {1 - len(missed) / len(CASES['positive']):.1%}")
    assert missed == []


# The safety issue's target: at most 3 % of ordinary messages get the crisis reply.
FALSE_ALARM_BOUND = 0.03


def test_false_alarms_on_ordinary_messages_stay_low(live: Stack) -> None:
    """Idioms, negations and ordinary admissions messages rarely trigger the crisis reply."""
    negatives = list(CASES["negative"])
    not_flagged = set(_run(live, negatives, inside_form=False))  # one pass over the table
    flagged = [t for t in negatives if t not in not_flagged]
    rate = len(flagged) / len(negatives)
    print(f"false alarms: {len(flagged)}/{len(negatives)} = {rate:.1%}: {flagged}")
    assert rate <= FALSE_ALARM_BOUND
