"""Apply the staff app's schema migrations (Alembic) to APP_DB_URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from admissions.db.engine import ensure_sqlite_dir

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (idempotent)."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)
