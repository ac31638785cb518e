"""A small, explainable detector of personal details in visitor messages: phone numbers, email
addresses and people's names. Nothing that it finds may enter the training data.

What it finds
* **Phone numbers**: 7 to 15 digits written as one number, optionally split by spaces, dots,
  dashes or brackets, optionally with a leading ``+`` ("(555) 867-5309", "555.867.5309",
  "+1 555 867 5309", "8675309"). The facility's own admissions number and the fictional range
  555-0100 to 555-0199 (reserved for examples) are not personal.
* **Email addresses**: ``name@domain.tld`` and the spelled-out "name at gmail dot com".
  Addresses at example.com / .org / .net (reserved for examples) are not personal.
* **Names**:
  - after a phrase that introduces a name: "my name is X", "my name's X", "I'm called X",
    "call me X", "this is X speaking", "ask for X", "it's X here", and relations followed by a
    capitalised word or a listed name ("my son Jake", "my wife is Maria", "my mom, Linda");
  - any word on the list of common US first names (``data/first_names.txt``), whatever its
    case. Listed names that are also ordinary words ("will", "hope", "mark") count only when
    capitalised in mid-sentence or when introduced as above;
  - a capitalised word right after a found first name is taken as the surname ("Maria Lopez").

It is deliberately cautious (a false alarm only asks the trainer to rephrase) and simple:
nicknames, rare names, names typed in lower case without an introducing phrase, street
addresses and dates of birth are *not* detected. Trainers are told so on the annotate page.

Replacements (``redact``) keep the sentence natural for training: a name becomes ``NAME``,
a phone number ``555-0100``, an email ``name@example.com``; none of them is found again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NAMES_FILE = Path(__file__).with_name("data") / "first_names.txt"
FACILITY_PHONES: tuple[str, ...] = ("8338202922",)
REPLACEMENTS = {"name": "NAME", "phone": "555-0100", "email": "name@example.com"}
KINDS = {"name": "a name", "phone": "a phone number", "email": "an email address"}

_PHONE = re.compile(r"(?<![\w+(])\+?\(?\d(?:[ \t().\-]{0,2}\d){6,14}(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_EMAIL_SPELLED = re.compile(
    r"\b[\w.+-]+\s*(?:\(at\)|\[at\]|\bat\b)\s*[A-Za-z0-9-]+\s*(?:\(dot\)|\[dot\]|\bdot\b|\.)\s*"
    r"(?:com|net|org|edu|gov|us|io|co)\b",
    re.IGNORECASE,
)
_WORD = r"[A-Za-z][A-Za-z'’\-]*"
_INTRO = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|my\s+names|name\s+is|i\s+am\s+called|i'm\s+called|"
    r"im\s+called|call\s+me|ask\s+for|this\s+is|it's|its|i\s+am|i'm|im)\s+(" + _WORD + r")",
    re.IGNORECASE,
)
# Introductions that name whatever follows; the rest ("this is", "i'm") need a listed name or
# a capitalised word.
_STRONG_INTRO = re.compile(
    r"^(?:my\s+name\s+is|my\s+name's|my\s+names|name\s+is|i\s+am\s+called|i'm\s+called|"
    r"im\s+called)$",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"\b(?:dr|mr|mrs|ms|miss|mx|doctor|nurse|pastor|father|officer)\.?\s+(" + _WORD + r")",
    re.IGNORECASE,
)
_RELATIONS = (
    "son|daughter|husband|wife|boyfriend|girlfriend|partner|fiance|fiancee|brother|sister|"
    "mom|mum|mother|dad|father|friend|kid|child|uncle|aunt|cousin|nephew|niece|grandson|"
    "granddaughter|grandma|grandpa|stepson|stepdaughter|roommate|boss|counselor|doctor|sponsor"
)
_RELATION = re.compile(
    r"\bmy\s+(?:" + _RELATIONS + r")(?:'s)?(?:\s+name)?(?:\s*,)?\s+(?:is\s+|named\s+|called\s+)?"
    r"(" + _WORD + r")",
    re.IGNORECASE,
)
# Words that follow an introduction but are not names ("I'm not sure", "this is hard").
_NOT_NAMES = frozenset(
    """
    a an the not no so very really just here there that this it is was be been being and or but
    if of to in on at for from with about by as up out over under again still also too only
    now then soon later today tonight tomorrow yesterday sure fine ok okay good bad well sick
    tired scared afraid worried ready going trying looking calling asking wondering thinking
    feeling having getting doing being working drinking using struggling clean sober sorry
    sad alone lost done hard difficult tough embarrassed ashamed confused anonymous private
    unsure nervous desperate stuck broke homeless pregnant married single divorced older young
    new old hurting drunk high safe fine glad happy interested available free busy off on
    her his he she him they them their we us you your yours mine me my i im it's its who what
    when where why how which someone somebody anyone anybody nobody everyone everything nothing
    something worse better best worst more less most least very pretty kind bit little much
    many few some any all both each every other another same different
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december christmas easter thanksgiving
    god jesus lord christ catholic christian jewish muslim american canadian mexican medicaid
    medicare aetna cigna humana tricare kaiser blue cross shield unitedhealthcare anthem
    """.split()
)


@dataclass(frozen=True)
class Finding:
    """One personal detail found in a text: its kind and where it is."""

    kind: str  # "phone" | "email" | "name"
    start: int
    end: int
    text: str

    @property
    def label(self) -> str:
        """A phrase for messages: "a phone number"."""
        return KINDS.get(self.kind, self.kind)


@lru_cache(maxsize=1)
def _names() -> tuple[frozenset[str], frozenset[str]]:
    """(plain names, names that are also words) from the list file."""
    plain: set[str] = set()
    words: set[str] = set()
    target = plain
    for raw in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip().lower()
        if not line or line.startswith("#"):
            continue
        if line == "[words]":
            target = words
            continue
        target.add(line)
    return frozenset(plain), frozenset(words)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _allowed_phone(digits: str, allowed: Iterable[str]) -> bool:
    national = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    if national in allowed:
        return True
    # 555-0100 .. 555-0199 (with or without an area code) are reserved for fiction/examples.
    return len(national) in (7, 10) and national[-7:-2] == "55501"


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?\n"


def _capitalised(word: str) -> bool:
    """ "Maria" yes; "maria" and shouted "MARIA" no (the name list still catches those)."""
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _word_at(text: str, end: int, any_case: bool = False) -> tuple[int, int] | None:
    """The (capitalised, unless ``any_case``) word right after ``end``: a surname, if any."""
    match = re.match(r"[ \t]+(" + _WORD + r")", text[end:])
    if match is None:
        return None
    word = match.group(1)
    if not (any_case or _capitalised(word)) or word.lower() in _NOT_NAMES:
        return None
    return end + match.start(1), end + match.end(1)


def _name_findings(text: str) -> list[Finding]:
    plain, wordlike = _names()
    spans: list[tuple[int, int]] = []

    def add(start: int, end: int, any_case_surname: bool = False) -> None:
        surname = _word_at(text, end, any_case=any_case_surname)
        if surname is not None and surname[1] - end <= 30:
            end = surname[1]
        spans.append((start, end))

    for match in _INTRO.finditer(text):
        word = match.group(1)
        lowered = word.lower().strip("'’-")
        intro = text[match.start() : match.start(1)].strip()
        if lowered in _NOT_NAMES or word == REPLACEMENTS["name"]:
            continue
        strong = bool(_STRONG_INTRO.match(re.sub(r"\s+", " ", intro)))
        if strong or lowered in plain or lowered in wordlike or _capitalised(word):
            add(match.start(1), match.end(1), any_case_surname=strong)
    for match in _TITLE.finditer(text):
        word = match.group(1)
        if _capitalised(word) and word.lower() not in _NOT_NAMES:
            add(match.start(1), match.end(1))
    for match in _RELATION.finditer(text):
        word = match.group(1)
        lowered = word.lower()
        if lowered in _NOT_NAMES or word == REPLACEMENTS["name"]:
            continue
        if lowered in plain or _capitalised(word):  # "my husband will": lower-case word stays
            add(match.start(1), match.end(1))
    for match in re.finditer(_WORD, text):
        word = match.group(0)
        lowered = (
            word.lower().rstrip("'’s") if word.lower().endswith(("'s", "’s")) else word.lower()
        )
        if lowered in plain:
            add(match.start(), match.start() + len(lowered))
        elif (
            lowered in wordlike
            and _capitalised(word)
            and not _sentence_start(text, match.start())
            and word != "I"
        ):
            add(match.start(), match.start() + len(lowered))
    return [Finding("name", s, e, text[s:e]) for s, e in spans]


def find(text: str, *, allowed_phones: Iterable[str] = FACILITY_PHONES) -> list[Finding]:
    """Every personal detail in ``text``, in order, overlaps merged (emails win over names)."""
    allowed = tuple(_digits(p)[-10:] for p in allowed_phones)
    found: list[Finding] = []
    for match in _EMAIL.finditer(text):
        domain = match.group(0).rsplit("@", 1)[1].lower()
        if domain in ("example.com", "example.org", "example.net"):
            continue
        found.append(Finding("email", match.start(), match.end(), match.group(0)))
    for match in _EMAIL_SPELLED.finditer(text):
        found.append(Finding("email", match.start(), match.end(), match.group(0)))
    for match in _PHONE.finditer(text):
        digits = _digits(match.group(0))
        if not 7 <= len(digits) <= 15 or _allowed_phone(digits, allowed):
            continue
        found.append(Finding("phone", match.start(), match.end(), match.group(0)))
    found.extend(_name_findings(text))
    return _merge(text, found)


def _merge(text: str, findings: list[Finding]) -> list[Finding]:
    """Sort by position; overlapping findings become one (kind: email, then phone, then name)."""
    priority = {"email": 0, "phone": 1, "name": 2}
    out: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, priority[f.kind])):
        if out and finding.start < out[-1].end:
            last = out[-1]
            kind = min(last.kind, finding.kind, key=priority.__getitem__)
            end = max(last.end, finding.end)
            out[-1] = Finding(kind, last.start, end, text[last.start : end])
            continue
        out.append(finding)
    return out


def redact(text: str, findings: list[Finding] | None = None) -> str:
    """``text`` with every finding replaced by a neutral stand-in (NAME, 555-0100...)."""
    findings = find(text) if findings is None else findings
    out = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        out.append(text[position : finding.start])
        out.append(REPLACEMENTS[finding.kind])
        position = finding.end
    out.append(text[position:])
    return "".join(out)


def segments(text: str, findings: list[Finding]) -> list[tuple[str, str | None]]:
    """``text`` cut into (piece, kind-or-None) for highlighting what was found."""
    out: list[tuple[str, str | None]] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start > position:
            out.append((text[position : finding.start], None))
        out.append((text[finding.start : finding.end], finding.kind))
        position = finding.end
    if position < len(text):
        out.append((text[position:], None))
    return out


def describe(findings: list[Finding]) -> str:
    """ "2 names and a phone number" for messages (never the details themselves)."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    plural = {"name": "names", "phone": "phone numbers", "email": "email addresses"}
    parts = [KINDS[k] if n == 1 else f"{n} {plural[k]}" for k, n in sorted(counts.items())]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
