"""Retraining tests run in the staff app's environment (``.venv/app``).

Under the assistant's environment (SQLAlchemy 1.4, no aiohttp 3.10+) they are not collected,
so ``pytest tests`` there skips this folder instead of failing on imports.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy

REPO = Path(__file__).resolve().parents[2]

if int(sqlalchemy.__version__.split(".")[0]) < 2:
    collect_ignore_glob = ["test_*.py"]
else:
    # The scratch PostgreSQL database (STAFF_TEST_POSTGRES_URL), emptied around each test:
    # one definition, in tests/web/conftest.py.
    from tests.web.conftest import pg  # noqa: F401


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repo's training data, domain and test sets (never the real ``data/``)."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copyfile(REPO / "domain.yml", root / "domain.yml")
    shutil.copytree(REPO / "tests" / "nlu", root / "tests" / "nlu")
    return root


def pytest_configure(config: pytest.Config) -> None:
    # aiohttp-jinja2 stores its per-request context under a plain string key.
    config.addinivalue_line("filterwarnings", "ignore:It is recommended to use web.RequestKey")
