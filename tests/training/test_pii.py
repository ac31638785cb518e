"""The personal-details detector: what it must find, what it must leave alone, redaction."""

from __future__ import annotations

import pytest
import yaml

from admissions.training import pii
from tests.training.conftest import REPO

FOUND = [
    ("call me at 555-867-5309", "phone", "555-867-5309"),
    ("my number is (212) 555-7788", "phone", "(212) 555-7788"),
    ("text +1 212 555 7788 after 6", "phone", "+1 212 555 7788"),
    ("it's 2125557788", "phone", "2125557788"),
    ("reach me on 867-5309", "phone", "867-5309"),
    ("email me at jo.b+x@gmail.com", "email", "jo.b+x@gmail.com"),
    ("write to jo at yahoo dot com", "email", "jo at yahoo dot com"),
    ("my name is jessica", "name", "jessica"),
    ("my name is jessica smith and i drink", "name", "jessica smith"),
    ("Hi, I'm Sarah Lopez", "name", "Sarah Lopez"),
    ("my son Jake is using again", "name", "Jake"),
    ("my wife maria drinks every night", "name", "maria"),
    ("my mom, Linda, wants to know the cost", "name", "Linda"),
    ("this is Mark", "name", "Mark"),
    ("can Will come to family night", "name", "Will"),
    ("we saw Dr. Okafor last week", "name", "Okafor"),
    ("call me Bex", "name", "Bex"),
    ("my names josh", "name", "josh"),
]
CLEAN = [
    "i drink every day",
    "I will call tomorrow",
    "Will my insurance cover it",
    "I hope so",
    "my name is not important",
    "i'm scared my husband will see this",
    "call me back please",
    "ask for help",
    "It is Monday",
    "I'm free after 5 on weekdays",
    "my kids are 5 and 7",
    "i make 45000 a year",
    "call 833-820-2922",  # the facility's own admissions line
    "call 1 (833) 820-2922",
    "my number is 555-0142",  # fictional range reserved for examples
    "write to name@example.com",
    "my name is NAME",
]


@pytest.mark.parametrize(("text", "kind", "span"), FOUND)
def test_finds_personal_details(text: str, kind: str, span: str) -> None:
    findings = pii.find(text)
    assert [(f.kind, f.text) for f in findings] == [(kind, span)]
    assert text[findings[0].start : findings[0].end] == span


@pytest.mark.parametrize("text", CLEAN)
def test_leaves_ordinary_messages_alone(text: str) -> None:
    assert pii.find(text) == []


def test_redaction_replaces_everything_and_is_not_found_again() -> None:
    text = "I'm Sarah Lopez, call 555-867-5309 or mail sarah.l@gmail.com about my son Jake"
    redacted = pii.redact(text)
    assert redacted == "I'm NAME, call 555-0100 or mail name@example.com about my son NAME"
    assert pii.find(redacted) == []


def test_several_findings_are_described_without_the_details() -> None:
    findings = pii.find("my name is Ann, my son Jake, call 555-867-5309")
    assert pii.describe(findings) == "2 names and a phone number"
    assert "Ann" not in pii.describe(findings)


def test_segments_cover_the_text_in_order() -> None:
    text = "my son Jake is 17"
    pieces = pii.segments(text, pii.find(text))
    assert "".join(p for p, _ in pieces) == text
    assert ("Jake", "name") in pieces


def test_false_alarm_rate_on_the_training_data_is_small() -> None:
    """The detector must not block ordinary admissions language (celebrities in CLINC150
    out-of-scope questions are the known exceptions)."""
    texts = []
    for path in sorted((REPO / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            texts += [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
    flagged = [t for t in texts if pii.find(t)]
    assert len(texts) > 1500
    assert len(flagged) / len(texts) < 0.01, flagged
