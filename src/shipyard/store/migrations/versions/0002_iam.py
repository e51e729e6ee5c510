"""IAM: users, groups, roles, managed and inline policies, attachments, tags.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iam_users",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("boundary_arn", sa.Text()),
        sa.Column("tags", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_iam_users"),
        sa.UniqueConstraint("name_key", name="uq_iam_users_name_key"),
    )
    op.create_table(
        "iam_groups",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iam_groups"),
        sa.UniqueConstraint("name_key", name="uq_iam_groups_name_key"),
    )
    op.create_table(
        "iam_roles",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("trust_policy", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        sa.Column("boundary_arn", sa.Text()),
        sa.Column("tags", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_iam_roles"),
        sa.UniqueConstraint("name_key", name="uq_iam_roles_name_key"),
    )
    op.create_table(
        "iam_group_members",
        sa.Column("group_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("added_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["iam_groups.id"],
            name="fk_iam_group_members_group_id_iam_groups",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["iam_users.id"], name="fk_iam_group_members_user_id_iam_users"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_iam_group_members"),
    )
    op.create_index("ix_iam_group_members_user_id", "iam_group_members", ["user_id"])
    op.create_table(
        "iam_policies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("default_version", sa.String(16), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("tags", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_iam_policies"),
        sa.UniqueConstraint("name_key", name="uq_iam_policies_name_key"),
        sa.UniqueConstraint("arn", name="uq_iam_policies_arn"),
    )
    op.create_table(
        "iam_policy_versions",
        sa.Column("policy_id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["iam_policies.id"],
            name="fk_iam_policy_versions_policy_id_iam_policies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "policy_id", "version_id", name="pk_iam_policy_versions"
        ),
    )
    op.create_table(
        "iam_attachments",
        sa.Column("entity_kind", sa.String(8), nullable=False),
        sa.Column("entity_id", sa.String(32), nullable=False),
        sa.Column("policy_arn", sa.Text(), nullable=False),
        sa.Column("attached_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "entity_kind", "entity_id", "policy_arn", name="pk_iam_attachments"
        ),
    )
    op.create_index("ix_iam_attachments_policy_arn", "iam_attachments", ["policy_arn"])
    op.create_table(
        "iam_inline_policies",
        sa.Column("entity_kind", sa.String(8), nullable=False),
        sa.Column("entity_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "entity_kind", "entity_id", "name", name="pk_iam_inline_policies"
        ),
    )


def downgrade() -> None:
    for table in (
        "iam_inline_policies",
        "iam_attachments",
        "iam_policy_versions",
        "iam_policies",
        "iam_group_members",
        "iam_roles",
        "iam_groups",
        "iam_users",
    ):
        op.drop_table(table)
