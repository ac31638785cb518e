"""Retraining: NLU inbox flags and decisions, model history and its events, training runs.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from admissions.db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the retraining tables (one ``create_table`` after another, in order: a long
    function on purpose, like every migration)."""
    op.create_table(
        "staff_nlu_flags",
        sa.Column("event_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("flagged_by", sa.String(64), nullable=False),
        sa.Column("flagged_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_staff_nlu_flags"),
    )
    op.create_index("ix_staff_nlu_flags_conversation_id", "staff_nlu_flags", ["conversation_id"])
    op.create_table(
        "staff_nlu_decisions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("text_key", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(100), nullable=True),
        sa.Column("example", sa.Text, nullable=True),
        sa.Column("data_file", sa.String(255), nullable=True),
        sa.Column("event_id", sa.Integer, nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_nlu_decisions"),
    )
    op.create_index("ix_staff_nlu_decisions_text_key", "staff_nlu_decisions", ["text_key"])
    op.create_index("ix_staff_nlu_decisions_decided_at", "staff_nlu_decisions", ["decided_at"])
    op.create_table(
        "staff_models",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("file", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("trained_by", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("fingerprints", sa.Text, nullable=True),
        sa.Column("metrics", sa.Text, nullable=True),
        sa.Column("crisis_examples", sa.Text, nullable=True),
        sa.Column("gate_passed", sa.Boolean, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_models"),
        sa.UniqueConstraint("sha256", name="uq_staff_models_sha256"),
    )
    op.create_table(
        "staff_model_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("previous_id", sa.Integer, nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_model_events"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["staff_models.id"], name="fk_staff_model_events_model_id_staff_models"
        ),
    )
    op.create_index("ix_staff_model_events_model_id", "staff_model_events", ["model_id"])
    op.create_index("ix_staff_model_events_at", "staff_model_events", ["at"])
    op.create_table(
        "staff_training_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.String(40), nullable=True),
        sa.Column("steps", sa.Text, nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("auto_promote", sa.Boolean, nullable=False),
        sa.Column("explanation", sa.Text, nullable=True),
        sa.Column("candidate_id", sa.Integer, nullable=True),
        sa.Column("baseline_id", sa.Integer, nullable=True),
        sa.Column("report", sa.Text, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("peak_rss_kb", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_training_runs"),
    )
    op.create_index("ix_staff_training_runs_requested_at", "staff_training_runs", ["requested_at"])
    op.create_index("ix_staff_training_runs_status", "staff_training_runs", ["status"])


def downgrade() -> None:
    """Drop the retraining tables (model files under models/history stay)."""
    for table in (
        "staff_training_runs",
        "staff_model_events",
        "staff_models",
        "staff_nlu_decisions",
        "staff_nlu_flags",
    ):
        op.drop_table(table)
