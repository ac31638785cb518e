"""200 % zoom on a 1280×800 desktop (a 640×400 CSS viewport) and 320 CSS px reflow (WCAG 2.1
1.4.4 / 1.4.10): the chat stays usable, its message area keeps a usable height, the welcome is
in view, no control is clipped or covered, nothing scrolls sideways; axe finds nothing serious."""

from __future__ import annotations

from collections.abc import Callable

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.layout import CONTROLS, assert_reachable, no_sideways_scrolling, rect, view
from tests.browser.pages import Widget
from tests.browser.test_accessibility import Audit


def emulate(w: Widget, width: int, height: int, scale: float, mobile: bool) -> None:
    """A CSS viewport of ``width``×``height`` (200 % zoom of 1280×800 is 640×400 at scale 2)."""
    w.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
    )


def _scroll_messages_to_top(w: Widget) -> None:
    w.driver.execute_script(
        "const b = document.querySelector('.hlc-body'), p = document.getElementById('hlc-panel');"
        "b.scrollTop = 0; p.scrollTop = b.offsetTop;"
    )


def check_usable(w: Widget, min_message_height: float) -> None:
    """Every control reachable and whole; the messages get ``min_message_height`` px at once."""
    no_sideways_scrolling(w)
    for selector, what in CONTROLS:
        assert_reachable(w, selector, what)
    if w.reply_buttons():
        assert_reachable(w, ".hlc-reply", "a suggested reply")
    _scroll_messages_to_top(w)
    band = view(w)
    body = rect(w, w.driver.find_element(By.CSS_SELECTOR, ".hlc-body"))
    shown = min(band["bottom"], body["bottom"]) - max(band["top"], body["top"])
    assert shown >= min_message_height, f"message area only {shown:.0f} px tall: {band}"


def _focus_is_visible(w: Widget) -> dict:
    return dict(
        w.driver.execute_script(
            "const el = document.activeElement, r = el.getBoundingClientRect();"
            "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            "return {text: el.textContent.trim(), top: r.top, bottom: r.bottom, vh: innerHeight,"
            " onTop: !!hit && (hit === el || el.contains(hit))}"
        )
    )


def _welcome_in_view(w: Widget) -> None:
    first = w.driver.find_element(By.CSS_SELECTOR, ".hlc-log > li.hlc-bot .hlc-text")
    band, box = view(w), rect(w, first)
    assert band["top"] - 1 <= box["top"] and box["top"] + 40 <= band["bottom"], (band, box)
    assert "admissions assistant" in first.text


def test_200_percent_zoom(open_widget: Callable[..., Widget]) -> None:
    """640×400 CSS px: the panel fills the screen, the welcome is readable on opening, the
    messages get at least half the height, "Talk to a person" and "Clear this chat from this
    device" are whole."""
    audit = Audit("zoom-200")
    w = open_widget()
    emulate(w, 640, 400, 2, False)
    w.load()
    no_sideways_scrolling(w)
    audit.check(w, "page, chat closed")
    w.open_chat()
    _welcome_in_view(w)
    w.screenshot("widget-zoom-200-welcome.png")
    check_usable(w, 200)
    # keyboard: from the text box back to the suggested replies, which the sticky text box
    # and buttons never cover (WCAG 2.4.11)
    w.driver.find_element(By.ID, "hlc-input").click()
    w.driver.execute_script(
        "const b = document.querySelector('.hlc-body'), p = document.getElementById('hlc-panel');"
        "p.scrollTop = 0;"
    )
    for _ in range(2):
        ActionChains(w.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        focus = _focus_is_visible(w)
        assert focus["onTop"] and 0 <= focus["top"] and focus["bottom"] <= focus["vh"], focus
    assert focus["text"] in [b.text for b in w.reply_buttons()]
    w.press("I want help for myself")
    check_usable(w, 200)
    audit.check(w, "chat open, question asked")
    w.say("I have Aetna through my job")
    w.say("I work 9 to 5 Monday to Friday")
    w.screenshot("widget-zoom-200-assessment.png")
    check_usable(w, 200)
    audit.check(w, "answers given")
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-end").click()
    assert_reachable(w, ".hlc-danger", "Yes, end and clear")
    assert_reachable(w, ".hlc-confirm .hlc-secondary", "Keep chatting")
    audit.check(w, "clear chat confirmation")
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-confirm .hlc-secondary").click()
    audit.save()


def test_short_desktop_window_keeps_the_page_beside_the_chat(
    open_widget: Callable[..., Widget],
) -> None:
    """A 1280×560 window (a small laptop at 100 %): the chat takes the full height at the right
    and scrolls as one; the page stays visible beside it; every control is whole."""
    w = open_widget()
    emulate(w, 1280, 560, 1, False)
    w.load()
    w.open_chat()
    _welcome_in_view(w)
    box = rect(w, w.driver.find_element(By.ID, "hlc-panel"))
    assert box["right"] == 1280 and box["width"] <= 440 and box["height"] == 560, box
    check_usable(w, 300)


def test_320_css_px(open_widget: Callable[..., Widget]) -> None:
    """320 CSS px wide (1280 px at 400 %): no sideways scrolling, every control whole, axe clean;
    and at 320×256 (a 1280×1024 screen at 400 %) still nothing clipped."""
    audit = Audit("reflow-320")
    w = open_widget(width=320, height=568)
    emulate(w, 320, 568, 2, True)
    w.load()
    no_sideways_scrolling(w)
    audit.check(w, "page, chat closed")
    w.open_chat()
    _welcome_in_view(w)
    check_usable(w, 200)
    w.press("I want help for myself")
    w.screenshot("widget-320-question.png")
    check_usable(w, 200)
    audit.check(w, "chat open, question asked")
    emulate(w, 320, 256, 4, False)
    w.say("I have Aetna through my job")
    w.screenshot("widget-320x256.png")
    check_usable(w, 120)
    audit.check(w, "320×256")
    audit.save()
