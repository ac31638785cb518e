"""Shared fixtures of the Rasa add-on tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop for tests that drive a tracker store turn by turn.

    Closed the way ``asyncio.run`` closes its loop: the store's spool replayer runs for the life
    of the loop, and a task left pending is reported ("Task was destroyed but it is pending!")
    over the test run's last lines.
    """
    loop = asyncio.new_event_loop()
    yield loop
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:  # a test may leave a turn stuck on purpose: give up on it after a moment
        loop.run_until_complete(asyncio.wait(pending, timeout=2))
    loop.close()
