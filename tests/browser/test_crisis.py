"""Crisis escalation in a real browser: "not safe" after the crisis reply puts Call 911 first."""

from __future__ import annotations

from collections.abc import Callable

from tests.browser.pages import Widget, emulate_phone


def _last_calls(w: Widget) -> list[tuple[str, str]]:
    """(href, text) of the tap-to-call links in the newest bot message that has any."""
    links = w.driver.execute_script(
        "const items = Array.from(document.querySelectorAll('.hlc-log > li'))"
        "  .filter(li => li.querySelector('a.hlc-call'));"
        "const last = items[items.length - 1];"
        "return last ? Array.from(last.querySelectorAll('a.hlc-call'))"
        "  .map(a => [a.getAttribute('href'), a.textContent.trim()]) : [];"
    )
    return [(str(h), str(t)) for h, t in links]


def test_no_after_the_crisis_reply_puts_call_911_first_on_a_phone(
    open_widget: Callable[..., Widget],
) -> None:
    """Mid-assessment "I took all my pills", then "no": 911 now, Call 911 first and in view."""
    w = open_widget()
    emulate_phone(w.driver)
    w.load()
    w.open_chat()
    w.press("I want help for myself")
    crisis = "\n".join(w.say("I took all my pills"))
    assert "Are you safe right now?" in crisis
    emergency = "\n".join(w.say("no"))
    assert "Please call 911 right now" in emergency
    assert "staying right here with you" in emergency
    calls = _last_calls(w)
    assert calls and calls[0][0] == "tel:911" and "911" in calls[0][1]
    first = w.driver.execute_script(
        "const a = Array.from(document.querySelectorAll('.hlc-log a.hlc-call'))"
        "  .filter(a => a.getAttribute('href') === 'tel:911').pop();"
        "a.scrollIntoView({block: 'nearest'}); const r = a.getBoundingClientRect();"
        "return [r.top, r.bottom, window.innerHeight, r.width, r.height];"
    )
    top, bottom, height, width, tall = first
    assert 0 <= top and bottom <= height and width >= 44 and tall >= 44  # a real tap target
    w.screenshot("widget-phone-crisis-emergency.png")


def test_a_loved_one_who_wont_wake_up_gets_the_emergency_step(
    open_widget: Callable[..., Widget],
) -> None:
    """Loved-one mode: "she won't wake up" after the crisis reply is about them, 911 first."""
    w = open_widget()
    w.load()
    w.open_chat()
    w.press("I'm asking for someone I care about")
    assert "Are you safe right now?" in "\n".join(w.say("my daughter just took a bunch of pills"))
    emergency = "\n".join(w.say("she won't wake up"))
    assert "Please call 911 right now" in emergency and "stay with them" in emergency
    assert _last_calls(w)[0][0] == "tel:911"
