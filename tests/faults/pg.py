"""A throwaway PostgreSQL server on loopback for the production-mode tests (Debian packages).

``scratch_postgres()`` starts one with ``scripts/pg-scratch.sh`` (which installs the
``postgresql`` package with apt-get when it is missing) on a free port in a temporary
directory, yields its URL and stops it afterwards. ``FAULTS_POSTGRES_URL`` names an existing
scratch database instead (its tables are dropped by the tests).
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
def scratch_postgres(port: int) -> Iterator[str]:
    """A fresh database's URL; the server is stopped and removed on exit."""
    if os.environ.get("FAULTS_POSTGRES_URL"):
        yield os.environ["FAULTS_POSTGRES_URL"]
        return
    pgdir = tempfile.mkdtemp(prefix="admissions-pg-faults.")
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
