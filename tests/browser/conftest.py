"""Fixtures: one real stack (Rasa with a JWT-protected API, action server, web app) for the
whole browser suite, a second app whose Rasa is down, and a fresh Chromium per test that
must not request anything outside the page's origin."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.browser.pages import Widget, make_driver
from tests.browser.stack import (
    MODEL,
    Process,
    Stack,
    free_port,
    running_stack,
    start_app,
    wait_until_up,
)
from tests.support import chromium


def _missing() -> str | None:
    if chromium.missing():
        return chromium.missing()
    if not MODEL.exists():
        return f"needs a trained model at {MODEL} (make train)"
    return None


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa + action server + web app, started once for the suite."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def dead_rasa_app(stack: Stack) -> Iterator[str]:
    """Another web app process whose Rasa URL points at a port nobody listens on."""
    proc: Process
    proc, url = start_app(
        stack.tmp, f"http://127.0.0.1:{free_port()}", stack.jwt_secret, "app-dead"
    )
    try:
        wait_until_up(proc, f"{url}/staff/health", 60)
        yield url
    finally:
        proc.stop()


@pytest.fixture
def open_widget(stack: Stack) -> Iterator[Callable[..., Widget]]:
    """Make a fresh browser on a base URL; after the test, no request left the origin and no
    script error (a CSP violation included) was logged."""
    made: list[Widget] = []

    def make(base: str | None = None, width: int = 1280, height: int = 900) -> Widget:
        widget = Widget(make_driver(width, height), base or stack.app_url)
        made.append(widget)
        return widget

    yield make
    try:
        for widget in made:
            assert widget.off_origin_requests() == [], "requests outside the page's origin"
            severe = [
                entry["message"]
                for entry in widget.driver.get_log("browser")
                if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
            ]
            assert severe == [], f"errors in the browser console: {severe}"
    finally:
        for widget in made:
            widget.driver.quit()
