"""Monitoring: percentile histograms and downsampled periods of metrics, alarms and their
history, Model Monitor's job definitions, schedules and executions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _record_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.UniqueConstraint("kind", "region", "name", name=f"uq_{name}_kind_region_name"),
    )
    op.create_index(f"ix_{name}_kind_region_created_ms", name, ["kind", "region", "created_ms"])


def upgrade() -> None:
    with op.batch_alter_table("metric_data") as batch:
        batch.add_column(sa.Column("histogram", sa.Text(), nullable=True))
        batch.add_column(sa.Column("period_s", sa.Integer(), nullable=False, server_default="60"))
    op.create_index("ix_metric_data_timestamp_ms", "metric_data", ["timestamp_ms"])

    _record_table("alarms")
    op.create_table(
        "alarm_history",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("alarm_name", sa.String(255), nullable=False),
        sa.Column("alarm_type", sa.String(32), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("item_type", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_history"),
    )
    op.create_index("ix_alarm_history_region_alarm_name_timestamp_ms", "alarm_history", ["region", "alarm_name", "timestamp_ms"])

    _record_table("monitoring")
    op.create_table(
        "monitoring_executions",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("schedule_name", sa.String(63), nullable=False),
        sa.Column("scheduled_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("processing_job_name", sa.String(63), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_executions"),
        sa.UniqueConstraint("region", "schedule_name", "scheduled_ms", name="uq_monitoring_executions_region_schedule_name_scheduled_ms"),
    )
    op.create_index("ix_monitoring_executions_status", "monitoring_executions", ["status"])


def downgrade() -> None:
    op.drop_table("monitoring_executions")
    op.drop_table("monitoring")
    op.drop_table("alarm_history")
    op.drop_table("alarms")
    op.drop_index("ix_metric_data_timestamp_ms", table_name="metric_data")
    with op.batch_alter_table("metric_data") as batch:
        batch.drop_column("period_s")
        batch.drop_column("histogram")
