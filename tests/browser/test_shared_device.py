"""A shared device (issue 15 #7), in real headless Chromium against the real stack: the widget
never opens by itself; an earlier chat is resumed only after asking, and the question shows
nothing of it; "Clear this chat from this device" ends it on the server and clears the widget;
all of it by keyboard, on a 360 px phone and at 200 % zoom."""

from __future__ import annotations

from collections.abc import Callable

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.layout import assert_reachable
from tests.browser.pages import Widget, emulate_phone, wait_seconds
from tests.browser.stack import Stack
from tests.browser.test_accessibility import Audit
from tests.browser.test_keyboard import Keyboard
from tests.browser.test_widget import conversation_id
from tests.browser.test_zoom import emulate

SECRET = "I relapsed last night and my wife doesn't know"
PROMPT = "There is an earlier chat on this device."


def _root_text(w: Widget) -> str:
    return str(w.driver.execute_script("return document.querySelector('.hlc-root').textContent"))


def _panel_shown(w: Widget) -> bool:
    return bool(w.driver.find_element(By.ID, "hlc-panel").is_displayed())


def _chat_urls(w: Widget, since: int) -> list[str]:
    return [u.split("/chat/", 1)[1] for u in w.network_urls()[since:] if "/chat/" in u]


def _start_a_chat(w: Widget) -> None:
    w.load()
    wait_seconds(1)
    assert not _panel_shown(w), "the chat opened by itself on a first visit"
    w.open_chat()
    w.say(SECRET)


def test_a_reload_keeps_the_chat_closed_and_asks_before_showing_it(
    stack: Stack, open_widget: Callable[..., Widget]
) -> None:
    """The next person at the computer reloads the page: the chat stays closed, and opening it
    shows only the question, never the conversation; Escape closes it; clearing it ends the
    chat here while the facility keeps its record."""
    w = open_widget()
    _start_a_chat(w)
    cid = conversation_id(stack, w)

    seen = len(w.network_urls())
    w.driver.refresh()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-launcher"))
    wait_seconds(1.5)
    launcher = w.driver.find_element(By.CSS_SELECTOR, ".hlc-launcher")
    assert launcher.is_displayed() and launcher.get_attribute("aria-expanded") == "false"
    assert not _panel_shown(w)
    assert SECRET not in _root_text(w) and w.messages() == []
    # the page asked only whether a chat exists; it did not fetch the conversation
    assert _chat_urls(w, seen) == ["status"]

    prompt = w.resume_prompt()
    assert PROMPT in prompt.text
    assert "hidden until you choose to continue" in prompt.text
    assert w.driver.execute_script("return document.activeElement.id") == "hlc-resume-text"
    assert SECRET not in _root_text(w) and w.messages() == []
    assert not w.driver.find_element(By.ID, "hlc-input").is_displayed()
    assert not w.driver.find_element(By.CSS_SELECTOR, ".hlc-end").is_displayed()
    # the 911 / 988 line is there while the visitor decides
    assert w.driver.find_element(By.CSS_SELECTOR, ".hlc-emergency").is_displayed()

    # Escape hides it; opening again asks again
    w.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not _panel_shown(w)
    prompt = w.resume_prompt()
    assert SECRET not in _root_text(w)

    prompt.find_element(
        By.XPATH, ".//button[normalize-space()='Clear it from this device']"
    ).click()
    ended = w.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".hlc-ended"))
    w.wait(lambda d: ended.is_displayed())
    assert "cleared from this device" in ended.text
    w.wait(lambda d: "chat_session" not in w.cookie_names())
    assert SECRET not in _root_text(w)

    # a new visit starts afresh: no question, a new greeting, nothing of the old chat
    w.driver.refresh()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-launcher"))
    w.open_chat()
    assert not w.driver.find_element(By.CSS_SELECTOR, ".hlc-resume").is_displayed()
    assert [who for who, _ in w.messages()] == ["bot"]
    assert SECRET not in _root_text(w)
    assert conversation_id(stack, w) != cid
    # the cleared conversation stays with the facility (a health record), unchanged
    assert any(e.get("text") == SECRET for e in stack.tracker(cid)["events"])


def test_continue_and_clear_by_keyboard(open_widget: Callable[..., Widget]) -> None:
    """Keyboard only: the page's chat button opens the question, Tab reaches "Continue the
    chat" with visible focus, Enter shows the history with focus in the message box; Tab
    reaches "Clear this chat from this device", which asks before clearing."""
    w = open_widget()
    _start_a_chat(w)
    w.driver.refresh()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-launcher"))
    kb = Keyboard(w)
    kb.tab_to("Chat with us privately")
    kb.keys(Keys.ENTER)
    w.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".hlc-resume").is_displayed())
    assert kb.focused().get("id") == "hlc-resume-text"
    kb.tab_to("Continue the chat")
    kb.keys(Keys.ENTER)
    w.wait(lambda d: (SECRET in [t for who, t in w.messages() if who == "visitor"]) and w.idle())
    assert kb.focused().get("id") == "hlc-input"

    kb.tab_to("Clear this chat from this device")
    kb.keys(Keys.ENTER)
    assert kb.focused().get("id") == "hlc-confirm-text"
    confirm = w.driver.find_element(By.ID, "hlc-confirm-text").text
    assert "clear it from this device" in confirm and "admissions team" in confirm
    kb.tab_to("Yes, end and clear")
    kb.keys(Keys.ENTER)
    w.wait(lambda d: not w.messages())
    assert "cleared from this device" in w.driver.find_element(By.CSS_SELECTOR, ".hlc-ended").text
    assert "hlc-ended-text" in kb.focused().get("cls", "")
    w.wait(lambda d: "chat_session" not in w.cookie_names())


def test_the_question_on_a_phone_and_at_200_percent(open_widget: Callable[..., Widget]) -> None:
    """360 px phone: the question and its two buttons fit the screen as 44 px targets, axe finds
    nothing serious; continued, the clear control is on screen too. At 200 % zoom (640×400)
    the question's buttons are whole and uncovered."""
    audit = Audit("shared-device")
    w = open_widget(width=360, height=740)
    emulate_phone(w.driver)
    _start_a_chat(w)
    w.driver.refresh()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-launcher"))
    w.resume_prompt()
    boxes = w.driver.execute_script(
        "return Array.from(document.querySelectorAll('.hlc-resume button')).map(b => {"
        " const r = b.getBoundingClientRect();"
        " return {text: b.textContent, left: r.left, right: r.right, top: r.top,"
        " bottom: r.bottom, height: r.height}; })"
    )
    assert [b["text"] for b in boxes] == ["Continue the chat", "Clear it from this device"]
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= 360 and box["bottom"] <= 740, box
        assert box["height"] >= 44, box
    assert w.driver.execute_script("return document.documentElement.scrollWidth") <= 360
    audit.check(w, "phone, continue or clear?")
    w.screenshot("widget-phone-360-resume.png")
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-resume-yes").click()
    w.wait(lambda d: w.messages() and w.idle())
    clear = w.driver.execute_script(
        "const r = document.querySelector('.hlc-end').getBoundingClientRect();"
        "return {left: r.left, right: r.right, bottom: r.bottom, height: r.height}"
    )
    assert clear["left"] >= 0 and clear["right"] <= 360 and clear["bottom"] <= 740, clear
    assert clear["height"] >= 44
    audit.check(w, "phone, chat continued")

    zoomed = open_widget()
    emulate(zoomed, 640, 400, 2, False)
    _start_a_chat(zoomed)
    zoomed.driver.refresh()
    zoomed.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-launcher"))
    zoomed.resume_prompt()
    assert_reachable(zoomed, ".hlc-resume-yes", "Continue the chat")
    assert_reachable(zoomed, ".hlc-resume-clear", "Clear it from this device")
    audit.check(zoomed, "200 %, continue or clear?")
    zoomed.driver.find_element(By.CSS_SELECTOR, ".hlc-resume-yes").click()
    zoomed.wait(lambda d: zoomed.messages() and zoomed.idle())
    assert_reachable(zoomed, ".hlc-end", "Clear this chat from this device")
    audit.save()
