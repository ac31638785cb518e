"""The fixture tracker store is built exactly like Rasa's; migrations match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from admissions.db.models import Base

# What Rasa 3.6.21's SQLTrackerStore creates on SQLite (recorded from rasa itself).
RASA_EVENTS_DDL = [
    "CREATE TABLE events (\n\tid INTEGER NOT NULL, \n\tsender_id VARCHAR(255) NOT NULL, \n\t"
    "type_name VARCHAR(255) NOT NULL, \n\ttimestamp FLOAT, \n\tintent_name VARCHAR(255), \n\t"
    "action_name VARCHAR(255), \n\tdata TEXT, \n\tPRIMARY KEY (id)\n)",
    "CREATE INDEX ix_events_sender_id ON events (sender_id)",
]


def test_events_table_is_rasas(tracker):
    with tracker.connect() as conn:
        ddl = conn.exec_driver_sql("select sql from sqlite_master order by rowid").scalars().all()
    assert ddl == RASA_EVENTS_DDL


def test_migrations_match_the_models(app_db):
    with app_db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "staff_alembic_version"})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_app_tables_do_not_touch_rasas(app_db, settings):
    names = set(sa.inspect(app_db).get_table_names())
    assert "events" not in names
    assert all(n.startswith("staff_") for n in names)
