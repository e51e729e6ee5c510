"""STS: temporary credentials (sessions) with their token, expiry and policies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sts_sessions",
        sa.Column("access_key_id", sa.String(128), nullable=False),
        sa.Column("secret_access_key", sa.String(128), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("principal_arn", sa.Text(), nullable=False),
        sa.Column("source_arn", sa.Text(), nullable=False),
        sa.Column("role_arn", sa.Text()),
        sa.Column("role_id", sa.String(32)),
        sa.Column("session_name", sa.String(64)),
        sa.Column("policy", sa.Text()),
        sa.Column("policy_arns", sa.JSON()),
        sa.Column("tags", sa.JSON()),
        sa.Column("source_identity", sa.String(64)),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_sts_sessions"),
    )
    op.create_index("ix_sts_sessions_expires_ms", "sts_sessions", ["expires_ms"])


def downgrade() -> None:
    op.drop_table("sts_sessions")
