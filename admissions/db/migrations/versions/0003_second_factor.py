"""Second factor for staff: TOTP secrets, hashed recovery codes, sign-ins awaiting the code.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from admissions.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the second-factor tables (existing accounts start without one)."""
    op.create_table(
        "staff_totp",
        sa.Column("user_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_staff_totp"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name="fk_staff_totp_user_id_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_recovery_codes"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name="fk_staff_recovery_codes_user_id_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_staff_recovery_codes_user_id", "staff_recovery_codes", ["user_id"])
    op.create_table(
        "staff_pending_signins",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_staff_pending_signins"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name="fk_staff_pending_signins_user_id_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_staff_pending_signins_user_id", "staff_pending_signins", ["user_id"])


def downgrade() -> None:
    """Drop the second-factor tables (every account is back to password only)."""
    for table in ("staff_pending_signins", "staff_recovery_codes", "staff_totp"):
        op.drop_table(table)
