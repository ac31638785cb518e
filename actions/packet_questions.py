"""Wording of the "help admissions prepare" questions (actions/packet.py): self and loved-one
mode, the example used in the one re-ask, and the buttons (each button sends its words)."""

from __future__ import annotations

from dataclasses import dataclass, field

SKIP_BUTTON = {"title": "Skip", "payload": "skip"}
OFFER = (
    "If you'd like, I can ask a few more questions now so admissions can prepare before they "
    "talk with you: who the care is for, insurance details for a free benefits check, and what "
    "is being used. Only our admissions team reads the answers, and you can skip any question."
)
WHY = (
    "Only our admissions team reads these answers: they use them to check insurance benefits "
    "and prepare, so nobody has to ask twice. You can skip any question."
)


@dataclass(frozen=True)
class Ask:
    """One question of the step: wording for self and loved-one mode, an example, buttons."""

    self_text: str
    loved_one_text: str
    example: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def b(*titles: str) -> list[dict[str, str]]:
    """Buttons that send their own title as the answer."""
    return [{"title": t, "payload": t} for t in titles]


YES_NO = [{"title": "Yes", "payload": "yes"}, {"title": "No", "payload": "no"}]

ASKS: dict[str, Ask] = {
    "first_name": Ask(
        "First, what's your first name (as on your insurance card, if you have one)?",
        "First, what's their first name (as on their insurance card, if they have one)?",
        'Just the first name is fine, for example "Sam".',
    ),
    "dob": Ask(
        "What's your date of birth (month/day/year)?",
        "What's their date of birth (month/day/year)?",
        'For example "03/14/1988".',
    ),
    "relationship": Ask(
        "How are you related to them?",
        "How are you related to them?",
        'For example "I\'m her mom", "my husband" or "a friend".',
        [
            {"title": "I'm their parent", "payload": "I'm their parent"},
            {"title": "Partner or spouse", "payload": "partner or spouse"},
            {"title": "I'm their child", "payload": "I'm their child"},
            {"title": "Brother or sister", "payload": "sibling"},
            {"title": "Friend", "payload": "friend"},
            {"title": "Other", "payload": "other"},
        ],
    ),
    "payer": Ask(
        "Which insurance do you have? Admissions checks your benefits for free before anything "
        "starts.",
        "Which insurance do they have? Admissions checks their benefits for free before "
        "anything starts.",
        'Tap one, or type the name of the plan, for example "Aetna".',
    ),
    "payer_other": Ask(
        "What's the name of the insurance plan?",
        "What's the name of their insurance plan?",
        'For example "Kaiser Permanente".',
    ),
    "member_id": Ask(
        "What's the member ID on the insurance card?",
        "What's the member ID on their insurance card?",
        'It\'s usually 5 to 20 letters and numbers, for example "XJ4-55821".',
    ),
    "group_number": Ask(
        "And the group number, if the card shows one?",
        "And the group number, if their card shows one?",
        'It\'s usually letters and numbers, for example "0045-12".',
    ),
    "subscriber_relationship": Ask(
        "Is the insurance in your own name?",
        "Is the insurance in their own name?",
        "Tap the closest answer.",
    ),
    "subscriber_name": Ask(
        "What's the full name of the person the insurance is in?",
        "What's the full name of the person the insurance is in?",
        'For example "Maria Lopez".',
    ),
    "subscriber_dob": Ask(
        "And that person's date of birth?",
        "And that person's date of birth?",
        'Please type it as month/day/year, for example "03/14/1965".',
    ),
    "substances": Ask(
        "What do you mostly drink or use? Tap one, or type them all if more than one.",
        "What do they mostly drink or use? Tap one, or type them all if more than one.",
        'For example "alcohol", or "alcohol and Xanax".',
        [
            {"title": "Alcohol", "payload": "alcohol"},
            {"title": "Opioids (heroin, fentanyl, pills)", "payload": "opioids"},
            {"title": "Stimulants (meth, cocaine)", "payload": "stimulants"},
            {"title": "Benzos (Xanax, Valium)", "payload": "benzos"},
            {"title": "Cannabis", "payload": "cannabis"},
            {"title": "Something else", "payload": "something else"},
        ],
    ),
    "substances_other": Ask(
        "What is it? Type it in your own words.",
        "What is it? Type it in your own words.",
        'For example "gabapentin".',
    ),
    "last_use": Ask(
        "Roughly when did you last drink or use?",
        "Roughly when did they last drink or use?",
        "Tap the closest answer.",
        b("Today", "1–3 days ago", "4–7 days ago", "1–4 weeks ago", "Over a month ago"),
    ),
    "mental_health_care": Ask(
        "Are you getting any mental-health care right now, like counseling, therapy or "
        "psychiatric medication?",
        "Are they getting any mental-health care right now, like counseling, therapy or "
        "psychiatric medication?",
        'Just "yes" or "no" is fine.',
        YES_NO,
    ),
    "court_mandated": Ask(
        "Is treatment court-ordered or required, for example by a judge, probation or an employer?",
        "Is their treatment court-ordered or required, for example by a judge, probation or an "
        "employer?",
        'Just "yes" or "no" is fine.',
        YES_NO,
    ),
    "referral_source": Ask(
        "How did you hear about us?",
        "How did you hear about us?",
        'For example "a web search" or "my doctor".',
        b(
            "Web search",
            "Doctor or therapist",
            "Friend or family",
            "Insurance company",
            "Court or probation",
        ),
    ),
    "language": Ask(
        "Which language would you like admissions to speak on the call?",
        "Which language would you like admissions to speak on the call?",
        'For example "English" or "Spanish".',
        b("English", "Spanish"),
    ),
    "callback_channel": Ask(
        "Should admissions call you or text you?",
        "Should admissions call you or text you?",
        'For example "call me" or "text me".',
        [{"title": "Call me", "payload": "call me"}, {"title": "Text me", "payload": "text me"}],
    ),
    "best_time": Ask(
        "When is a good time for admissions to reach you?",
        "When is a good time for admissions to reach you?",
        'For example "weekday mornings" or "after 6pm".',
    ),
}
