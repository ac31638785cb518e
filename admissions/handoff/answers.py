"""Answers to the "help admissions prepare" questions, read and checked (pure: no Rasa, no web).

Every reader takes what the visitor typed (or a button's text) and returns the value to store,
``SKIP`` when the visitor chose not to answer, or ``None`` when the reply could not be read (the
step then re-asks once with an example). Dates are stored as ``YYYY-MM-DD``.

The readers live in two modules: ``replies`` (the forms any reply may take: skip, stop, yes/no,
dates, IDs, names, free text) and ``choices`` (replies read into one of a fixed set of keys).
This module is where the step finds them all, and it owns the step's keys (``PACKET_KEYS``)
and the answers gathered into the ``handoff_packet`` slot (``build_packet``).
"""

from __future__ import annotations

from collections.abc import Mapping

from admissions.handoff.choices import (
    CHANNELS,
    LANGUAGES,
    LAST_USE,
    PHONE_WORDS,
    RELATIONSHIPS,
    SUBSCRIBERS,
    SUBSTANCES,
    TEXT_WORDS,
    match_payer,
    read_channel,
    read_language,
    read_last_use,
    read_relationship,
    read_subscriber_relationship,
    read_substances,
)
from admissions.handoff.replies import (
    MAX_AGE,
    MIN_AGE,
    MONTHS,
    SKIP,
    is_skip,
    read_birth_date,
    read_date,
    read_first_name,
    read_free_text,
    read_group_number,
    read_member_id,
    read_name,
    read_yes_no,
    wants_to_stop,
)

__all__ = [
    "CHANNELS",
    "LANGUAGES",
    "LAST_USE",
    "MAX_AGE",
    "MIN_AGE",
    "MONTHS",
    "PACKET_KEYS",
    "PHONE_WORDS",
    "RELATIONSHIPS",
    "SKIP",
    "SUBSCRIBERS",
    "SUBSTANCES",
    "TEXT_WORDS",
    "build_packet",
    "is_skip",
    "match_payer",
    "read_birth_date",
    "read_channel",
    "read_date",
    "read_first_name",
    "read_free_text",
    "read_group_number",
    "read_language",
    "read_last_use",
    "read_member_id",
    "read_name",
    "read_relationship",
    "read_subscriber_relationship",
    "read_substances",
    "read_yes_no",
    "wants_to_stop",
]


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
