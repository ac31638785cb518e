"""Answers to the "help admissions prepare" questions, read and checked (pure: no Rasa, no web).

Every reader takes what the visitor typed (or a button's text) and returns the value to store,
``SKIP`` when the visitor chose not to answer, or ``None`` when the reply could not be read (the
step then re-asks once with an example). Dates are stored as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
    return bool(_SKIP.match(_tidy(text)))


def wants_to_stop(text: str) -> bool:
    """Does the reply ask to end the whole step ("no more questions", "skip the rest")?"""
    return bool(_STOP.search(text or ""))


def read_yes_no(text: str) -> bool | None:
    """A yes or a no ("yes", "nope", "she is"); None when the reply says neither."""
    t = _tidy(text)
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
    t = _tidy(text).lower().replace(",", " ")
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
    t, before = _tidy(text), ""
    while t != before:
        before, t = t, _ID_LEAD.sub("", t).strip()
    return t


def read_name(text: str) -> str | None:
    """A first name or a full name as typed, trimmed ("my name is Sam" -> "Sam")."""
    t = _NAME_LEAD.sub("", _tidy(text)).strip(" .!")
    if not t or not _NAME.match(t) or len(t.split()) > 4:
        return None
    return " ".join(w[:1].upper() + w[1:] for w in t.split())


def read_first_name(text: str) -> str | None:
    """A first name: the first word of a name ("Sam Rivera" -> "Sam")."""
    name = read_name(text)
    return name.split()[0] if name else None


RELATIONSHIPS: dict[str, tuple[str, ...]] = {
    "parent": ("parent", "mom", "mother", "dad", "father", "mum", "stepmom", "stepdad"),
    "spouse_partner": (
        "spouse",
        "partner",
        "wife",
        "husband",
        "boyfriend",
        "girlfriend",
        "fiance",
        "fiancee",
        "fiancé",
        "fiancée",
    ),
    "child": ("child", "son", "daughter", "kid", "stepson", "stepdaughter"),
    "sibling": ("sibling", "brother", "sister", "twin"),
    "friend": ("friend", "roommate", "coworker", "colleague", "neighbor", "neighbour"),
    "other": ("other", "cousin", "aunt", "uncle", "grandparent", "grandma", "grandpa", "niece"),
}


# "my son" names the person needing care, so the visitor is their parent
_INVERSE = {"parent": "child", "child": "parent"}


def read_relationship(text: str) -> str | None:
    """How the visitor is related to the person needing care.

    "I'm his mom" and "I'm their parent" -> "parent"; "my son" and "he's my son" -> "parent"
    too (the words name the loved one, so the relation is turned around).
    """
    t = (text or "").lower().replace("\u2019", "'")
    mine = re.search(r"\bmy\s+(?:\w+\s+)?([a-zé]+)", t)
    if mine and not re.search(r"\bi'?m\b|\bi am\b", t):
        for key, names in RELATIONSHIPS.items():
            if mine[1] in names:
                return _INVERSE.get(key, key)
    words = set(re.findall(r"[a-zé]+", t))
    for key, names in RELATIONSHIPS.items():
        if words & set(names):
            return key
    return None


SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    "self": ("self", "mine", "own", "myself", "theirs", "his", "hers", "themself", "themselves"),
    "spouse": ("spouse", "partner", "wife", "husband", "partner's", "spouse's"),
    "parent": ("parent", "parents", "parent's", "mom", "dad", "mother", "father", "mom's", "dad's"),
    "other": ("other", "someone", "employer", "else", "else's", "grandparent", "relative"),
}


def read_subscriber_relationship(text: str) -> str | None:
    """Whose name the insurance is in, relative to the person needing care.

    "self" when it is their own plan; "spouse", "parent" or "other" otherwise.
    """
    t = (text or "").lower()
    words = {w.removesuffix("'s") for w in re.findall(r"[a-z']+", t)}
    for key in ("spouse", "parent", "other", "self"):
        if words & set(SUBSCRIBERS[key]):
            return key
    yes = read_yes_no(text)
    if yes is True:
        return "self"
    return None


SUBSTANCES: dict[str, tuple[str, ...]] = {
    "alcohol": ("alcohol", "drinking", "drink", "drinks", "booze", "beer", "wine", "liquor",
                "vodka", "whiskey", "whisky"),
    "opioids": ("opioid", "opioids", "opiate", "opiates", "heroin", "fentanyl", "fent",
                "oxy", "oxycodone", "oxycontin", "percocet", "percs", "hydrocodone", "vicodin",
                "morphine", "painkillers", "pills", "pain pills", "dope", "methadone", "suboxone",
                "kratom", "tramadol", "dilaudid"),
    "stimulants": ("stimulant", "stimulants", "meth", "methamphetamine", "crystal", "ice",
                   "cocaine", "coke", "crack", "adderall", "speed", "amphetamine",
                   "amphetamines"),
    "benzodiazepines": ("benzo", "benzos", "benzodiazepine", "benzodiazepines", "xanax",
                        "xannies", "bars", "valium", "klonopin", "ativan"),
    "cannabis": ("cannabis", "weed", "marijuana", "pot", "thc", "edibles", "dabs", "vape pen"),
}  # fmt: skip
_FILLER = re.compile(
    r"\b(sometimes|usually|mostly|mainly|just|only|also|too|occasionally|a lot|"
    r"every day|daily|some)\b"
)
_SPLIT = re.compile(r"\s*(?:,|;|/|\+|&|\band\b|\bor\b|\bplus\b|\bmostly\b|\balso\b)\s*")


def read_substances(text: str) -> tuple[list[str], str | None] | None:
    """The substances named, as categories, and any free text they leave over.

    "alcohol and xanax" -> (["alcohol", "benzodiazepines"], None);
    "gabapentin" -> (["other"], "gabapentin"). None when nothing was said.
    """
    t = _tidy(text).lower()
    if t.strip(" .!") in ("other", "something else", "another", "another one", "other drugs"):
        return ["other"], None  # named next, in their own words
    t = re.sub(r"\([^)]*\)", lambda m: " " + m.group(0)[1:-1] + " ", t)
    found: list[str] = []
    leftover: list[str] = []
    for part in _SPLIT.split(t):
        part = part.strip(" .!")
        if not part:
            continue
        hit = False
        for key, names in SUBSTANCES.items():
            if any(re.search(rf"\b{re.escape(n)}\b", part) for n in names):
                hit = True
                if key not in found:
                    found.append(key)
        part = _FILLER.sub(" ", part).strip()
        if not hit and part and part not in ("other", "something else"):
            leftover.append(" ".join(part.split()))
    if leftover and "other" not in found:
        found.append("other")
    if not found:
        return None
    return found, (", ".join(leftover)[:120] if leftover else None)


LAST_USE = ("today", "1-3 days", "4-7 days", "1-4 weeks", "over a month")
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple": 2, "few": 3, "several": 4,
}  # fmt: skip


def read_last_use(text: str) -> str | None:
    """Roughly when the person last drank or used, as one of ``LAST_USE``."""
    t = _tidy(text).lower().replace("–", "-")
    if re.search(r"\bover a month|more than a month|months|years?\b|a month\b", t):
        return "over a month"
    if re.search(
        r"\b(today|this morning|this afternoon|tonight|right now|now|an hour|"
        r"hours? ago|earlier)\b",
        t,
    ):
        return "today"
    if re.search(r"\b(yesterday|last night|1-3 days)\b", t):
        return "1-3 days"
    if re.search(r"\b(4-7 days|last week|a week)\b", t):
        return "4-7 days"
    if re.search(r"\b(1-4 weeks)\b", t):
        return "1-4 weeks"
    m = re.search(r"\b(\d+|[a-z]+)\s+(day|days|week|weeks)\b", t)
    if m:
        n = int(m[1]) if m[1].isdigit() else _NUMBER_WORDS.get(m[1])
        if n is None:
            return None
        days = n * (7 if m[2].startswith("week") else 1)
        if days <= 3:
            return "1-3 days"
        if days <= 7:
            return "4-7 days"
        return "1-4 weeks" if days <= 31 else "over a month"
    return None


PHONE_WORDS = re.compile(r"\b(call|calls|calling|phone|ring|voice)\b", re.IGNORECASE)
TEXT_WORDS = re.compile(r"\b(text|texts|texting|sms|message)\b", re.IGNORECASE)


def read_channel(text: str) -> str | None:
    """How admissions should reach out: "phone" or "text"."""
    phone, texting = PHONE_WORDS.search(text or ""), TEXT_WORDS.search(text or "")
    if texting and not phone:
        return "text"
    if phone and not texting:
        return "phone"
    return None


LANGUAGES = {
    "english": "English", "spanish": "Spanish", "español": "Spanish", "espanol": "Spanish",
    "french": "French", "portuguese": "Portuguese", "chinese": "Chinese", "mandarin": "Mandarin",
    "cantonese": "Cantonese", "vietnamese": "Vietnamese", "korean": "Korean",
    "russian": "Russian", "arabic": "Arabic", "tagalog": "Tagalog", "haitian": "Haitian Creole",
    "creole": "Haitian Creole", "polish": "Polish", "italian": "Italian", "german": "German",
    "asl": "American Sign Language", "sign": "American Sign Language",
}  # fmt: skip


def read_language(text: str) -> str | None:
    """The preferred language for the call ("spanish please" -> "Spanish"), else free text."""
    t = _tidy(text).lower()
    for word, name in LANGUAGES.items():
        if re.search(rf"\b{word}\b", t):
            return name
    if re.fullmatch(r"[a-z][a-z -]{1,29}", t):
        return t.title()
    return None


def read_free_text(text: str, limit: int = 120) -> str | None:
    """A short free answer ("a friend told me"), trimmed; None when empty or a command."""
    t = " ".join(_tidy(text).split())
    if not t or t.startswith("/"):
        return None
    return t[:limit]


def match_payer(text: str, accepted: Sequence[str]) -> str | None:
    """The accepted payer a reply names ("blue cross" -> "Blue Cross Blue Shield"), else None."""
    t = _tidy(text).lower()
    aliases = {
        "bcbs": "Blue Cross Blue Shield",
        "blue cross": "Blue Cross Blue Shield",
        "blue shield": "Blue Cross Blue Shield",
        "anthem": "Blue Cross Blue Shield",
        "uhc": "UnitedHealthcare",
        "united": "UnitedHealthcare",
        "tricare": "Tricare",
    }
    for payer in accepted:
        if payer.lower() in t or payer.lower().replace(" ", "") in t.replace(" ", ""):
            return payer
    for alias, payer in aliases.items():
        if re.search(rf"\b{alias}\b", t) and payer in accepted:
            return payer
    return None


def _tidy(text: str) -> str:
    """Curly quotes straightened, whitespace trimmed."""
    return (text or "").replace("\u2019", "'").replace("\u2018", "'").strip()


# The packet's keys, in the order the step asks; ``skipped`` lists the ones the visitor skipped.
PACKET_KEYS: tuple[str, ...] = (
    "first_name",
    "dob",
    "relationship",
    "payer",
    "payer_other",
    "member_id",
    "group_number",
    "subscriber_relationship",
    "subscriber_name",
    "subscriber_dob",
    "substances",
    "substances_other",
    "last_use",
    "mental_health_care",
    "court_mandated",
    "referral_source",
    "language",
    "callback_channel",
)


def build_packet(answers: Mapping[str, object], declined: bool = False) -> dict[str, object]:
    """The handoff packet from the step's answers (key -> value, ``SKIP`` or None).

    Keys never asked (None) are left out; skipped ones are listed under ``skipped``. A visitor
    who said no to the whole step is marked ``declined``: staff see that, and nothing of the
    conversation is disclosed to the CRM on its behalf (admissions/handoff/packet.py).
    """
    packet: dict[str, object] = {"declined": True} if declined else {}
    skipped: list[str] = []
    for key in PACKET_KEYS:
        value = answers.get(key)
        if value == SKIP:
            skipped.append(key)
        elif value is not None:
            packet[key] = value
    packet["skipped"] = skipped
    return packet
