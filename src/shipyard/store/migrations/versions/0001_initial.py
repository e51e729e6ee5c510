"""The initial schema: account, access keys, S3 buckets, objects and multipart uploads.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY_TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BUCKET_NAME = sa.String(63).with_variant(sa.String(63, collation="C"), "postgresql")
SORTABLE_ID = sa.String(128).with_variant(sa.String(128, collation="C"), "postgresql")


def _content_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("content_type", sa.Text()),
        sa.Column("content_encoding", sa.Text()),
        sa.Column("content_disposition", sa.Text()),
        sa.Column("content_language", sa.Text()),
        sa.Column("cache_control", sa.Text()),
        sa.Column("expires", sa.Text()),
        sa.Column("user_metadata", sa.JSON()),
        sa.Column("extra", sa.JSON()),
        sa.Column("tags", sa.JSON()),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("checksum_algorithm", sa.String(16)),
        sa.Column("checksum_type", sa.String(16)),
    ]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(12), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(128), nullable=False),
        sa.Column("secret_access_key", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("principal_arn", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_access_keys_account_id_accounts"),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_access_keys"),
    )
    op.create_index("ix_access_keys_principal_arn", "access_keys", ["principal_arn"])
    op.create_table(
        "buckets",
        sa.Column("name", BUCKET_NAME, nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("versioning", sa.String(16)),
        sa.PrimaryKeyConstraint("name", name="pk_buckets"),
    )
    op.create_table(
        "bucket_configs",
        sa.Column("bucket", BUCKET_NAME, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket"], ["buckets.name"], name="fk_bucket_configs_bucket_buckets", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("bucket", "kind", name="pk_bucket_configs"),
    )
    op.create_table(
        "object_versions",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("bucket", BUCKET_NAME, nullable=False),
        sa.Column("key", KEY_TEXT, nullable=False),
        sa.Column("version_id", sa.String(64), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("is_delete_marker", sa.Boolean(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(80)),
        *_content_columns(),
        sa.Column("checksum", sa.String(128)),
        sa.Column("parts_count", sa.Integer()),
        sa.Column("segments", sa.JSON()),
        sa.ForeignKeyConstraint(["bucket"], ["buckets.name"], name="fk_object_versions_bucket_buckets"),
        sa.PrimaryKeyConstraint("seq", name="pk_object_versions"),
        sa.UniqueConstraint("bucket", "key", "version_id", name="uq_object_versions_bucket_key_version_id"),
    )
    op.create_index("ix_object_versions_bucket_key_seq", "object_versions", ["bucket", "key", sa.text("seq DESC")])
    op.create_index(
        "ix_object_versions_latest",
        "object_versions",
        ["bucket", "key"],
        unique=True,
        sqlite_where=sa.text("is_latest = 1"),
        postgresql_where=sa.text("is_latest"),
    )
    op.create_table(
        "uploads",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("upload_id", SORTABLE_ID, nullable=False),
        sa.Column("bucket", BUCKET_NAME, nullable=False),
        sa.Column("key", KEY_TEXT, nullable=False),
        sa.Column("initiated_ms", sa.BigInteger(), nullable=False),
        sa.Column("initiator", sa.Text(), nullable=False),
        *_content_columns(),
        sa.ForeignKeyConstraint(["bucket"], ["buckets.name"], name="fk_uploads_bucket_buckets"),
        sa.PrimaryKeyConstraint("seq", name="pk_uploads"),
        sa.UniqueConstraint("upload_id", name="uq_uploads_upload_id"),
    )
    op.create_index("ix_uploads_bucket_key_upload_id", "uploads", ["bucket", "key", "upload_id"])
    op.create_table(
        "upload_parts",
        sa.Column("upload_seq", ROW_ID, nullable=False),
        sa.Column("part_number", sa.Integer(), nullable=False),
        sa.Column("blob", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(128)),
        sa.ForeignKeyConstraint(
            ["upload_seq"], ["uploads.seq"], name="fk_upload_parts_upload_seq_uploads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("upload_seq", "part_number", name="pk_upload_parts"),
    )


def downgrade() -> None:
    for table in ("upload_parts", "uploads", "object_versions", "bucket_configs", "buckets", "access_keys", "accounts"):
        op.drop_table(table)
