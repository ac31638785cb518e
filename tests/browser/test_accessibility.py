"""axe-core (from npm, injected into the page) on the demo page and the widget in each of its
states, at desktop size and on a 360 px phone; reduced motion; screenshots for the README."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import ROOT, Widget, emulate_phone

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = ROOT / "results" / "axe"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""

pytestmark = pytest.mark.skipif(
    not AXE.exists(), reason="needs axe-core: npm install (package.json at the repo root)"
)


class Audit:
    """Runs axe in named page states and keeps every finding for results/axe/."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.findings: dict[str, list[dict]] = {}

    def check(self, w: Widget, state: str) -> None:
        if not w.driver.execute_script("return typeof axe !== 'undefined'"):
            w.driver.execute_script(AXE.read_text())
        violations = w.driver.execute_async_script(RUN_AXE, TAGS)
        self.findings[state] = violations
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{state}: {json.dumps(serious, indent=1)}"

    def save(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        path.write_text(json.dumps(self.findings, indent=1) + "\n")
        return path


def _start_assessment(w: Widget) -> None:
    w.open_chat()
    w.press("I want help for myself")
    w.say("I have Aetna through my job")
    w.say("I work 9 to 5 Monday to Friday")
    w.say("I take care of my kids")
    w.say("I'm free weekday evenings after 5")


def _finish_assessment(w: Widget) -> None:
    for answer in ("Yes, that's right", "Yes", "No", "Yes", "No"):
        w.press(answer)


def _scroll_to(w: Widget, text: str) -> None:
    w.driver.execute_script(
        "const li = Array.from(document.querySelectorAll('.hlc-log > li'))"
        ".find(li => li.textContent.includes(arguments[0]));"
        "const body = document.querySelector('.hlc-body');"
        "body.scrollTop += li.getBoundingClientRect().top - body.getBoundingClientRect().top - 8;",
        text,
    )


def test_desktop_axe_in_every_state(open_widget: Callable[..., Widget], dead_rasa_app: str) -> None:
    """Zero serious or critical axe violations: page, open chat, replies, fit, "Clear this chat"
    confirmation, ended, offline, and the Rasa-down alert."""
    audit = Audit("desktop")
    w = open_widget()
    w.load()
    audit.check(w, "page, chat closed")
    _start_assessment(w)
    audit.check(w, "chat open, yes/no replies offered")
    w.screenshot("widget-desktop-replies.png")
    _finish_assessment(w)
    audit.check(w, "fit explained, call button")
    _scroll_to(w, "looks like a good fit")
    w.screenshot("widget-desktop-fit-explained.png")
    w.set_offline(True)
    w.driver.find_element(By.ID, "hlc-input").send_keys("are you still there?\n")
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-visitor.hlc-pending"))
    audit.check(w, "offline, message waiting")
    w.set_offline(False)
    w.wait_bot(len(w.bot_texts()) + 1, timeout=40)
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-end").click()
    audit.check(w, "clear chat confirmation")
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-danger").click()
    w.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".hlc-ended").is_displayed())
    audit.check(w, "chat ended")

    down = open_widget(dead_rasa_app)
    down.load()
    down.driver.find_element(By.CSS_SELECTOR, ".hlc-launcher").click()
    down.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".hlc-alert").text)
    audit.check(down, "assistant unavailable")
    audit.save()


def test_phone_360(open_widget: Callable[..., Widget]) -> None:
    """At 360 CSS px the page and the chat fit without sideways scrolling, every control is on
    screen, axe finds nothing serious; reduced motion turns the animations off."""
    audit = Audit("phone-360")
    w = open_widget(width=360, height=740)
    emulate_phone(w.driver)
    w.driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]},
    )
    w.load()
    assert w.driver.execute_script("return document.documentElement.scrollWidth") <= 360
    w.screenshot("demo-phone-360.png")
    audit.check(w, "page, chat closed")
    _start_assessment(w)
    box = w.driver.execute_script(
        "const r = document.getElementById('hlc-panel').getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,"
        " vw: innerWidth, vh: innerHeight}"
    )
    assert box["left"] == 0 and box["right"] == box["vw"] == 360  # full screen on a phone
    assert box["bottom"] <= box["vh"]
    for selector in (
        "#hlc-input",
        ".hlc-send",
        ".hlc-end",
        ".hlc-tools .hlc-secondary",
        ".hlc-emergency",
        ".hlc-reply",
    ):
        rect = w.driver.execute_script(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return [r.left, r.right, r.top, r.bottom, r.height]",
            selector,
        )
        assert rect[0] >= 0 and rect[1] <= 360 and rect[2] >= 0 and rect[3] <= box["vh"], (
            selector,
            rect,
        )
    targets = w.driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.hlc-reply, .hlc-send, .hlc-secondary, .hlc-icon-button, .hlc-call'))"
        ".filter(b => b.offsetParent !== null).map(b => b.getBoundingClientRect().height)"
    )
    assert min(targets) >= 44  # comfortable touch targets
    assert w.driver.execute_script(
        "return document.getElementById('hlc-panel').scrollWidth"
        " <= document.getElementById('hlc-panel').clientWidth"
    )
    animation = w.driver.execute_script(
        "return [getComputedStyle(document.getElementById('hlc-panel')).animationName,"
        " getComputedStyle(document.querySelector('.hlc-dots span')).animationName]"
    )
    assert animation == ["none", "none"]
    audit.check(w, "chat open, yes/no replies offered")
    w.screenshot("widget-phone-360-replies.png")
    _finish_assessment(w)
    audit.check(w, "fit explained, call button")
    _scroll_to(w, "looks like a good fit")
    w.screenshot("widget-phone-360-fit.png")
    w.driver.execute_script(
        "const b = document.querySelector('.hlc-body'); b.scrollTop = b.scrollHeight"
    )
    w.screenshot("widget-phone-360-call.png")
    audit.save()
