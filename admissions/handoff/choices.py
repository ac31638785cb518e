"""Replies read into one of a fixed set of keys: relationship, whose insurance, substances,
last use, how to reach out, language and payer (pure: no Rasa, no web).

Each reader returns a key of its table (``RELATIONSHIPS``, ``SUBSCRIBERS``, ``SUBSTANCES``,
``LAST_USE``, ``CHANNELS``...), or ``None`` when the reply names none of them. The handoff
record (``admissions.handoff.packet``) accepts the same keys.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from admissions.handoff.replies import read_yes_no, tidy

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
    t = tidy(text).lower()
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
    t = tidy(text).lower().replace("–", "-")
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


CHANNELS: tuple[str, ...] = ("phone", "text")  # how admissions reaches out: read_channel's keys
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
    t = tidy(text).lower()
    for word, name in LANGUAGES.items():
        if re.search(rf"\b{word}\b", t):
            return name
    if re.fullmatch(r"[a-z][a-z -]{1,29}", t):
        return t.title()
    return None


def match_payer(text: str, accepted: Sequence[str]) -> str | None:
    """The accepted payer a reply names ("blue cross" -> "Blue Cross Blue Shield"), else None."""
    t = tidy(text).lower()
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
