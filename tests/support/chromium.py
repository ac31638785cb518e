"""Headless Chromium for every browser test (``tests/browser`` and ``tests/web/*_browser.py``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
)


def missing() -> str | None:
    """Why browser tests cannot run here, or ``None``."""
    if not Path(CHROMIUM).exists() or not (
        Path(CHROMEDRIVER).exists() or shutil.which("chromedriver")
    ):
        return "needs Chromium and chromedriver (make system-deps)"
    return None


def make_driver(
    width: int = 1280,
    height: int = 900,
    extra_args: Iterable[str] = (),
    logs: Iterable[str] = (),
) -> Any:
    """Headless Chromium with no background traffic, at ``width`` x ``height``; ``logs`` are the
    logging types kept (``performance`` for the network, ``browser`` for the console)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (*ARGS, *extra_args, f"--window-size={width},{height}"):
        options.add_argument(arg)
    kept = list(logs)
    if kept:
        options.set_capability("goog:loggingPrefs", {kind: "ALL" for kind in kept})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
