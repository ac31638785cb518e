"""Start real servers for tests and stop them without orphans (stdlib only: both environments).

The helpers live in the launcher, ``scripts/stack.py`` (shared with ``make run`` and the
benchmarks); this module keeps the tests' old import path.
"""

from __future__ import annotations

from scripts.stack import ROOT, Process, free_port, start, stop, wait_http

__all__ = ["ROOT", "Process", "free_port", "start", "stop", "wait_http"]
