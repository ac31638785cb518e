"""Alembic environment for the staff app's own tables (run through ``admissions.db.migrate``)."""

from __future__ import annotations

from alembic import context

from admissions.db.engine import create_sync_engine
from admissions.db.models import Base

VERSION_TABLE = "staff_alembic_version"

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    """Emit SQL without a database connection (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate the database named by ``sqlalchemy.url``."""
    engine = create_sync_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
