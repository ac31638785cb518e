"""Fixtures for ``admissions/db``: the staff app's real SQLite databases and the scratch
PostgreSQL database (``make test-app`` names it in ``STAFF_TEST_POSTGRES_URL``), shared with
``tests/web`` (one definition each, in ``tests/web/conftest.py``)."""

from __future__ import annotations

import sqlalchemy

if int(sqlalchemy.__version__.split(".")[0]) < 2:  # the assistant's environment: not collected
    collect_ignore_glob = ["test_*.py"]
else:
    from tests.web.conftest import (  # noqa: F401 - fixtures, found by name
        app_db,
        app_db_template,
        pg,
        settings,
        tracker,
        training_sandbox,
    )


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    # aiohttp-jinja2 stores its per-request context under a plain string key.
    config.addinivalue_line("filterwarnings", "ignore:It is recommended to use web.RequestKey")
