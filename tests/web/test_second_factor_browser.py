"""The second-factor enrolment page in headless Chromium: an admin signing in for the first time
sees the QR code (inline SVG, drawn under the staff CSP: no violation, no request to another
origin), types the code from the key, gets the recovery codes once, and lands signed in."""

from __future__ import annotations

import asyncio

import pyotp
import pytest

from tests.support import chromium
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.skipif(bool(chromium.missing()), reason=str(chromium.missing()))


def _driver():
    return chromium.make_driver(
        390, 844, logs=("browser",)
    )  # a phone-sized window: the page must work there too


def _enrol(base: str) -> dict[str, object]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _driver()
    try:
        driver.get(base + "/staff/login")
        driver.find_element(By.NAME, "username").send_keys("ada")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        WebDriverWait(driver, 20).until(lambda d: "/staff/login/enrol" in d.current_url)
        qr = driver.find_element(By.CSS_SELECTOR, "#totp-qr svg.qr")
        size = qr.size
        secret = driver.find_element(By.ID, "totp-secret").text.replace(" ", "")
        origins = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)"
        )
        driver.find_element(By.NAME, "code").send_keys(pyotp.TOTP(secret).now())
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "recovery-codes"))
        codes = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#recovery-codes code")]
        driver.find_element(By.LINK_TEXT, "I have kept them: continue").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/staff/"))
        home = driver.find_element(By.TAG_NAME, "main").text
        logs = [entry["message"] for entry in driver.get_log("browser")]
        return {
            "size": size,
            "secret": secret,
            "origins": origins,
            "codes": codes,
            "home": home,
            "logs": logs,
        }
    finally:
        driver.quit()


async def test_an_admin_enrols_in_the_browser(make_user, aiohttp_server, app_factory):
    await make_user("ada", "admin")
    server = await aiohttp_server(app_factory())
    base = f"http://127.0.0.1:{server.port}"
    seen = await asyncio.to_thread(_enrol, base)
    assert seen["size"]["width"] >= 150 and seen["size"]["height"] >= 150  # drawn, scannable
    assert len(str(seen["secret"])) == 32
    assert set(seen["origins"]) <= {base}, seen["origins"]  # nothing from another origin
    assert not [m for m in seen["logs"] if "Content Security Policy" in m], seen["logs"]
    assert len(seen["codes"]) == 10
    assert "Good to see you, ada" in str(seen["home"])
