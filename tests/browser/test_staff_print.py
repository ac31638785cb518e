"""The admissions coordinator's pages with a real assessment and callback request made through
the widget: printed with Chromium's print-to-PDF, the summary, the callback and the fit come
first, then the transcript, in 3 pages or fewer; at 200 % zoom nothing scrolls sideways."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions

from admissions.web.templating import conversation_url
from tests.browser.pages import ROOT, Widget
from tests.browser.stack import Stack, app_env
from tests.browser.test_accessibility import Audit
from tests.browser.test_widget import conversation_id
from tests.browser.visitor import assess

PASSWORD = "a long print test password"
RESULTS = ROOT / "results" / "print"
MAX_PAGES = 3


def create_staff(stack: Stack, username: str) -> None:
    """An admissions account in the running app's database, through the CLI staff use."""
    port = int(stack.app_url.rsplit(":", 1)[1])
    env = app_env(stack.tmp, port, stack.rasa_url, stack.jwt_secret)
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        [sys.executable, "-m", "admissions.web.cli", "create-user", "--username", username,
         "--role", "admissions", "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip


def sign_in(w: Widget, username: str) -> None:
    """Sign in to the staff app in this browser."""
    w.driver.get(w.base + "/staff/login")
    w.driver.find_element(By.NAME, "username").send_keys(username)
    w.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    w.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    w.wait(lambda d: "/staff/login" not in d.current_url)


def page_count(pdf: bytes) -> int:
    """Pages in a PDF written by Chromium (one ``/Type /Page`` dictionary per page)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_printed_transcript_puts_the_summary_first_and_fits_in_3_pages(
    stack: Stack, open_widget: Callable[..., Widget]
) -> None:
    visitor = open_widget()
    visitor.load()
    visitor.open_chat()
    assess(visitor)
    visitor.press("Ask admissions to call me")
    visitor.press("Yes, save my details")
    visitor.say("Sam")
    visitor.say("412-555-0143")
    visitor.say("after 6 pm")
    visitor.press("No, keep it discreet")
    visitor.press("No")
    cid = conversation_id(stack, visitor)

    create_staff(stack, "printer")
    staff = open_widget()
    sign_in(staff, "printer")
    staff.driver.get(staff.base + conversation_url(cid))
    staff.wait(lambda d: d.find_elements(By.ID, "callback-h"))
    page = staff.driver.find_element(By.TAG_NAME, "main").text
    assert "Sam" in page and "No voicemail · no texts" in page
    assert "Tapped: I want help for myself" in page and "/ready_to_start" not in page
    staff.screenshot("staff-transcript.png")

    # in print, the overview comes first: summary, callback, fit, then the transcript
    staff.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    tops = staff.driver.execute_script(
        "return ['summary-h', 'callback-h', 'fit-h', 'chat-h'].map("
        "id => document.getElementById(id).getBoundingClientRect().top)"
    )
    assert tops == sorted(tops), tops
    hidden = staff.driver.execute_script(
        "return ['.top', '.slots-panel', '.nlu-details', 'form'].map(s => "
        "Array.from(document.querySelectorAll(s)).every(e => e.offsetParent === null))"
    )
    assert hidden == [True, True, True, True]
    staff.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    options = PrintOptions()
    options.page_width, options.page_height = 21.59, 27.94  # US Letter, in cm
    pdf = base64.b64decode(staff.driver.print_page(options))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "transcript.pdf").write_bytes(pdf)
    pages = page_count(pdf)
    assert 1 <= pages <= MAX_PAGES, f"{pages} printed pages (see {RESULTS / 'transcript.pdf'})"
    if os.environ.get("PRINT_PNG") and Path("/usr/bin/pdftoppm").exists():
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                str(RESULTS / "transcript.pdf"),
                str(RESULTS / "page"),
            ],
            check=True,
        )

    # 200 % zoom on a 1280×800 screen: the queue, the list and the transcript reflow
    audit = Audit("staff-zoom-200")
    staff.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 640, "height": 400, "deviceScaleFactor": 2, "mobile": False},
    )
    for path in ("/staff/callbacks", "/staff/conversations?reviewed=any", conversation_url(cid)):
        staff.driver.get(staff.base + path)
        staff.wait(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        widths = staff.driver.execute_script(
            "return [document.documentElement.scrollWidth, innerWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
        audit.check(staff, path)
    staff.driver.get(staff.base + "/staff/callbacks")
    staff.screenshot("staff-callbacks-zoom-200.png")
    audit.save()
