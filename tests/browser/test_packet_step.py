"""The "help admissions prepare" step in the widget on a 360 px phone (issue 16): the offer,
a native date field for the date of birth (labelled, sent like a typed answer), Skip on every
question, nothing of the answers kept in the browser, and no serious axe violations."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import Widget, emulate_phone
from tests.browser.stack import Stack
from tests.browser.test_accessibility import AXE, Audit
from tests.browser.test_callback import _model_knows
from tests.browser.test_widget import conversation_id

pytestmark = [
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: npm install"),
    pytest.mark.skipif(
        not _model_knows("action_offer_packet"), reason="the model predates the packet step"
    ),
]

STORAGE = (
    "return JSON.stringify([localStorage, sessionStorage].map(s => Object.keys(s)"
    ".map(k => k + '=' + s.getItem(k))))"
)


def test_the_step_on_a_phone(stack: Stack, open_widget: Callable[..., Widget]) -> None:
    """Booked callback -> offer -> first name -> the date field -> the next question."""
    audit = Audit("packet-step-phone-360")
    w = open_widget(width=360, height=740)
    emulate_phone(w.driver)
    w.load()
    w.open_chat()
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-tools .hlc-secondary:not(.hlc-end)").click()
    w.wait(lambda d: len(w.bot_texts()) >= 2 and w.idle())
    w.press("Ask admissions to call me")
    w.press("Yes, save my details")
    w.say("Sam")
    w.say("(412) 555-0143, best after 6pm")
    w.press("No, keep it discreet")
    offer = w.press("No")
    assert any("Only our admissions team reads the answers" in t for t in offer)
    w.press("Yes, help admissions prepare")
    asked = w.say("Sam")
    assert "date of birth" in asked[-1]
    field = w.driver.find_element(By.CSS_SELECTOR, ".hlc-replies input[type=date]")
    label = w.driver.find_element(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
    assert label.text == "Date of birth" and field.is_displayed()
    assert "Skip" in [b.text.strip() for b in w.reply_buttons()]
    assert w.driver.execute_script("return document.documentElement.scrollWidth") <= 360
    audit.check(w, "date of birth question with its date field")
    w.screenshot("widget-phone-360-packet-date.png")
    # a date picked in the native picker (the picker itself is the browser's, not the page's)
    w.driver.execute_script("arguments[0].value = '1988-03-14'", field)
    before = len(w.bot_texts())
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-replies .hlc-date-send").click()
    after = w.wait_bot(before + 1)[before:]
    assert "insurance" in after[-1].lower()
    assert ("visitor", "1988-03-14") in w.messages()
    assert not w.driver.find_elements(By.CSS_SELECTOR, ".hlc-replies input[type=date]")
    w.press("Skip")
    assert "1988" not in w.driver.execute_script(STORAGE)  # never kept in the browser
    slots = stack.tracker(conversation_id(stack, w))["slots"]
    assert slots["handoff_packet"]["dob"] == "1988-03-14"
    assert "payer" in slots["handoff_packet"]["skipped"]
    audit.save()
