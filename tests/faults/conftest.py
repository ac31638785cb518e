"""One real action server + Rasa server for all fault tests (restarted by the tests that kill it).

``FAULTS_PROFILE=full`` (``make faults``) runs the heavy figures (1,000 concurrent pairs,
10,000 fuzz messages); the default ``quick`` profile is part of ``make test``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import Stack, free_port

from tests.support.postgres import scratch_postgres


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Action server and Rasa server, warmed up, on a fresh tracker database."""
    s = Stack(tmp_path_factory.mktemp("faults"))
    try:
        s.start_actions()
        s.start_rasa()
        s.warm_actions()
        yield s
    finally:
        s.stop()


@pytest.fixture
def healthy(stack: Stack) -> Iterator[Stack]:
    """The stack, and afterwards back to healthy: both servers up, nothing frozen or spooled."""
    yield stack
    if stack.actions is None or not stack.actions.alive():
        stack.start_actions()
    else:
        import signal

        stack.actions.signal(signal.SIGCONT)
    if stack.rasa is None or not stack.rasa.alive():
        stack.start_rasa()
    stack.wait_spool_empty(60)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One scratch PostgreSQL server for the suite's production-mode tests (lock store, two
    Rasa processes): each uses its own tables, or none (advisory locks)."""
    with scratch_postgres(free_port()) as url:
        yield url
