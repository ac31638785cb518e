"""A callback request's contact details read from what the visitor typed.

Phone numbers are found, validated and formatted with ``phonenumbers`` (Google's libphonenumber
metadata): stored as E.164 (``+14125550143``), shown in the national format
(``(412) 555-0143``). The admissions line calls numbers of the North American Numbering Plan.
A best time to call said in the same message ("best after 1pm") is picked out and tidied
("after 1 PM"). Pure functions: no Rasa, no web.
"""

from __future__ import annotations

import re

import phonenumbers

REGION = "US"
NANP = 1  # country code of the numbers admissions calls (US, Canada and the Caribbean)
EXAMPLE = "(212) 555-0187"

_AMPM = r"(?:[ap]\.?\s?m\.?)"
_CLOCK = rf"(?:\d{{1,2}}(?::\d{{2}})?\s*{_AMPM}|\d{{1,2}}:\d{{2}}|noon|midnight)"
_RANGE = rf"{_CLOCK}(?:\s*(?:-|–|to|and)\s*{_CLOCK})?"
_DAYS = (
    r"(?:weekdays?|weekends?|mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|"
    r"sundays?|today|tonight|tomorrow)"
)
_PARTS = r"(?:mornings?|afternoons?|evenings?|nights?|lunch(?:time)?)"
_BEST_TIME = re.compile(
    rf"\b(?:(?:{_DAYS}\s+)?(?:after|before|around|from|by|at|until|between)\s+{_RANGE}"
    rf"|(?:{_DAYS}\s+)?(?:in\s+the\s+)?{_PARTS}(?:\s+(?:after|before|around|from|by)\s+{_RANGE})?"
    rf"|{_DAYS}(?:\s+{_RANGE})?"
    r"|any\s?time)",
    re.IGNORECASE,
)
_AMPM_TIME = re.compile(r"\b(\d{1,2}(?::\d{2})?)\s*([ap])\.?\s?m\b\.?", re.IGNORECASE)
# words after which the best time reads on in a sentence ("call (412) 555-0143 after 1 PM")
_READS_ON = re.compile(
    r"(?:after|before|around|from|by|at|until|between|any|anytime|in|on|this|today|tonight|"
    r"tomorrow|weekdays?|weekends?|mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|"
    r"saturdays?|sundays?|mornings?|afternoons?|evenings?|nights?)\b",
    re.IGNORECASE,
)


def find_phone(text: str) -> str | None:
    """The first valid North American phone number in ``text`` as E.164, else None."""
    text = text or ""
    for match in phonenumbers.PhoneNumberMatcher(text, REGION):
        number = match.number
        if number.country_code == NANP and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:  # a bare number the matcher skipped (digits only, odd spacing)
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == NANP and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def national(e164: str | None) -> str:
    """``+14125550143`` as a visitor writes it: ``(412) 555-0143`` (unparseable: as given)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, REGION)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def tidy_time(text: str) -> str:
    """A best time with its clock times written plainly: "after 1pm" -> "after 1 PM"."""
    words = " ".join((text or "").split())
    return _AMPM_TIME.sub(lambda m: f"{m.group(1)} {m.group(2).upper()}M", words)


def best_time_in(text: str) -> str | None:
    """A best time to call said inside a longer message ("best after 1pm"), tidied; else None."""
    rest = text or ""
    for match in phonenumbers.PhoneNumberMatcher(
        rest, REGION, leniency=phonenumbers.Leniency.POSSIBLE
    ):
        rest = rest.replace(match.raw_string, " ")
    found = _BEST_TIME.search(rest)
    return tidy_time(found.group(0)) if found else None


def call_at(e164: str | None, when: str | None) -> str:
    """ "(412) 555-0143 after 1 PM": the number and the best time, as a sentence reads them."""
    number = national(e164)
    if not when:
        return number
    if _READS_ON.match(when):
        return f"{number} {when}"
    return f"{number} (best time: {when})"
