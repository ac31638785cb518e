"""A scripted visitor that copes with small changes in the bot's flow (a read-back to confirm,
one question more or less): it answers what is asked until the fit is explained."""

from __future__ import annotations

from collections.abc import Callable

from tests.browser.pages import Widget

TYPED = (
    "I have Aetna through my job",
    "I work 9 to 5 Monday to Friday",
    "I take care of my kids",
    "I'm free weekday evenings after 5",
)
SCREENING = ("Yes", "No", "Yes", "No")
CONFIRM = "Yes, that's right"


def assess(w: Widget, before_last: Callable[[], None] | None = None) -> list[str]:
    """From the greeting to the explained fit; the bot messages of the last answer.

    ``before_last`` runs just before the last screening answer is tapped.
    """
    w.press("I want help for myself")
    for text in TYPED:
        w.say(text)
    answers = list(SCREENING)
    new: list[str] = []
    for _ in range(12):
        titles = [b.text.strip() for b in w.reply_buttons()]
        if CONFIRM in titles:
            new = w.press(CONFIRM)
        elif answers and "Yes" in titles and "No" in titles:
            if len(answers) == 1 and before_last:
                before_last()
            new = w.press(answers.pop(0))
        else:
            break
    assert not answers, f"the screening questions were not all asked: {w.bot_texts()[-3:]}"
    return new
