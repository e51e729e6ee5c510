"""Hosting (models, endpoint configs, endpoints) and CloudWatch-style metric aggregates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hosting",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hosting"),
        sa.UniqueConstraint("kind", "region", "name", name="uq_hosting_kind_region_name"),
    )
    op.create_index("ix_hosting_kind_region_created_ms", "hosting", ["kind", "region", "created_ms"])
    op.create_table(
        "metric_data",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("metric_name", sa.String(255), nullable=False),
        sa.Column("dimensions", sa.Text(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("sample_count", sa.Float(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metric_data"),
        sa.UniqueConstraint(
            "region",
            "namespace",
            "metric_name",
            "dimensions",
            "timestamp_ms",
            name="uq_metric_data_series_minute",
        ),
    )


def downgrade() -> None:
    op.drop_table("metric_data")
    op.drop_table("hosting")
