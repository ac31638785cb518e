"""Keyboard only, end to end: no clicks, no pointer. Every control reached with Tab, used with
Enter, and its focus visible."""

from __future__ import annotations

from collections.abc import Callable

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.pages import PHONE, TEL, Widget

FOCUS_STYLE = """
const el = document.activeElement;
if (!el || el === document.body) return null;
const style = getComputedStyle(el);
return {
  tag: el.tagName, text: (el.innerText || el.value || '').trim(), cls: el.className || '',
  id: el.id, href: el.getAttribute('href'),
  outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
};
"""


class Keyboard:
    """Keys into whatever has focus, and what has focus."""

    def __init__(self, w: Widget) -> None:
        self.w = w

    def keys(self, *keys: str) -> None:
        ActionChains(self.w.driver).send_keys(*keys).perform()

    def focused(self) -> dict:
        return self.w.driver.execute_script(FOCUS_STYLE) or {}

    def tab_to(self, text: str, backwards: bool = False, limit: int = 25) -> dict:
        """Press Tab (or Shift+Tab) until the focused control's text is ``text``."""
        seen = []
        for _ in range(limit):
            if backwards:
                ActionChains(self.w.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
                    Keys.SHIFT
                ).perform()
            else:
                self.keys(Keys.TAB)
            now = self.focused()
            seen.append(now.get("text") or now.get("id") or now.get("cls"))
            if now.get("text") == text:
                assert now["outline"], f"no visible focus on {text!r}: {now}"
                return now
        raise AssertionError(f"{text!r} not reached with the keyboard; focus went: {seen}")

    def answer(self, title: str) -> None:
        """Activate reply button ``title`` (reached from where focus is) and wait for the bot."""
        before = len(self.w.bot_texts())
        where = self.focused()
        backwards = where.get("id") == "hlc-input"
        self.tab_to(title, backwards=backwards)
        self.keys(Keys.ENTER)
        self.w.wait_bot(before + 1)

    def type(self, text: str) -> None:
        """Type into the message box (reached with Tab if needed), Enter, wait for the bot."""
        before = len(self.w.bot_texts())
        if self.focused().get("id") != "hlc-input":
            now = None
            for _ in range(10):
                self.keys(Keys.TAB)
                now = self.focused()
                if now.get("id") == "hlc-input":
                    break
            assert now and now.get("id") == "hlc-input", f"message box not reached: {now}"
        self.keys(text, Keys.ENTER)
        self.w.wait_bot(before + 1)


def test_keyboard_only_assessment(open_widget: Callable[..., Widget]) -> None:
    """Open the chat, answer by typing and by buttons, reach the call button, hide the chat,
    all with Tab, Shift+Tab, Enter and Escape."""
    w = open_widget()
    w.load()
    kb = Keyboard(w)
    kb.tab_to("Chat with us privately")  # the page's own button opens the widget
    kb.keys(Keys.ENTER)
    w.wait_bot(1)
    assert kb.focused().get("id") == "hlc-input"  # focus moves into the chat

    kb.answer("I want help for myself")
    assert "How would you pay" in w.bot_texts()[-1]
    kb.type("I have Aetna through my job")
    kb.type("I work 9 to 5 Monday to Friday")
    kb.type("I take care of my kids")
    kb.type("I'm free weekday evenings after 5")
    for answer in ("Yes, that's right", "Yes", "No", "Yes", "No"):
        kb.answer(answer)
    assert any("looks like a good fit" in t for t in w.bot_texts())

    # the call button in the last message is reachable and focus-visible
    call = kb.tab_to(f"Call {PHONE}", backwards=True)
    assert call["tag"] == "A" and call["href"] == TEL

    # "Talk to a person" from the keyboard
    kb.tab_to("Talk to a person")
    before = len(w.bot_texts())
    kb.keys(Keys.ENTER)
    w.wait_bot(before + 1)
    assert PHONE in w.bot_texts()[-1]

    # Escape hides the panel and gives focus back to the launcher
    kb.keys(Keys.ESCAPE)
    assert kb.focused().get("cls") == "hlc-launcher"
    kb.keys(Keys.ENTER)
    assert kb.focused().get("id") == "hlc-input"
