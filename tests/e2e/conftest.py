"""Fixtures: one real Rasa + action server stack for the whole suite (every test uses its own
conversation id), started once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import Stack, stack


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa server + action server, a fresh SQLite tracker store, the clock fixed on a weekday
    afternoon (admissions open)."""
    tmp = tmp_path_factory.mktemp("stack")
    with stack(tmp, extra_env={"ADMISSIONS_CLOCK": "2026-12-01T19:00:00+00:00"}) as s:
        yield s


@pytest.fixture(scope="module")
def no_actions(live: Stack) -> Iterator[Stack]:
    """The suite's Rasa server with its action server stopped (started again afterwards)."""
    live.stop_actions()
    try:
        yield live
    finally:
        live.start_actions()
