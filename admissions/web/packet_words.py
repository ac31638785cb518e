"""The handoff packet in words for the staff pages: sections of (label, value) rows.

A skipped question reads "skipped", an unknown one "—". Pure: the templates escape it all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from admissions.web.transcript import phone_words

RELATIONSHIP_WORDS = {
    "self": "the person themselves",
    "parent": "a parent",
    "spouse_partner": "a spouse or partner",
    "child": "a son or daughter",
    "sibling": "a brother or sister",
    "friend": "a friend",
    "other": "someone else",
}
SUBSCRIBER_WORDS = {"self": "self", "spouse": "spouse", "parent": "parent", "other": "other"}
CHANNEL_WORDS = {"phone": "phone call", "text": "text message"}
# packet path -> the step's field name (what ``skipped`` lists)
ASKED_AS = {
    "person.first_name": "first_name",
    "person.date_of_birth": "dob",
    "contact.relationship": "relationship",
    "insurance.payer": "payer",
    "insurance.member_id": "member_id",
    "insurance.group_number": "group_number",
    "insurance.subscriber_name": "subscriber_name",
    "insurance.subscriber_date_of_birth": "subscriber_dob",
    "insurance.subscriber_relationship": "subscriber_relationship",
    "clinical.substances": "substances",
    "clinical.last_use": "last_use",
    "clinical.mental_health_care": "mental_health_care",
    "clinical.court_mandated": "court_mandated",
    "referral_source": "referral_source",
    "contact.language": "language",
    "contact.channel": "callback_channel",
}


def _get(packet: Mapping[str, Any], path: str) -> Any:
    value: Any = packet
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def age_on(born: str | None, today: date) -> int | None:
    """Age in whole years on ``today`` for an ISO date of birth."""
    if not born:
        return None
    try:
        dob = date.fromisoformat(born)
    except ValueError:
        return None
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def completed_moment(packet: Mapping[str, Any]) -> datetime | None:
    """When the step ended, as an aware datetime (the packet stores ISO 8601 UTC)."""
    text = packet.get("completed_at")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _words(path: str, value: Any, today: date) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    if path == "contact.relationship":
        return RELATIONSHIP_WORDS.get(text, text)
    if path == "insurance.subscriber_relationship":
        return SUBSCRIBER_WORDS.get(text, text)
    if path == "insurance.payer" and text == "other":
        return "not on the facility's list"
    if path == "contact.channel":
        return CHANNEL_WORDS.get(text, text)
    if path == "contact.phone":
        return phone_words(text.removeprefix("+1")) if text.startswith("+1") else text
    if path.endswith("date_of_birth"):
        age = age_on(text, today)
        return f"{text} (age {age})" if age is not None else text
    return text


SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Person and contact",
        (
            ("First name", "person.first_name"),
            ("Date of birth", "person.date_of_birth"),
            ("Chatting", "contact.relationship"),
            ("Call back on", "contact.phone"),
            ("Reach by", "contact.channel"),
            ("Best time", "contact.best_time"),
            ("Language", "contact.language"),
        ),
    ),
    (
        "Insurance (for the VOB)",
        (
            ("Payer", "insurance.payer"),
            ("Payer (other)", "insurance.payer_other"),
            ("Member ID", "insurance.member_id"),
            ("Group number", "insurance.group_number"),
            ("Subscriber", "insurance.subscriber_name"),
            ("Subscriber's date of birth", "insurance.subscriber_date_of_birth"),
            ("Relationship to subscriber", "insurance.subscriber_relationship"),
        ),
    ),
    (
        "Use and safety",
        (
            ("Substances", "clinical.substances"),
            ("Other substances", "clinical.substances_other"),
            ("Last use", "clinical.last_use"),
            ("Past withdrawal seizures or DTs", "clinical.withdrawal_seizures_or_dts"),
            ("In mental-health care now", "clinical.mental_health_care"),
            ("Court-ordered or mandated", "clinical.court_mandated"),
            ("Heard about us", "referral_source"),
        ),
    ),
)


def packet_sections(
    packet: Mapping[str, Any], today: date
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The packet as titled sections of (label, words) rows for a staff page."""
    skipped = set(packet.get("skipped") or [])
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for title, rows in SECTIONS:
        shown: list[tuple[str, str]] = []
        for label, path in rows:
            value = _get(packet, path)
            if value not in (None, "", []):
                shown.append((label, _words(path, value, today)))
            elif ASKED_AS.get(path) in skipped:
                shown.append((label, "skipped"))
            else:
                shown.append((label, "—"))
        out.append((title, shown))
    return out
