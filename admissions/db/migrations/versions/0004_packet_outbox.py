"""The handoff packet's durable outbox for the CRM webhook.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from admissions.db.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``staff_packet_outbox`` (one row per conversation whose packet is complete)."""
    op.create_table(
        "staff_packet_outbox",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("packet_id", sa.String(36), nullable=False),
        sa.Column("completion_event_id", sa.BigInteger, nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(100), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("resent_by", sa.String(64), nullable=True),
        sa.Column("resent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_packet_outbox"),
        sa.UniqueConstraint("conversation_id", name="uq_staff_packet_outbox_conversation_id"),
        sa.UniqueConstraint("packet_id", name="uq_staff_packet_outbox_packet_id"),
    )
    op.create_index("ix_staff_packet_outbox_completed_at", "staff_packet_outbox", ["completed_at"])
    op.create_index("ix_staff_packet_outbox_status", "staff_packet_outbox", ["status"])


def downgrade() -> None:
    """Drop the outbox (undelivered packets are lost: they are rebuilt by the next scan)."""
    op.drop_table("staff_packet_outbox")
