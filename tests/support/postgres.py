"""Throw-away PostgreSQL servers for the tests (``scripts/pg-scratch.sh``, Debian packages).

One way for every suite: ``make test-python`` / ``make test-app`` start one per run and name it
in ``TRACKER_TEST_POSTGRES_URL`` / ``STAFF_TEST_POSTGRES_URL`` (Makefile ``with_scratch_pg``);
the fault tests start one per session with :func:`scratch_postgres` (``FAULTS_POSTGRES_URL``
names an existing scratch database instead: its tables are dropped by the tests).
Standard library only (both environments).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / "scripts" / "pg-scratch.sh"


@contextlib.contextmanager
def scratch_postgres(port: int, reuse_env: str = "FAULTS_POSTGRES_URL") -> Iterator[str]:
    """A fresh database's URL on ``port``; the server is stopped and removed on exit.

    When the environment variable ``reuse_env`` names a database, that URL is yielded instead.
    """
    if os.environ.get(reuse_env):
        yield os.environ[reuse_env]
        return
    pgdir = tempfile.mkdtemp(prefix="admissions-pg-tests.")
    try:
        url = subprocess.run(
            [str(SCRATCH), "start", pgdir, str(port)],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        ).stdout.strip()
        yield url
    finally:
        subprocess.run([str(SCRATCH), "stop", pgdir], check=False, timeout=120)
