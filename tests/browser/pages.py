"""Headless Chromium and a small page object for the demo page's chat widget."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support import chromium

CHROMIUM, CHROMEDRIVER = chromium.CHROMIUM, chromium.CHROMEDRIVER
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "results" / "screenshots"
PHONE = "833-820-2922"
TEL = "tel:+18338202922"


def make_driver(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """Headless Chromium with performance (network) logging, no background traffic."""
    driver: webdriver.Chrome = chromium.make_driver(
        width,
        height,
        extra_args=("--disable-default-apps", "--hide-scrollbars"),
        logs=("performance", "browser"),
    )
    driver.set_script_timeout(60)
    return driver


@dataclass
class Widget:
    """The demo page and its chat widget in one browser."""

    driver: webdriver.Chrome
    base: str
    requests: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ navigation
    def load(self) -> None:
        """Open the demo page and wait for the widget."""
        self.driver.get(self.base + "/")
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".hlc-root"))

    def wait(self, condition: Any, timeout: float = 30, message: str = "") -> Any:
        """WebDriverWait with a readable failure."""
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition, message)

    def open_chat(self) -> None:
        """Click the launcher and wait for the greeting."""
        self.driver.find_element(By.CSS_SELECTOR, ".hlc-launcher").click()
        self.wait_bot(1)

    def resume_prompt(self) -> WebElement:
        """Click the launcher of a page whose browser has an earlier chat: the question whether
        to continue it (shown instead of the chat)."""
        self.driver.find_element(By.CSS_SELECTOR, ".hlc-launcher").click()
        return self.wait(
            lambda d: next(
                (e for e in d.find_elements(By.CSS_SELECTOR, ".hlc-resume") if e.is_displayed()),
                None,
            ),
            message="no question whether to continue the earlier chat",
        )

    def resume(self) -> None:
        """Open the chat and choose to continue the earlier one; wait for its history."""
        prompt = self.resume_prompt()
        prompt.find_element(By.XPATH, ".//button[normalize-space()='Continue the chat']").click()
        self.wait(lambda d: self.messages() and self.idle(), message="history not shown")

    def set_offline(self, offline: bool) -> None:
        """Cut or restore the network for this page (DevTools network emulation)."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )

    # ------------------------------------------------------------ reading
    def messages(self) -> list[tuple[str, str]]:
        """(who, text) of every message in the log: who is "bot" or "visitor"."""
        return [
            tuple(pair)  # type: ignore[misc]
            for pair in self.driver.execute_script(
                "return Array.from(document.querySelectorAll('.hlc-log > li')).map(li => ["
                "li.classList.contains('hlc-bot') ? 'bot' : 'visitor',"
                "(li.querySelector('.hlc-text') || {textContent: ''}).textContent])"
            )
        ]

    def bot_texts(self) -> list[str]:
        """Texts of the bot's messages."""
        return [text for who, text in self.messages() if who == "bot"]

    def wait_bot(self, count: int, timeout: float = 30) -> list[str]:
        """Wait until at least ``count`` bot messages are shown and no send is in flight."""
        self.wait(
            lambda d: len(self.bot_texts()) >= count and self.idle(),
            timeout,
            f"fewer than {count} bot messages: {self.messages()[-4:]}",
        )
        return self.bot_texts()

    def idle(self) -> bool:
        """True when the typing indicator is hidden (no request in flight)."""
        return bool(
            self.driver.execute_script(
                "const t = document.querySelector('.hlc-typing'); return !t || t.hidden"
            )
        )

    def reply_buttons(self) -> list[WebElement]:
        """The quick-reply buttons on offer now."""
        return self.driver.find_elements(By.CSS_SELECTOR, ".hlc-replies .hlc-reply")

    def call_links(self) -> list[WebElement]:
        """Tap-to-call links inside bot messages."""
        return self.driver.find_elements(By.CSS_SELECTOR, ".hlc-log a.hlc-call")

    # ------------------------------------------------------------ acting (mouse)
    def say(self, text: str) -> list[str]:
        """Type ``text``, press Enter, wait for the reply; the new bot messages."""
        before = len(self.bot_texts())
        box = self.driver.find_element(By.ID, "hlc-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        return self.wait_bot(before + 1)[before:]

    def press(self, title: str) -> list[str]:
        """Click the quick-reply button ``title``; the new bot messages."""
        before = len(self.bot_texts())
        buttons = [b for b in self.reply_buttons() if b.text.strip() == title]
        assert buttons, f"no reply button {title!r}: {[b.text for b in self.reply_buttons()]}"
        # as a person would: scroll until the button is in plain view (a short screen keeps the
        # text box over the bottom of the chat), then tap it
        self.driver.execute_script(
            "const b = arguments[0], r = b.getBoundingClientRect();"
            "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            "if (!hit || !(hit === b || b.contains(hit))) b.scrollIntoView({block: 'center'});",
            buttons[0],
        )
        buttons[0].click()
        return self.wait_bot(before + 1)[before:]

    # ------------------------------------------------------------ records
    def network_urls(self) -> list[str]:
        """Every URL the page requested since the last call (Chrome performance log)."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
        return list(self.requests)

    def off_origin_requests(self) -> list[str]:
        """Requested URLs that are not on the page's own origin."""
        origin = urlsplit(self.base)
        bad = []
        for url in self.network_urls():
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                bad.append(url)
        return bad

    def screenshot(self, name: str) -> Path:
        """Save a PNG screenshot under results/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.driver.save_screenshot(str(path))
        return path

    def storage(self) -> dict[str, int]:
        """How many keys localStorage and sessionStorage hold."""
        return dict(
            self.driver.execute_script(
                "return {local: localStorage.length, session: sessionStorage.length}"
            )
        )

    def cookie_names(self) -> set[str]:
        """Names of the cookies the browser holds for the page."""
        return {c["name"] for c in self.driver.get_cookies()}


def emulate_phone(driver: webdriver.Chrome, width: int = 360, height: int = 740) -> None:
    """A phone-sized touch viewport (CSS pixels) with a 2x screen."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})


def wait_seconds(seconds: float) -> None:
    """Sleep (only where the point is that something does *not* happen)."""
    time.sleep(seconds)
