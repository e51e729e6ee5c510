"""CloudWatch Logs: log groups, their streams, and the streams' events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "log_groups",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("retention_days", sa.Integer()),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_log_groups"),
        sa.UniqueConstraint("region", "name", name="uq_log_groups_region_name"),
    )
    op.create_table(
        "log_streams",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("group_id", ROW_ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_event_ms", sa.BigInteger()),
        sa.Column("last_event_ms", sa.BigInteger()),
        sa.Column("last_ingestion_ms", sa.BigInteger()),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["log_groups.id"], name="fk_log_streams_group_id_log_groups", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_log_streams"),
        sa.UniqueConstraint("group_id", "name", name="uq_log_streams_group_id_name"),
    )
    op.create_table(
        "log_events",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("stream_id", ROW_ID, nullable=False),
        sa.Column("group_id", ROW_ID, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_ms", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["log_streams.id"], name="fk_log_events_stream_id_log_streams", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_log_events"),
    )
    op.create_index("ix_log_events_stream_id_timestamp_ms_seq", "log_events", ["stream_id", "timestamp_ms", "seq"])
    op.create_index("ix_log_events_group_id_timestamp_ms_seq", "log_events", ["group_id", "timestamp_ms", "seq"])


def downgrade() -> None:
    op.drop_table("log_events")
    op.drop_table("log_streams")
    op.drop_table("log_groups")
