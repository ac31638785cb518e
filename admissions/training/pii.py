"""A small, explainable detector of personal details in visitor messages: phone numbers, email
addresses, ID numbers, dates of birth, street addresses and people's names. Nothing that it
finds may enter the training data.

What it finds
* **Phone numbers**: 7 to 15 digits written as one number, optionally split by spaces, dots,
  dashes or brackets, optionally with a leading ``+`` ("(555) 867-5309", "555.867.5309",
  "+1 555 867 5309", "8675309"). The facility's own admissions number and the fictional range
  555-0100 to 555-0199 (reserved for examples) are not personal.
* **Email addresses**: ``name@domain.tld`` and the spelled-out "name at gmail dot com".
  Addresses at example.com / .org / .net (reserved for examples) are not personal.
* **ID numbers**: insurance member / policy / Medicaid / Medicare ids and the like: a word of
  letters and at least 5 digits ("W123456789", "1EG4-TE5-MK73"), a few letters then grouped
  digits ("ZGP 8849 2201"), social security numbers ("123-45-6789"), and any number of 4 or
  more digits after "member id", "policy number", "ssn"...
* **Dates**: a full date ("03/14/1987", "3-14-87", "March 14, 1987", "14th of March 1987",
  "1987-03-14"), and after "born", "birthday", "DOB" or "date of birth" also a day and month
  or a bare year ("born on 3/14", "dob march 14th", "born in 1987").
* **Street addresses**: a house number, up to three name words and a street type ("123 main
  st", "4500 N. Elm Street Apt 4B"; "way", "drive", "court", "place" and the like only with a
  capitalised name, so "1 more way" stays ordinary), a capitalised name with a street type
  ("on Elm Street"), PO boxes, and ZIP codes after a state or "zip".
* **Names**:
  - after a phrase that introduces a name: "my name is X", "my name's X", "I'm called X",
    "call me X", "this is X speaking", "ask for X", "it's X here", and relations followed by a
    capitalised word or a listed name ("my son Jake", "my wife is Maria", "my mom, Linda");
    after "named", "called" or "'s name is" the name may be in lower case ("my son is named
    jaxon", "my daughter's name is kaylee");
  - any word on the list of common US first names (``data/first_names.txt``), whatever its
    case. Listed names that are also ordinary words ("will", "hope", "mark") count only when
    capitalised in mid-sentence or when introduced as above;
  - the word right after a found first name when it is capitalised or a common US surname
    in any case (``data/surnames.txt``): "Maria Lopez", "maria lopez".

It is deliberately cautious (a false alarm only asks the trainer to rephrase) and simple:
nicknames, rare names typed in lower case without an introducing phrase and addresses
without a house number or a capitalised street name are *not* detected. Trainers are told so
on the annotate page.

Replacements (``redact``) keep the sentence natural for training: a name becomes ``NAME``,
a phone number ``555-0100``, an email ``name@example.com``, an ID ``MEMBER-ID``, a date
``DATE`` and an address ``ADDRESS``; none of them is found again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from admissions.facility import default_facility_path, load_facility
from admissions.training import pii_patterns as patterns

NAMES_FILE = Path(__file__).with_name("data") / "first_names.txt"
SURNAMES_FILE = Path(__file__).with_name("data") / "surnames.txt"
REPLACEMENTS = {
    "name": "NAME",
    "phone": "555-0100",
    "email": "name@example.com",
    "id": "MEMBER-ID",
    "date": "DATE",
    "address": "ADDRESS",
}
KINDS = {
    "name": "a name",
    "phone": "a phone number",
    "email": "an email address",
    "id": "an ID number",
    "date": "a date",
    "address": "a street address",
}
PLURALS = {
    "name": "names",
    "phone": "phone numbers",
    "email": "email addresses",
    "id": "ID numbers",
    "date": "dates",
    "address": "street addresses",
}
# When findings overlap, the more specific kind names the merged one.
PRIORITY = {"email": 0, "id": 1, "date": 2, "address": 3, "phone": 4, "name": 5}


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
def _surnames() -> frozenset[str]:
    """Common surnames, lower case, from the list file."""
    lines = SURNAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


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
    match = re.match(r"[ \t]+(" + patterns.WORD + r")", text[end:])
    if match is None:
        return None
    word = match.group(1)
    lowered = word.lower()
    if lowered in patterns.NOT_NAMES:
        return None
    if not (any_case or _capitalised(word) or lowered in _surnames()):
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

    for match in patterns.INTRO.finditer(text):
        word = match.group(1)
        lowered = word.lower().strip("'’-")
        intro = text[match.start() : match.start(1)].strip()
        if lowered in patterns.NOT_NAMES or word == REPLACEMENTS["name"]:
            continue
        strong = bool(patterns.STRONG_INTRO.match(re.sub(r"\s+", " ", intro)))
        if strong or lowered in plain or lowered in wordlike or _capitalised(word):
            add(match.start(1), match.end(1), any_case_surname=strong)
    for match in patterns.TITLE.finditer(text):
        word = match.group(1)
        if _capitalised(word) and word.lower() not in patterns.NOT_NAMES:
            add(match.start(1), match.end(1))
    for match in patterns.RELATION.finditer(text):
        word = match.group(1)
        lowered = word.lower()
        if lowered in patterns.NOT_NAMES or word == REPLACEMENTS["name"]:
            continue
        strong = bool(patterns.STRONG_RELATION.search(text[match.start() : match.start(1)]))
        # "my husband will": a lower-case word stays, unless it was introduced as a name
        if lowered in plain or _capitalised(word) or strong:
            add(match.start(1), match.end(1))
    for match in re.finditer(patterns.WORD, text):
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


@lru_cache(maxsize=1)
def facility_phones() -> tuple[str, ...]:
    """The facility's own admissions number (``facility.yml``): never a personal detail."""
    return (load_facility(default_facility_path()).admissions.phone,)


def find(text: str, *, allowed_phones: Iterable[str] | None = None) -> list[Finding]:
    """Every personal detail in ``text``, in order, overlaps merged (emails win over names)."""
    phones = facility_phones() if allowed_phones is None else allowed_phones
    allowed = tuple(_digits(p)[-10:] for p in phones)
    found: list[Finding] = []
    for match in patterns.EMAIL.finditer(text):
        domain = match.group(0).rsplit("@", 1)[1].lower()
        if domain in ("example.com", "example.org", "example.net"):
            continue
        found.append(Finding("email", match.start(), match.end(), match.group(0)))
    for match in patterns.EMAIL_SPELLED.finditer(text):
        found.append(Finding("email", match.start(), match.end(), match.group(0)))
    for match in patterns.PHONE.finditer(text):
        digits = _digits(match.group(0))
        if not 7 <= len(digits) <= 15 or _allowed_phone(digits, allowed):
            continue
        found.append(Finding("phone", match.start(), match.end(), match.group(0)))
    found.extend(_id_findings(text))
    found.extend(_date_findings(text))
    found.extend(_address_findings(text))
    found.extend(_name_findings(text))
    return _merge(text, found)


def _id_findings(text: str) -> list[Finding]:
    found = []
    for match in patterns.ID_TOKEN.finditer(text):
        token = match.group(0)
        alnum = token.replace("-", "")
        digits = sum(ch.isdigit() for ch in alnum)
        if len(alnum) >= 7 and digits >= 5 and digits < len(alnum):
            found.append(Finding("id", match.start(), match.end(), token))
    for pattern in (patterns.ID_GROUPED, patterns.SSN):
        for match in pattern.finditer(text):
            if len(_digits(match.group(0))) >= 6:
                found.append(Finding("id", match.start(), match.end(), match.group(0)))
    for match in patterns.ID_CUE.finditer(text):
        if len(_digits(match.group(1))) >= 4:
            found.append(Finding("id", match.start(1), match.end(1), match.group(1)))
    return found


def _date_findings(text: str) -> list[Finding]:
    found = [Finding("date", m.start(), m.end(), m.group(0)) for m in patterns.DATE.finditer(text)]
    for match in patterns.BIRTH.finditer(text):
        found.append(Finding("date", match.start(1), match.end(1), match.group(1)))
    return found


def _address_findings(text: str) -> list[Finding]:
    found = []
    for match in patterns.ADDRESS_NUMBERED.finditer(text):
        words = match.group(1).split()
        if any(
            w.lower().strip(".") in patterns.NOT_NAMES | patterns.NOT_STREET_NAMES for w in words
        ):
            continue
        kind = match.group(2).lower()
        needs_capital = kind in patterns.STREET_CAPITALISED.split("|")
        if needs_capital and not all(w[:1].isupper() or w[:1].isdigit() for w in words):
            continue
        found.append(Finding("address", match.start(), match.end(), match.group(0)))
    for match in patterns.ADDRESS_NAMED.finditer(text):
        words = match.group(1).split()
        while words and words[0].lower() in patterns.NAMED_STREET_SKIP:
            words.pop(0)
        if not words:
            continue
        start = match.start(1) + match.group(1).index(words[0])
        found.append(Finding("address", start, match.end(), text[start : match.end()]))
    for pattern in (patterns.PO_BOX, patterns.ZIP, patterns.ZIP_CUE):
        for match in pattern.finditer(text):
            found.append(Finding("address", match.start(), match.end(), match.group(0)))
    return found


def _merge(text: str, findings: list[Finding]) -> list[Finding]:
    """Sort by position; overlapping findings become one (of the most specific kind)."""
    out: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, PRIORITY[f.kind])):
        if out and finding.start < out[-1].end:
            last = out[-1]
            kind = min(last.kind, finding.kind, key=PRIORITY.__getitem__)
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
    parts = [KINDS[k] if n == 1 else f"{n} {PLURALS[k]}" for k, n in sorted(counts.items())]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
