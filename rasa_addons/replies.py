"""What the visitor reads when the chat path itself is in trouble (not the dialogue's answers).

Every text names the admissions line from ``facility.yml`` and, where the visitor may be in
danger and the assistant could not look at what they wrote, 911 and 988. None of these
replies depends on the action server or the database.
"""

from __future__ import annotations

from typing import Any

from admissions.facility import call_button as facility_call_button
from admissions.facility import default_facility_path, load_facility

EMERGENCY = "If this is an emergency, call 911, or call or text 988."
_phone: list[str] = []  # the number, once known (set at start-up by rasa_addons.nlg)


def remember_phone(number: str) -> None:
    """Keep the admissions number read at start-up, so these replies never read the file."""
    _phone[:] = [number]


def phone() -> str:
    """The admissions phone number from ``facility.yml`` (``$FACILITY_FILE``).

    In the Rasa server ``rasa_addons.nlg.FacilityNLG`` reads the file at start-up (a broken
    file stops the server there) and hands the number here, so a fallback reply never
    depends on the file later; elsewhere it is read on first use.
    """
    if not _phone:
        remember_phone(load_facility(default_facility_path()).admissions.phone)
    return _phone[0]


def call_button() -> dict[str, str]:
    """A tap-to-call button for the admissions line."""
    return facility_call_button(phone())


def action_failed() -> str:
    """A custom action failed or ran out of time (action server down, hung or broken)."""
    return (
        "Sorry, I ran into a technical problem and couldn't finish that. Please try again in "
        f"a minute, or call our admissions team at {phone()}. {EMERGENCY}"
    )


def storage_unavailable() -> str:
    """The conversation could not be loaded, so the message was not processed or recorded."""
    return (
        "Sorry, I can't reach our conversation records right now, so I couldn't take in your "
        f"message. Please try again in a few minutes, or call our admissions team at {phone()}. "
        f"{EMERGENCY}"
    )


def not_recorded() -> str:
    """The turn was answered but could not be written anywhere durable."""
    return (
        "I wasn't able to save this part of our conversation. If it matters, please call our "
        f"admissions team at {phone()}."
    )


def context_lost() -> str:
    """The turn was answered without the earlier conversation (it could not be loaded)."""
    return (
        "I couldn't load our earlier conversation just now, so I may have lost track of what "
        f"you told me. Please try again in a few minutes, or call {phone()}."
    )


def too_long(limit: int) -> str:
    """A message over the length limit was refused."""
    return (
        f"That message is too long for me: please keep it under {limit:,} characters and send "
        f"it in parts, or call our admissions team at {phone()}. {EMERGENCY}"
    )


def internal_error() -> str:
    """Handling the message failed in an unexpected way."""
    return (
        "Sorry, something went wrong on my side. Please try again, or call our admissions "
        f"team at {phone()}. {EMERGENCY}"
    )


def message(recipient_id: str | None, text: str) -> dict[str, Any]:
    """One bot message as the REST channel returns it, with the tap-to-call button."""
    return {"recipient_id": recipient_id, "text": text, "buttons": [call_button()]}
