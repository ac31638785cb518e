"""Staff users, sessions, login attempts, notes, reviews, callback work, audit log, job runs.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from admissions.db.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER staff_audit_log_no_update BEFORE UPDATE ON staff_audit_log
       BEGIN SELECT RAISE(ABORT, 'staff_audit_log is append-only'); END""",
    """CREATE TRIGGER staff_audit_log_no_delete BEFORE DELETE ON staff_audit_log
       BEGIN SELECT RAISE(ABORT, 'staff_audit_log is append-only'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION staff_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'staff_audit_log is append-only'; END $$""",
    """CREATE TRIGGER staff_audit_log_no_change BEFORE UPDATE OR DELETE ON staff_audit_log
       FOR EACH ROW EXECUTE FUNCTION staff_audit_log_append_only()""",
    """CREATE TRIGGER staff_audit_log_no_truncate BEFORE TRUNCATE ON staff_audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_log_append_only()""",
]


def upgrade() -> None:
    """Create the tables and make the audit log append-only.

    Long (about 100 lines) on purpose: a migration is the schema as it was on that day, one
    ``create_table`` after another in the order they must run; helpers would hide that order.
    """
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_staff_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name="fk_staff_sessions_user_id_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_table(
        "staff_login_attempts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_login_attempts"),
    )
    op.create_index(
        "ix_staff_login_attempts_username_key", "staff_login_attempts", ["username_key"]
    )
    op.create_index("ix_staff_login_attempts_address", "staff_login_attempts", ["address"])
    op.create_index("ix_staff_login_attempts_at", "staff_login_attempts", ["at"])
    op.create_table(
        "staff_notes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_notes"),
    )
    op.create_index("ix_staff_notes_conversation_id", "staff_notes", ["conversation_id"])
    op.create_table(
        "staff_reviews",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_staff_reviews"),
    )
    op.create_index("ix_staff_reviews_reviewed_at", "staff_reviews", ["reviewed_at"])
    op.create_table(
        "staff_callbacks",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_staff_callbacks"),
    )
    op.create_index("ix_staff_callbacks_status", "staff_callbacks", ["status"])
    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_audit_log"),
    )
    for column in ("at", "username", "action", "conversation_id", "result"):
        op.create_index(f"ix_staff_audit_log_{column}", "staff_audit_log", [column])
    op.create_table(
        "staff_job_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_job_runs"),
    )
    op.create_index("ix_staff_job_runs_job", "staff_job_runs", ["job"])

    dialect = op.get_bind().dialect.name
    triggers = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}.get(dialect, [])
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything (the audit log too: only for a throw-away database)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TABLE staff_audit_log")
        op.execute("DROP FUNCTION staff_audit_log_append_only()")
    else:
        op.drop_table("staff_audit_log")
    for table in (
        "staff_job_runs",
        "staff_callbacks",
        "staff_reviews",
        "staff_notes",
        "staff_login_attempts",
        "staff_sessions",
        "staff_users",
    ):
        op.drop_table(table)
