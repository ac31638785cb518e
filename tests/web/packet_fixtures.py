"""Conversations that went through the handoff packet step, in Rasa's event format.

The person is synthetic; 555-01xx numbers are reserved for fiction.
"""

from __future__ import annotations

from typing import Any

from tests.web.fixtures import Conversation

MEMBER_ID = "XQH123456789"
DOB = "1990-04-12"
EVERYTHING: dict[str, Any] = {
    "first_name": "Jordan",
    "dob": DOB,
    "relationship": "self",
    "payer": "Aetna",
    "member_id": MEMBER_ID,
    "group_number": "GRP-0042",
    "subscriber_name": "Jordan Rivera",
    "subscriber_dob": DOB,
    "subscriber_relationship": "self",
    "substances": ["alcohol", "opioids"],
    "substances_other": "sometimes benzos",
    "last_use": "1-3 days",
    "mental_health_care": True,
    "court_mandated": False,
    "referral_source": "a friend",
    "language": "English",
    "callback_channel": "text",
    "skipped": [],
}
LOVED_ONE: dict[str, Any] = {
    "first_name": "Casey",
    "dob": "2004-11-02",
    "relationship": "parent",
    "payer": "other",
    "payer_other": "Keystone Health Plan",
    "member_id": "KHP-99812",
    "subscriber_name": "Pat Doe",
    "subscriber_dob": "1971-06-30",
    "subscriber_relationship": "parent",
    "substances": ["fentanyl"],
    "last_use": "today",
    "mental_health_care": False,
    "court_mandated": True,
    "referral_source": "school counselor",
    "language": "Spanish",
    "callback_channel": "phone",
    "skipped": ["group_number"],
}
ALL_SKIPPED: dict[str, Any] = {
    "skipped": [
        "first_name",
        "dob",
        "relationship",
        "payer",
        "member_id",
        "group_number",
        "subscriber_name",
        "subscriber_dob",
        "subscriber_relationship",
        "substances",
        "last_use",
        "mental_health_care",
        "court_mandated",
        "referral_source",
        "language",
        "callback_channel",
    ]
}
# what the visitor typed while the step asked (never for the retraining inbox)
TYPED = (
    ("packet_dob", "When was Jordan born?", "april 12 1990"),
    ("packet_member_id", "What is the member ID on the card?", "my member id is XQH123456789"),
)


def active_loop(conv: Conversation, name: str | None) -> Conversation:
    """An ``active_loop`` event (a form starting, or any form ending with None)."""
    conv.events.append({"event": "active_loop", "timestamp": conv._tick(), "name": name})
    return conv


def handoff_conversation(
    cid: str,
    start: float,
    answers: dict[str, Any] | None = None,
    *,
    role: str = "self",
    severe_withdrawal: bool | None = True,
    code: str = "K7F-2Q",
    complete: bool = True,
) -> Conversation:
    """An assessment, a fit, a callback request, then the step with ``answers``."""
    conv = Conversation(cid, start=start)
    conv.slot("visitor_role", role)
    conv.visitor("I think I'm ready to get help", intent="ready_to_start", confidence=0.97)
    conv.slot("payment", "insurance").slot("payer", "Aetna")
    if severe_withdrawal is not None:
        conv.slot("severe_withdrawal", severe_withdrawal)
    conv.fit("iop")
    conv.callback(name="Sam Test", phone="+14125550143", best_time="after 6 pm")
    conv.slot("reference_code", code)
    conv.bot("Would you like to help admissions prepare? Every question can be skipped.")
    active_loop(conv, "handoff_packet_form")
    for requested, question, typed in TYPED:
        conv.slot("requested_slot", requested)
        conv.bot(question)
        conv.visitor(typed, intent="nlu_fallback", confidence=0.3)
    conv.slot("requested_slot", None)
    conv.slot("handoff_packet", answers if answers is not None else EVERYTHING)
    active_loop(conv, None)
    if complete:
        conv.slot("handoff_packet_complete", True)
    conv.bot("Thank you. Admissions will have this when they call.")
    return conv
