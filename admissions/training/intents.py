"""What each intent means, in a line, with two examples from the training data.

Trainers are not programmers: when they label a visitor's message, each intent is shown with a
one-line description and two of its training examples, so "crisis" and "ready_to_start" are
chosen for what they mean, not for their names. Examples holding personal details (or the
placeholders that replaced them) are never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from admissions.training import nludata, pii

# One line per intent of domain.yml, in the visitor's terms.
DESCRIPTIONS: dict[str, str] = {
    "greet": "Says hello or opens the chat, with no question yet.",
    "goodbye": "Is leaving the chat now.",
    "affirm": "Says yes, or agrees with what the assistant just asked or said.",
    "deny": "Says no, or that what the assistant said is wrong.",
    "bot_challenge": "Asks whether they are talking to a bot or a person.",
    "ready_to_start": "Wants help for their own drinking or drug use (including 'me', 'myself').",
    "not_ready": "Is only looking, unsure, or not ready to start treatment.",
    "for_someone_else": "Is asking for someone they care about (a son, a wife, a friend).",
    "ask_cost": "Asks what treatment costs or whether their insurance pays.",
    "inform_cost": "Says how they would pay: their insurer, Medicaid, paying themselves.",
    "inform_work_school": "Tells their work or school hours, or that they do not work.",
    "inform_caregiving": "Tells who they look after (children, a parent) and when.",
    "inform_schedule": "Tells when they are free for treatment.",
    "ask_program_info": "Asks what a program is or how treatment works (PHP, IOP, detox, meds).",
    "ask_confidentiality": "Asks whether the chat is private or who will find out.",
    "request_human": "Wants to talk to a person or asks how to reach one.",
    "crisis": "Someone may be in danger right now: suicide, overdose, not waking up.",
    "out_of_scope": "Something the assistant should not handle (weather, sprains, banking).",
    "im_safe": "Says they (or the person they asked about) are safe now.",
    "forget_me": "Wants their conversation deleted.",
    "thanks": "Says thank you.",
    "request_callback": "Asks admissions to call them back.",
}
NO_DESCRIPTION = "No description yet: read its examples."
MAX_EXAMPLE_LENGTH = 60
# what "Replace them for me" puts in place of personal details: never shown as an example
# (nor anything that looks like a phone number, even a fictional 555 one, or an email)
_PLACEHOLDERS = re.compile(r"\bNAME\b|\bADDRESS\b|\d{3}\D{0,2}\d{4}|@")


@dataclass(frozen=True)
class IntentGuide:
    """One intent as the annotate page offers it."""

    name: str
    description: str
    examples: tuple[str, ...]
    count: int


def _clean(text: str) -> bool:
    return (
        len(text) <= MAX_EXAMPLE_LENGTH
        and not text.startswith("/")
        and not _PLACEHOLDERS.search(text)
        and not pii.find(text)
    )


def pick_examples(texts: list[str], wanted: int = 2) -> tuple[str, ...]:
    """Two examples without personal details: the first, then a longer phrasing."""
    clean = [t for t in texts if _clean(t)]
    if not clean:
        return ()
    picked = [clean[0]]
    longer = len(clean[0].split()) + 2
    rest = [t for t in clean[1:] if nludata.normalise(t) != nludata.normalise(clean[0])]
    rest.sort(key=lambda t: len(t.split()) < max(4, longer))  # stable: longer phrasings first
    picked.extend(rest[: wanted - 1])
    return tuple(picked)


def guide(nlu_dir: Path, domain: Path) -> list[IntentGuide]:
    """Every intent a trainer may choose, with its description, two examples and count."""
    examples: dict[str, list[str]] = {}
    # an intent's main block (its most examples) first: the side blocks hold edge cases
    blocks = sorted(nludata.load_blocks(nlu_dir), key=lambda b: -len(b.examples))
    for block in blocks:
        examples.setdefault(block.intent, []).extend(block.examples)
    return [
        IntentGuide(
            name=name,
            description=DESCRIPTIONS.get(name, NO_DESCRIPTION),
            examples=pick_examples(examples.get(name, [])),
            count=len(examples.get(name, [])),
        )
        for name in nludata.trainable_intents(domain)
    ]
