"""Staff pages at 200 % zoom on a 1280×800 screen (640×400 CSS px), in headless Chromium: the
audit trail becomes one card per record with its details in words, and the home page's counts,
the conversation list's "since the line closed" controls, the NLU inbox and the annotate page's
intent choices reflow too; nothing scrolls sideways and axe finds nothing serious.

Only the web app runs here (no Rasa: these pages read the databases), on a tracker store
written by the test."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import CHROMEDRIVER, CHROMIUM, ROOT, Widget, make_driver
from tests.browser.stack import app_env, free_port, start_app, wait_until_up
from tests.browser.test_accessibility import Audit
from tests.web.fixtures import Conversation, create_tracker_store, write

PASSWORD = "a long reflow test password"
ZOOM_200 = {"width": 640, "height": 400, "deviceScaleFactor": 2, "mobile": False}


@dataclass
class App:
    """The running web app and the folder of its databases."""

    url: str
    tmp: Path


def _conversations(tracker_url: str) -> None:
    now = time.time()
    engine = create_tracker_store(tracker_url)
    crisis = Conversation("reflow-crisis", start=now - 1800)
    crisis.visitor("I can't do this anymore", intent="crisis").slot("crisis_detected", True)
    crisis.slot("reference_code", "Q4M-9Z")
    unsure = Conversation("reflow-unsure", start=now - 1200)
    unsure.bot("Who is the help for?")
    unsure.visitor("for myself", intent="crisis", confidence=0.55)
    unsure.bot("Are you safe right now?")
    write(engine, crisis, unsure)
    engine.dispose()


def _create(app: App, username: str, *roles: str) -> None:
    port = int(app.url.rsplit(":", 1)[1])
    env = app_env(app.tmp, port, "http://127.0.0.1:9", "unused")
    role_args = [arg for role in roles for arg in ("--role", role)]
    subprocess.run(
        [sys.executable, "-m", "admissions.web.cli", "create-user", "--username", username,
         *role_args, "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.skip("needs Chromium and chromedriver (make system-deps)")
    tmp = tmp_path_factory.mktemp("reflow")
    _conversations(f"sqlite:///{tmp / 'tracker.db'}")
    proc, url = start_app(tmp, f"http://127.0.0.1:{free_port()}", secrets.token_hex(32), "reflow")
    try:
        wait_until_up(proc, f"{url}/staff/health", 60)
        running = App(url, tmp)
        _create(running, "ada", "admin")
        _create(running, "karen", "admissions", "trainer")
        yield running
    finally:
        proc.stop()


@pytest.fixture
def browser(app: App) -> Iterator[Widget]:
    w = Widget(make_driver(1280, 900), app.url)
    try:
        yield w
    finally:
        w.driver.quit()


def sign_in(w: Widget, username: str) -> None:
    """Sign in; an admin sets up the second factor on the way, as a person would."""
    w.driver.get(w.base + "/staff/login")
    w.driver.find_element(By.NAME, "username").send_keys(username)
    w.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    w.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    w.wait(lambda d: d.current_url.rstrip("/").rsplit("/", 1)[-1] != "login")
    secret = w.driver.find_elements(By.ID, "totp-secret")
    if secret:
        code = pyotp.TOTP(secret[0].text.replace(" ", "")).now()
        w.driver.find_element(By.NAME, "code").send_keys(code)
        w.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        w.wait(lambda d: not d.find_elements(By.ID, "totp-secret"))


def no_sideways_scroll(w: Widget, where: str) -> None:
    widths = w.driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], (where, widths)


def cards(w: Widget, table: str) -> list[dict]:
    """Each row of ``table`` as laid out: display, left and right edges."""
    return list(
        w.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr')).map(r => {"
            " const b = r.getBoundingClientRect();"
            " return {display: getComputedStyle(r).display, left: b.left, right: b.right,"
            "  text: r.innerText}; })",
            table,
        )
    )


def zoom(w: Widget) -> None:
    w.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", ZOOM_200)


def test_audit_trail_becomes_cards_in_words_at_200_percent(browser: Widget, app: App) -> None:
    staff = Widget(make_driver(1280, 900), app.url)
    try:
        sign_in(staff, "karen")
        staff.driver.get(app.url + "/staff/conversations?crisis=yes&reviewed=any")
        staff.driver.get(app.url + "/staff/conversations/reflow-crisis")
    finally:
        staff.driver.quit()
    w = browser
    sign_in(w, "ada")
    zoom(w)
    w.driver.get(app.url + "/staff/audit")
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "table.audit tbody tr"))
    no_sideways_scroll(w, "audit")
    rows = cards(w, "table.audit")
    assert len(rows) >= 3
    for row in rows:
        assert row["display"] == "block", row
        assert 0 <= row["left"] and row["right"] <= 640, row
        assert "{" not in row["text"] and '"' not in row["text"], row["text"]
    every = "\n".join(r["text"] for r in rows)
    assert "Filters: crisis yes, reviewed or not" in every
    assert "Code Q4M-9Z" in every and "Read a transcript" in every
    # each cell of a card says what it is ("Details: ...")
    label = w.driver.execute_script(
        "return getComputedStyle(document.querySelector('table.audit td.audit-detail'),"
        " '::before').content"
    )
    assert label == '"Details: "', label
    # the column headings are still there for screen readers, out of sight
    head = w.driver.find_element(By.CSS_SELECTOR, "table.audit thead").rect
    assert head["width"] <= 1 and head["height"] <= 1
    w.driver.execute_script("document.querySelector('table.audit tbody tr').scrollIntoView()")
    w.screenshot("staff-audit-zoom-200.png")
    audit = Audit("staff-audit-zoom-200")
    audit.check(w, "audit trail")
    audit.save()


def test_last_night_and_trainer_pages_reflow_at_200_percent(browser: Widget, app: App) -> None:
    w = browser
    sign_in(w, "karen")
    zoom(w)
    audit = Audit("staff-last-night-zoom-200")
    w.driver.get(app.url + "/staff/")
    counts = w.driver.find_element(By.CSS_SELECTOR, ".counts").text
    assert "new conversation" in counts and "crisis" in counts and "waiting" in counts
    no_sideways_scroll(w, "home")
    audit.check(w, "home with counts")
    w.driver.get(app.url + "/staff/conversations")
    assert w.driver.find_element(By.NAME, "since").get_attribute("value") == "closing"
    assert w.driver.find_element(By.NAME, "short").get_attribute("value") == "hide"
    listing = w.driver.find_element(By.CSS_SELECTOR, "main").text
    assert "code Q4M-9Z" in listing and "I can't do this" not in listing
    no_sideways_scroll(w, "list")
    audit.check(w, "conversation list")
    w.driver.get(app.url + "/staff/training/inbox")
    rows = cards(w, "table.reflow")
    assert rows and all(r["display"] == "block" and r["right"] <= 640 for r in rows), rows
    assert "for myself" in rows[0]["text"] and "low confidence" in rows[0]["text"]
    no_sideways_scroll(w, "inbox")
    audit.check(w, "NLU inbox")
    w.driver.find_element(By.LINK_TEXT, "Annotate").click()
    w.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "fieldset.intent-choice"))
    radios = w.driver.find_elements(By.CSS_SELECTOR, "input[name=intent]")
    assert len(radios) > 10 and not [r for r in radios if r.is_selected()]
    no_sideways_scroll(w, "annotate")
    audit.check(w, "annotate")
    w.driver.execute_script("document.querySelector('fieldset.intent-choice').scrollIntoView()")
    w.screenshot("staff-annotate-zoom-200.png")
    audit.save()
