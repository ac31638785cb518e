"""The assessment questions: wording for self and loved-one mode, examples and easy buttons."""

from __future__ import annotations

from dataclasses import dataclass

from actions import runtime
from admissions import facility

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def phone() -> str:
    """The admissions line as visitors read it, from ``facility.yml``."""
    return runtime.facility().admissions.phone


def call_button() -> dict[str, str]:
    """A tap-to-call button for the admissions line."""
    return facility.call_button(phone())


@dataclass(frozen=True)
class Question:
    """One assessment question; ``easy`` buttons are offered after two failed answers."""

    self_text: str
    loved_one_text: str
    example: str
    easy: list[dict[str, str]]
    buttons_first: bool = False  # yes/no questions show their buttons from the start


QUESTIONS: dict[str, Question] = {
    "readiness": Question(
        "How ready do you feel to start treatment? There's no wrong answer.",
        "How ready do they seem to start treatment? There's no wrong answer.",
        'For example "I want to start as soon as possible" or "I\'m not sure yet".',
        [
            {"title": "Ready now", "payload": "/ready_to_start"},
            {"title": "Not sure yet", "payload": "/not_ready"},
        ],
        buttons_first=True,
    ),
    "payment": Question(
        "How would you pay for treatment? Insurance (which plan?), Medicaid, paying yourself, "
        "or is money tight right now?",
        "How would they pay for treatment? Insurance (which plan?), Medicaid, paying "
        "themselves, or is money tight right now?",
        'For example "I have Aetna through work", "Medicaid", or "no insurance, money is tight".',
        [
            {"title": "Insurance", "payload": "I have private insurance"},
            {"title": "Medicaid", "payload": "I have Medicaid"},
            {"title": "Pay myself", "payload": "I would pay myself"},
            {"title": "Money is tight", "payload": "I have no insurance and money is tight"},
        ],
    ),
    "work_school": Question(
        "Do you work or go to school? If so, which days and hours?",
        "Do they work or go to school? If so, which days and hours?",
        'For example "I work 9 to 5, Monday to Friday", "night shifts", or "I don\'t work".',
        [
            {"title": "I don't work or study", "payload": "I don't work or go to school"},
            {"title": "Weekdays, 9 to 5", "payload": "I work 9 to 5 Monday to Friday"},
            {"title": "Night shifts", "payload": "I work night shifts"},
        ],
    ),
    "caregiving": Question(
        "Does anyone depend on you for daily care, like children, a parent or a partner?",
        "Does anyone depend on them for daily care, like children, a parent or a partner?",
        'For example "I have two kids at home", "I look after my mom", or "no one".',
        [
            {"title": "No one", "payload": "No, nobody depends on me"},
            {"title": "Children", "payload": "I take care of my kids"},
            {"title": "A parent", "payload": "I take care of my parent"},
        ],
    ),
    "availability": Question(
        "When are you usually free for treatment: which days, and what times?",
        "When are they usually free for treatment: which days, and what times?",
        'For example "weekday evenings after 5", "mornings", "3 days a week, 4 hours a day" '
        'or "weekends only".',
        [
            {"title": "Weekday mornings", "payload": "I'm free weekday mornings"},
            {"title": "Weekday evenings", "payload": "I'm free weekday evenings after 5"},
            {"title": "Weekends", "payload": "I'm free on weekends"},
            {"title": "Any time", "payload": "I'm free any time, every day"},
        ],
    ),
    "screen_daily_use": Question(
        "A few quick yes/no questions. They aren't a diagnosis; they help admissions prepare. "
        "Do you drink or use every day, or nearly every day?",
        "A few quick yes/no questions. They aren't a diagnosis; they help admissions prepare. "
        "Do they drink or use every day, or nearly every day?",
        'Just "yes" or "no" is fine.',
        YES_NO,
        buttons_first=True,
    ),
    "screen_withdrawal": Question(
        "When you stop or cut down, do you get withdrawal symptoms, like shakes, sweats, "
        "nausea or bad anxiety?",
        "When they stop or cut down, do they get withdrawal symptoms, like shakes, sweats, "
        "nausea or bad anxiety?",
        'Just "yes" or "no" is fine.',
        YES_NO,
        buttons_first=True,
    ),
    "screen_relapse": Question(
        "Have you tried to stop before, or had treatment before, and then started again?",
        "Have they tried to stop before, or had treatment before, and then started again?",
        'Just "yes" or "no" is fine.',
        YES_NO,
        buttons_first=True,
    ),
    "screen_home_unsafe": Question(
        "Is home a hard place to recover, for example others drink or use there, or it "
        "doesn't feel safe?",
        "Is their home a hard place to recover, for example others drink or use there, or it "
        "doesn't feel safe?",
        'Just "yes" or "no" is fine.',
        YES_NO,
        buttons_first=True,
    ),
}


def render(slot: str, attempt: int, loved_one: bool) -> tuple[str, list[dict[str, str]]]:
    """Text and buttons for asking ``slot`` for the ``attempt``-th time (1 = first ask)."""
    q = QUESTIONS[slot]
    text = q.loved_one_text if loved_one else q.self_text
    buttons = list(q.easy) if q.buttons_first else []
    if attempt == 2:
        text = f"Sorry, I didn't catch that. {text} {q.example}"
    elif attempt >= 3:
        text = (
            f"Let's make this easier: tap the answer closest to yours, or call admissions at "
            f"{phone()} and a person will help. {text}"
        )
        buttons = [*q.easy, call_button()]
    return text, buttons


def render_clarify(
    slot: str, clarify: dict[str, str], loved_one: bool
) -> tuple[str, list[dict[str, str]]]:
    """A specific follow-up for ``slot``: the question the reply left open, or an ask-back.

    ``clarify["text"]`` is a follow-up such as "What time does kindergarten finish?"; without
    it, the reply said both yes and no ("nobody drinks, but it's chaos"), so ask again plainly.
    """
    q = QUESTIONS[slot]
    if clarify.get("text"):
        return clarify["text"], []
    text = q.loved_one_text if loved_one else q.self_text
    return f"I want to be sure I have this right. {text}", list(q.easy)
