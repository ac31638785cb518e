"""Reading the replies on a phone: a reply of several messages opens at its first message (the
screen reader's log still only gains the new messages), and a reference code or a phone
number never breaks across lines."""

from __future__ import annotations

import re
from collections.abc import Callable

from selenium.webdriver.common.by import By

from tests.browser.layout import rect, view
from tests.browser.pages import PHONE, Widget, emulate_phone
from tests.browser.visitor import assess

CODE = re.compile(r"^[ACDEFGHJKMNPQRTUVWXY3479]{3}-[ACDEFGHJKMNPQRTUVWXY3479]{2}$")

# Records what happens to the live region while a reply arrives.
WATCH_LOG = """
const region = document.querySelector('.hlc-body [role=log]');
window.__logChanges = {added: 0, removed: 0, live: []};
window.__logObserver = new MutationObserver(records => {
  for (const r of records) {
    if (r.type === 'childList') {
      window.__logChanges.added += r.addedNodes.length;
      window.__logChanges.removed += r.removedNodes.length;
    } else {
      window.__logChanges.live.push(region.getAttribute('aria-live'));
    }
  }
});
window.__logObserver.observe(region, {childList: true, subtree: true, attributes: true,
                                      attributeFilter: ['aria-live']});
"""


def test_a_long_reply_opens_at_its_first_message_on_a_phone(
    open_widget: Callable[..., Widget],
) -> None:
    """360 px phone: after the last screening answer the fit explanation arrives as several
    messages; the first of them is in view at the top of the message area (not scrolled past
    to "Admissions is …"), while the live region only gained the new messages."""
    w = open_widget(width=360, height=740)
    emulate_phone(w.driver)
    w.load()
    w.open_chat()
    marks: list[int] = []

    def watch() -> None:
        marks.append(len(w.driver.find_elements(By.CSS_SELECTOR, ".hlc-log > li")))
        w.driver.execute_script(WATCH_LOG)

    new = assess(w, before_last=watch)
    before = marks[0]
    assert len(new) >= 2, f"expected a reply of several messages: {new}"
    items = w.driver.find_elements(By.CSS_SELECTOR, ".hlc-log > li")
    first = items[before + 1]  # after the visitor's "No"
    assert "hlc-bot" in first.get_attribute("class")
    assert new[0] in first.get_attribute("textContent")
    band = view(w)
    box = rect(w, first)
    # the panel itself never scrolls on a phone (the header stays put); only the messages do
    assert band["scroller"] == "body"
    assert w.driver.execute_script(
        "const p = document.getElementById('hlc-panel');"
        "return p.scrollTop === 0 && p.scrollHeight <= p.clientHeight"
    )
    assert band["top"] - 1 <= box["top"] < band["bottom"], (band, box)
    # a reply taller than the screen starts at the top, its first lines readable
    reply_height = rect(w, items[-1])["bottom"] - box["top"]
    if reply_height > band["bottom"] - band["top"]:
        assert box["top"] - band["top"] <= 16, (band, box)
        assert band["scrollTop"] < band["end"] - 1, "scrolled to the end, past the reply's start"
    else:
        assert rect(w, items[-1])["bottom"] <= band["bottom"] + 1
    w.screenshot("widget-phone-360-reply-start.png")

    # the screen reader hears the new messages once: added, nothing removed or re-rendered,
    # the log stays polite, and focus did not jump into the messages
    changes = w.driver.execute_script(
        "window.__logObserver.disconnect(); return window.__logChanges"
    )
    assert changes["removed"] == 0 and changes["live"] == []
    assert changes["added"] >= 1 + len(new)  # the visitor's "No" and each bot message
    region = w.driver.find_element(By.CSS_SELECTOR, ".hlc-body [role=log]")
    assert region.get_attribute("aria-live") == "polite"
    assert region.get_attribute("aria-relevant") == "additions"
    assert not w.driver.execute_script(
        "return document.querySelector('.hlc-log').contains(document.activeElement)"
    )

    # a keyboard that shrinks the layout (Firefox on Android) makes the whole panel scroll:
    # the reply's first message stays in view across the switch, and back
    for height, scroller in ((380, "panel"), (740, "body")):
        emulate_phone(w.driver, 360, height)
        w.wait(lambda d, s=scroller: view(w)["scroller"] == s)
        band, box = view(w), rect(w, first)
        assert band["top"] - 1 <= box["top"] < band["bottom"] - 20, (height, band, box)

    # after the visitor sends something, the view follows them to the end again
    w.say("thank you")
    band = view(w)
    assert band["scrollTop"] >= band["end"] - 1


def test_codes_and_phone_numbers_never_break(open_widget: Callable[..., Widget]) -> None:
    """ "Talk to a person" gives the reference code: it sits in a span that stays on one line at
    every message width, as does the phone number; the text reads the same."""
    w = open_widget(width=320, height=640)
    emulate_phone(w.driver, 320, 640)
    w.load()
    w.open_chat()
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-tools .hlc-secondary").click()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-log .hlc-code"))
    w.wait(lambda d: w.idle())
    code = w.driver.find_elements(By.CSS_SELECTOR, ".hlc-log .hlc-code")[-1]
    assert CODE.match(code.text), code.text
    message = code.find_element(By.XPATH, "./ancestor::li")
    assert f"code {code.text}" in message.get_attribute("textContent")  # same words around it
    phones = w.driver.find_elements(By.CSS_SELECTOR, ".hlc-log .hlc-phone")
    assert PHONE in [p.text for p in phones]
    lines = w.driver.execute_script(
        """
        const li = arguments[0], spans = arguments[1], out = [];
        for (let width = 120; width <= 300; width += 3) {
          li.style.maxWidth = width + 'px';
          for (const s of spans) out.push([width, s.textContent, s.getClientRects().length]);
        }
        li.style.maxWidth = '';
        return out;
        """,
        message,
        [code, *(p for p in phones if p.find_elements(By.XPATH, "./ancestor::li"))],
    )
    broken = [(width, text) for width, text, count in lines if count != 1]
    assert broken == [], f"split across lines at these message widths: {broken[:5]}"
    assert code.value_of_css_property("white-space") == "nowrap"


def test_a_resumed_chat_opens_at_its_last_reply(open_widget: Callable[..., Widget]) -> None:
    """After a reload, once the visitor continues the chat, the history is shown from the start
    of the last reply, not scrolled to the bottom past it."""
    w = open_widget(width=360, height=740)
    emulate_phone(w.driver)
    w.load()
    w.open_chat()
    assess(w)
    last_reply = w.driver.execute_script(
        "const items = Array.from(document.querySelectorAll('.hlc-log > li'));"
        "let i = items.length - 1; while (i > 0 && items[i - 1].classList.contains('hlc-bot')) i--;"
        "return items[i].textContent"
    )
    w.driver.refresh()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-launcher"))
    w.resume()  # issue 15 #7: the earlier chat is shown only once the visitor continues it
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-log > li"))
    w.wait(lambda d: d.find_element(By.ID, "hlc-panel").is_displayed())
    first = [
        li
        for li in w.driver.find_elements(By.CSS_SELECTOR, ".hlc-log > li")
        if li.get_attribute("textContent") == last_reply
    ][-1]
    band, box = view(w), rect(w, first)
    assert band["top"] - 1 <= box["top"] < band["bottom"], (band, box)
