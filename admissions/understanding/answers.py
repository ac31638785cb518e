"""Short answers in free text: yes/no, severe withdrawal, stepping away from work, corrections.

* ``read_answer``: "yes every day" -> True, "nah not really" -> False, "sometimes" -> None.
  Only the start of the message counts; hedges there ("maybe", "kinda", "not sure") give None.
* ``read_severe_withdrawal``: seizures, convulsions, hallucinations, DTs mentioned -> True,
  all of them negated ("never had a seizure") -> False, none mentioned -> None. The words
  are kept here because they are a screening question, not a schedule/care/payment entity.
* ``read_leave``: ``leave`` spans (FMLA, time off, summer break) -> True; negated or
  "can't miss work" -> False; the last mention wins.
* ``read_correction``: "actually", "I meant", "scratch that"... -> True.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from admissions.understanding.text import NEGATORS, lower_tokens, preceded_by, sentence_ids, words

if TYPE_CHECKING:
    from spacy.tokens import Doc

_FIRST_CLAUSE = re.compile(r"[^.!?;,\n]*")
_HEDGE = re.compile(
    r"\b(sometimes|maybe|not sure|unsure|idk|i don'?t know|dunno|kind of|kinda|sort of|sorta|"
    r"depends|occasionally|i think so|i guess|possibly|probably|perhaps|partly|a little|"
    r"somewhat|on and off|off and on|now and then|yes and no|hard to say|not always|"
    r"once in a while|here and there|not exactly|ish)\b"
)
_STRONG_YES = re.compile(
    r"^(yes+|yess+|yeah+|yeh|yea+h?|yep+|yup+|ya+|yas+|ye+|yes+ir|sure|absolutely|definitely|"
    r"def|of course|ofc|mhm+|mm+ ?hm+|uh[- ]?huh|totally|for sure|certainly|affirmative|"
    r"indeed|you bet|yessum|aye)\b"
)
_WEAK_YES = re.compile(
    r"^(i do|i am|i'm|i have|i did|i can|i will|i could|correct|right|true|that's right|"
    r"thats right|that is right|exactly|always|every day|everyday|daily|all the time|a lot|"
    r"often|i have been|it is|it does|they do|he does|she does|we do|ok|okay)( really)?\W*$"
)
_STRONG_NO = re.compile(
    r"^(nope|nah*|naw+|nop|never|not really|not at all|no way|hell no|nada|negative|"
    r"not anymore|no+)\b(?! (problem|worries|doubt|matter))"
)
_WEAK_NO = re.compile(
    r"^(i don'?t|i do not|i haven'?t|i have not|i'?m not|i am not|i can'?t|i cannot|i won'?t|"
    r"i didn'?t|i did not|none|nothing|not|it doesn'?t|it isn'?t|they don'?t|we don'?t|"
    r"he doesn'?t|she doesn'?t)( really)?\W*$"
)
_CORRECTION = re.compile(
    r"\b(actually|i meant|i mean|correction|no wait|wait no|scratch that|let me correct|"
    r"i was wrong|not anymore|i misspoke|i changed|changed my|not what i meant|my mistake|"
    r"i lied|to correct)\b"
)
_SEVERE = re.compile(
    r"^(seiz\w*|convuls\w*|dts|dt's|d\.t\.s?\.?|delirium|hallucinat\w*|tremens|fits)$"
)
_SEVERE_PAIRS = {
    ("seeing", "things"),
    ("saw", "things"),
    ("hearing", "things"),
    ("heard", "things"),
    ("hearing", "voices"),
    ("heard", "voices"),
    ("seeing", "bugs"),
    ("saw", "bugs"),
    ("bugs", "crawling"),
}
_SEVERE_FILLER = words(
    "had have has any a an ever been experienced experience got gotten get or and like "
    "real major the bad serious 've did do i signs of think remember recall having from "
    "with anything nor , things seeing hearing"
)
_LEAVE_FILLER = words(
    "take get have any a some the my to off be able do really afford can could i think "
    "will would ca wo 'll use request ask for even paid go on"
)
_LEAVE_NEGATORS = NEGATORS | {"cant", "wont", "unable"}


def read_answer(text: str) -> bool | None:
    """A yes/no answer at the start of the message, or None when there is none or it hedges."""
    lowered = text.strip().lower()
    match = _FIRST_CLAUSE.match(lowered)
    clause = (match.group(0) if match else "").strip()
    if not clause or _HEDGE.search(clause):
        return None
    yes = bool(_STRONG_YES.match(clause) or _WEAK_YES.match(clause))
    no = bool(_STRONG_NO.match(clause) or _WEAK_NO.match(clause))
    if yes == no:
        return None
    return yes


def read_severe_withdrawal(doc: Doc) -> bool | None:
    """True when seizures, hallucinations or DTs are mentioned and not negated."""
    words = lower_tokens(doc)
    sent = sentence_ids(doc)
    mentions: list[int] = []
    for i, word in enumerate(words):
        if _SEVERE.match(word):
            if word == "fits" and i > 0 and words[i - 1] not in {"had", "having", "have", "get"}:
                continue
            mentions.append(i)
        elif i + 1 < len(words) and (word, words[i + 1]) in _SEVERE_PAIRS:
            mentions.append(i)
    if not mentions:
        return None
    filler = _SEVERE_FILLER | {words[i] for i in mentions}
    for i in mentions:
        if not preceded_by(words, sent, i, NEGATORS, filler, window=8):
            return True
    return False


def read_leave(doc: Doc) -> bool | None:
    """Whether the visitor says they can step away from work or school (last mention wins)."""
    words = lower_tokens(doc)
    sent = sentence_ids(doc)
    result: bool | None = None
    for ent in doc.ents:
        if ent.label_ != "leave":
            continue
        if ent.ent_id_ == "no":
            result = False
        else:
            negated = preceded_by(words, sent, ent.start, _LEAVE_NEGATORS, _LEAVE_FILLER, 6)
            result = not negated
    return result


def read_correction(text: str) -> bool:
    """True when the visitor corrects something said before ("actually I work nights")."""
    return bool(_CORRECTION.search(text.lower()))
