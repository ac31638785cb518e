"""The forms any "help admissions prepare" reply may take, read and checked (pure: no Rasa, no web).

A skip ("rather not say"), a request to stop the step, a yes or a no, a date (stored as
``YYYY-MM-DD``), an insurance ID, a name, or a short free answer. Readers return the value to
store, or ``None`` when the reply could not be read; ``admissions.handoff.answers`` gathers
them with the readers of ``choices``.
"""

from __future__ import annotations

import re
from datetime import date

SKIP = "skipped"  # the value a question's slot takes when the visitor skips it
MIN_AGE, MAX_AGE = 12, 110

_SKIP = re.compile(
    r"^\W*(?:skip(?: (?:it|this|that|this one|that one|for now))?|pass|next|n/?a|none of your "
    r"business|(?:i'?d )?(?:rather|prefer) not(?: to)?(?: say| answer| share)?|no comment|"
    r"(?:i )?don'?t (?:want to|wanna) (?:say|answer|share)|not sure|(?:i )?(?:don'?t|do not) "
    r"know|dunno|idk|no idea|not now|later|leave it|leave (?:it )?blank|private)\W*$",
    re.IGNORECASE,
)
_STOP = re.compile(
    r"\b(?:stop (?:asking|the questions|these questions)|no more questions|that'?s enough|"
    r"enough questions|skip (?:the )?(?:rest|all|everything)|i'?m done|done for now)\b",
    re.IGNORECASE,
)
_YES = re.compile(
    r"^\W*(?:y|yes|yeah|yep|yup|ya|sure|correct|right|true|i am|i do|they are|they do|he is|"
    r"she is|he does|she does|we are|we do|it is|that'?s right|yes,? .*)\W*$",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\W*(?:n|no|nope|nah|not really|not at the moment|not right now|not currently|i'?m not|"
    r"i don'?t|they'?re not|they don'?t|he'?s not|she'?s not|he doesn'?t|she doesn'?t|"
    r"it'?s not|never|no,? .*)\W*$",
    re.IGNORECASE,
)

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_US = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$")
_WORDS_MDY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_WORDS_DMY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{4})$")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{3,18})[A-Za-z0-9]$")
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
_ID_LEAD = re.compile(
    r"^(?:(?:my|the|our|his|her|their)\s+)?(?:member|subscriber|policy|group|id|number|no\.?|#|"
    r"is|it'?s|:)(?:\s+|$)",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[^\W\d_][\w'. -]{0,59}$")
_NAME_LEAD = re.compile(
    r"^(?:(?:my|his|her|their) (?:first )?name is|(?:first )?name'?s?|it'?s|i'?m|call me|"
    r"(?:he|she|they)'?s? (?:called|named)|(?:he|she) is|this is)\s+",
    re.IGNORECASE,
)


def is_skip(text: str) -> bool:
    """Does the reply decline this one question ("skip", "rather not say", "pass", "not sure")?"""
    return bool(_SKIP.match(tidy(text)))


def wants_to_stop(text: str) -> bool:
    """Does the reply ask to end the whole step ("no more questions", "skip the rest")?"""
    return bool(_STOP.search(text or ""))


def read_yes_no(text: str) -> bool | None:
    """A yes or a no ("yes", "nope", "she is"); None when the reply says neither."""
    t = tidy(text)
    if _NO.match(t):
        return False
    if _YES.match(t):
        return True
    return None


def read_date(text: str, today: date) -> str | None:
    """A calendar date in a common US or ISO form, as ``YYYY-MM-DD``; None when unreadable.

    Accepts "03/14/1988", "3-14-88", "March 14 1988", "14 March 1988", "1988-03-14".
    A two-digit year is read as the most recent such year that is not in the future.
    """
    t = tidy(text).lower().replace(",", " ")
    t = " ".join(t.split())
    parts: tuple[int, int, int] | None = None
    if m := _ISO.match(t):
        parts = (int(m[1]), int(m[2]), int(m[3]))
    elif m := _US.match(t):
        year = int(m[3])
        if len(m[3]) == 2:
            year += 2000 if 2000 + year <= today.year else 1900
        parts = (year, int(m[1]), int(m[2]))
    elif (m := _WORDS_MDY.match(t)) and m[1] in MONTHS:
        parts = (int(m[3]), MONTHS[m[1]], int(m[2]))
    elif (m := _WORDS_DMY.match(t)) and m[2] in MONTHS:
        parts = (int(m[3]), MONTHS[m[2]], int(m[1]))
    if parts is None:
        return None
    try:
        return date(*parts).isoformat()
    except ValueError:
        return None


def read_birth_date(text: str, today: date) -> str | None:
    """A date of birth in the past that gives an age from 12 to 110, as ``YYYY-MM-DD``."""
    iso = read_date(text, today)
    if iso is None:
        return None
    born = date.fromisoformat(iso)
    if born >= today:
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return iso if MIN_AGE <= age <= MAX_AGE else None


def read_member_id(text: str) -> str | None:
    """An insurance member ID: 5 to 20 letters, digits or dashes (spaces dropped), upper-cased."""
    compact = re.sub(r"\s+", "", _strip_lead(text))
    if not _MEMBER_ID.match(compact) or not re.search(r"\d", compact):
        return None
    return compact.upper()


def read_group_number(text: str) -> str | None:
    """A group number: 1 to 20 letters, digits or dashes with at least one digit, upper-cased."""
    compact = re.sub(r"\s+", "", _strip_lead(text))
    if not _GROUP.match(compact) or not re.search(r"\d", compact):
        return None
    return compact.upper()


def _strip_lead(text: str) -> str:
    """ "my member id is 8881" -> "8881": the words in front of an ID dropped."""
    t, before = tidy(text), ""
    while t != before:
        before, t = t, _ID_LEAD.sub("", t).strip()
    return t


def read_name(text: str) -> str | None:
    """A first name or a full name as typed, trimmed ("my name is Sam" -> "Sam")."""
    t = _NAME_LEAD.sub("", tidy(text)).strip(" .!")
    if not t or not _NAME.match(t) or len(t.split()) > 4:
        return None
    return " ".join(w[:1].upper() + w[1:] for w in t.split())


def read_first_name(text: str) -> str | None:
    """A first name: the first word of a name ("Sam Rivera" -> "Sam")."""
    name = read_name(text)
    return name.split()[0] if name else None


def read_free_text(text: str, limit: int = 120) -> str | None:
    """A short free answer ("a friend told me"), trimmed; None when empty or a command."""
    t = " ".join(tidy(text).split())
    if not t or t.startswith("/"):
        return None
    return t[:limit]


def tidy(text: str) -> str:
    """Curly quotes straightened, whitespace trimmed."""
    return (text or "").replace("\u2019", "'").replace("\u2018", "'").strip()
