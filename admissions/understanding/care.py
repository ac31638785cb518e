"""Who depends on the visitor, from ``care_relation`` and ``care_duty`` spans.

Values: ``child``, ``children`` (two or more, "kids", "mom of 3"), ``infant``, ``mother``,
``father``, ``parent`` (parents, in-laws), ``partner``, ``grandparent``, ``grandchild``,
``sibling``, ``relative`` (aunt, cousin...), ``pet``. Children, babies, grandchildren and
pets count when they are the visitor's own ("my kids", "two kids", "have a dog"); adults
count only with a care phrase ("I take care of my mom", "my dad lives with me",
"my sick mother"). "No kids", "nobody depends on me", "I live alone" give ``[]``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from admissions.understanding.text import (
    NEGATORS,
    lower_tokens,
    numbers_in,
    preceded_by,
    sentence_ids,
    words,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

CARE_VALUES: tuple[str, ...] = (
    "child",
    "children",
    "infant",
    "mother",
    "father",
    "parent",
    "partner",
    "grandparent",
    "grandchild",
    "sibling",
    "relative",
    "pet",
)
_OWN_KINDS = {"child", "infant", "grandchild", "pet"}
_PLURAL_WORDS = words(
    "kids children childern chidren sons daughters twins toddlers stepkids stepchildren "
    "ones teenagers teens boys girls kiddos"
)
_POSSESSIVE = words("my our have has got 've with raising a an of own mine both")
_SELF_EVIDENT = ("single", "stay", "sahm", "sahd", "full", "mom", "mother", "dad", "father")
_NEG_FILLER = {"have", "any", "got", "do", "my", "own", "small", "little", "young", "a"}
_ADULT_AGE = re.compile(
    r"\b(?:is|he's|she's|hes|shes|he 's|she 's|aged?|turned|turning)\s+(?:1[89]|[2-9]\d)\b"
    r"|\b(?:1[89]|[2-9]\d)\s*(?:-?\s*years?\s*-?\s*old|yo|y/o|yrs?\s*old)\s+(?:son|daughter|kid|child)"
)
_PRONOUNS = {"her", "him", "them", "'em", "em", "both", "it"}


def _sentence_text(doc: Doc, sent: list[int], i: int) -> str:
    """The lowercase text of the sentence holding token ``i``."""
    return " ".join(t.lower_ for t in doc if sent[t.i] == sent[i])


def _own(words: list[str], sent: list[int], ent: Span) -> bool:
    """True when the text makes the child or pet the visitor's own ("my", "two", "have a")."""
    text = ent.text.lower()
    if text.startswith(_SELF_EVIDENT) or any(ch.isdigit() for ch in text):
        return True
    for i in range(max(0, ent.start - 3), ent.start):
        if sent[i] == sent[ent.start] and (words[i] in _POSSESSIVE or ent.doc[i].like_num):
            return True
    return False


def _age_kind(ent: Span) -> str | None:
    """For "my 6 year old": child under 18, infant under 2 (or months); None for adults."""
    text = ent.text.lower()
    if "old" not in text.split()[-1:]:
        return "child"
    numbers = numbers_in(text)
    if not numbers:
        return "child"
    if "month" in text:
        return "infant" if numbers[0] < 24 else "child"
    if numbers[0] < 2:
        return "infant"
    return "child" if numbers[0] < 18 else None


def _plural(ent: Span) -> bool:
    """True when a child mention names several children ("kids", "mom of 3")."""
    text = ent.text.lower()
    if text.split()[-1] in _PLURAL_WORDS:
        return True
    return any(n > 1 for n in numbers_in(text)) and "old" not in text


def _cared_adult(ent: Span, duties: list[Span], sent: list[int], words: list[str]) -> bool:
    """True when a care phrase ties this adult relation to the visitor."""
    for duty in duties:
        kind = duty.ent_id_
        same = sent[duty.start] == sent[ent.start]
        gap = min(abs(duty.start - ent.end), abs(ent.start - duty.end))
        if kind == "condition" and gap <= 3 and same:
            return True
        if kind == "caregiver" and same:
            return True
        if kind == "depends" and same and duty.start >= ent.end:
            return True
        if kind == "care":
            if same and ent.start >= duty.end:
                return True
            pronoun = words[duty.end] if duty.end < len(words) else ""
            earlier = sent[duty.start] - sent[ent.start] in {0, 1} and ent.end <= duty.start
            if pronoun in _PRONOUNS and earlier:
                return True
    return False


_NOBODY = re.compile(
    r"^\W*(?:nobody|no one|noone|none|no body|nope,? nobody|just me|only me|just myself|"
    r"it'?s just me|i live alone|no kids|no dependents|not really|nah|nope|no)\b"
)


_NOBODY_AT_END = re.compile(
    r"\b(?:so|then|now|really)?,?\s*(?:nobody|no one|noone)(?: really)?\W*$"
)


def read_caregiving(doc: Doc, asked: bool = False) -> list[str] | None:
    """Caregiving relations in the message; ``[]`` for "nobody depends on me"; None if silent.

    ``asked``: the message answers "does anyone depend on you for daily care?", so a bare
    "my mom" names someone they care for (without the question it needs a care phrase).
    """
    words = lower_tokens(doc)
    sent = sentence_ids(doc)
    relations = [e for e in doc.ents if e.label_ == "care_relation"]
    duties = [e for e in doc.ents if e.label_ == "care_duty"]
    found: list[str] = []
    children = 0
    said_none = False
    for ent in relations:
        kind = ent.ent_id_
        if kind == "none":
            said_none = True
            continue
        if preceded_by(words, sent, ent.start, NEGATORS, _NEG_FILLER, window=4):
            said_none = True
            continue
        if kind in _OWN_KINDS:
            if ent.end < len(doc) and doc[ent.end].ent_type_ == "care_relation":
                continue  # "a 16 year old daughter": the age describes the next word
            if kind == "child":
                kind = _age_kind(ent) or ""
                if not kind or _ADULT_AGE.search(_sentence_text(doc, sent, ent.start)):
                    continue  # "my son, he is 24" is not a dependent child
            if not (asked or _own(words, sent, ent) or _cared_adult(ent, duties, sent, words)):
                continue
            if kind == "child":
                children += 2 if _plural(ent) else 1
        elif not (asked or _cared_adult(ent, duties, sent, words)):
            continue
        if kind not in found:
            found.append(kind)
    if children > 1 and "child" in found:
        found[found.index("child")] = "children"
    if found:
        return found
    if asked and (_NOBODY.match(doc.text.lower()) or _NOBODY_AT_END.search(doc.text.lower())):
        said_none = True
    return [] if said_none else None
