"""IAM entities as the store hands them out, and the transaction handle domain code runs in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from shipyard.iam.ids import entity_arn
from shipyard.store.records import AnyRow, to_datetime


@dataclass(frozen=True)
class Tx:
    """One database transaction of the IAM store, and the account it belongs to."""

    conn: Connection
    account_id: str

    def arn(self, kind: str, path: str, name: str) -> str:
        """The ARN of an entity of this account."""
        return entity_arn(self.account_id, kind, path, name)


@dataclass(frozen=True)
class User:
    """An IAM user."""

    id: str
    name: str
    path: str
    arn: str
    created: datetime
    boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """An IAM group."""

    id: str
    name: str
    path: str
    arn: str
    created: datetime


@dataclass(frozen=True)
class Role:
    """An IAM role and its trust policy (as the client sent it)."""

    id: str
    name: str
    path: str
    arn: str
    created: datetime
    trust_policy: str
    max_session_duration: int
    description: str | None = None
    boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ManagedPolicy:
    """A managed policy, customer or AWS managed, with its usage counts."""

    id: str
    name: str
    path: str
    arn: str
    default_version: str
    created: datetime
    updated: datetime
    attachment_count: int
    boundary_count: int
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aws_managed: bool = False


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a managed policy's document."""

    version_id: str
    document: str
    is_default: bool
    created: datetime


@dataclass(frozen=True)
class InlinePolicy:
    """A policy embedded in one user, group or role."""

    name: str
    document: str


def user_from_row(tx: Tx, row: AnyRow) -> User:
    """A :class:`User` from an ``iam_users`` row."""
    return User(
        id=row.id,
        name=row.name,
        path=row.path,
        arn=tx.arn("user", row.path, row.name),
        created=to_datetime(row.created_ms),
        boundary_arn=row.boundary_arn,
        tags=row.tags or {},
    )


def group_from_row(tx: Tx, row: AnyRow) -> Group:
    """A :class:`Group` from an ``iam_groups`` row."""
    return Group(
        id=row.id,
        name=row.name,
        path=row.path,
        arn=tx.arn("group", row.path, row.name),
        created=to_datetime(row.created_ms),
    )


def role_from_row(tx: Tx, row: AnyRow) -> Role:
    """A :class:`Role` from an ``iam_roles`` row."""
    return Role(
        id=row.id,
        name=row.name,
        path=row.path,
        arn=tx.arn("role", row.path, row.name),
        created=to_datetime(row.created_ms),
        trust_policy=row.trust_policy,
        max_session_duration=row.max_session_duration,
        description=row.description,
        boundary_arn=row.boundary_arn,
        tags=row.tags or {},
    )
