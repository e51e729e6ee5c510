"""SageMaker jobs (training, processing), their metrics, resource tags, local images.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("secondary_status", sa.String(32), nullable=False),
        sa.Column("stop_reason", sa.String(16)),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("kind", "region", "name", name="uq_jobs_kind_region_name"),
    )
    op.create_index("ix_jobs_kind_region_created_ms", "jobs", ["kind", "region", "created_ms"])
    op.create_table(
        "job_metrics",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("job_id", ROW_ID, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_metrics_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq", name="pk_job_metrics"),
    )
    op.create_index("ix_job_metrics_job_id_name_seq", "job_metrics", ["job_id", "name", "seq"])
    op.create_table(
        "sagemaker_tags",
        sa.Column("arn", KEY, nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("arn", "key", name="pk_sagemaker_tags"),
    )
    op.create_table(
        "local_images",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_local_images"),
    )


def downgrade() -> None:
    op.drop_table("local_images")
    op.drop_table("sagemaker_tags")
    op.drop_table("job_metrics")
    op.drop_table("jobs")
