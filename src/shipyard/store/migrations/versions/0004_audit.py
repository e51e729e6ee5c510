"""The audit trail: one row per API call, and the resources each call acted on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Columns every LookupEvents attribute index of ``audit_events`` starts with.
_LOOKUP_COLUMNS = (
    "username",
    "event_name",
    "access_key_id",
    "event_source",
    "read_only",
)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64)),
        sa.Column("event_source", sa.String(128)),
        sa.Column("event_name", sa.String(128)),
        sa.Column("principal_arn", sa.Text()),
        sa.Column("principal_id", sa.String(128)),
        sa.Column("principal_kind", sa.String(16)),
        sa.Column("username", sa.String(128)),
        sa.Column("access_key_id", sa.String(128)),
        sa.Column("source_ip", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.Text()),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.String(128)),
        sa.Column("error_message", sa.Text()),
        sa.Column("parameters", sa.JSON()),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("event_id", name="uq_audit_events_event_id"),
    )
    op.create_index("ix_audit_events_time_ms_seq", "audit_events", ["time_ms", "seq"])
    for column in _LOOKUP_COLUMNS:
        op.create_index(
            f"ix_audit_events_{column}_time_ms_seq",
            "audit_events",
            [column, "time_ms", "seq"],
        )
    op.create_table(
        "audit_resources",
        sa.Column("event_seq", ROW_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("resource_type", sa.String(64)),
        sa.Column("resource_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["audit_events.seq"],
            name="fk_audit_resources_event_seq_audit_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_seq", "position", name="pk_audit_resources"),
    )
    op.create_index(
        "ix_audit_resources_resource_name_event_seq",
        "audit_resources",
        ["resource_name", "event_seq"],
    )
    op.create_index(
        "ix_audit_resources_resource_type_event_seq",
        "audit_resources",
        ["resource_type", "event_seq"],
    )


def downgrade() -> None:
    op.drop_table("audit_resources")
    op.drop_table("audit_events")
