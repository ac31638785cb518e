"""The fault tests' scratch PostgreSQL: ``tests/support/postgres.py`` (one helper for all)."""

from __future__ import annotations

from tests.support.postgres import scratch_postgres

__all__ = ["scratch_postgres"]
