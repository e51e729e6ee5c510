"""What the authorizer needs of a user or role: identity, tags, every policy that applies.

A user's identity-based policies are its own inline and attached policies plus those of
every group it is in; a role's are its own. Documents are parsed once per process
(:func:`shipyard.iam.documents.parsed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from shipyard.iam import entities, inline, managed_policies
from shipyard.iam.documents import parsed
from shipyard.iam.ids import EntityKind, parse_entity_arn
from shipyard.iam.managed import aws_managed_policy
from shipyard.iam.policy import NamedPolicy, Policy, PolicyType
from shipyard.iam.records import Role, Tx, User


@dataclass(frozen=True)
class PrincipalRecord:
    """A user or role with everything policy evaluation needs about it."""

    kind: Literal["user", "role"]
    name: str
    id: str
    path: str
    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    #: Every identity-based policy: inline and attached (and, for a user, its groups').
    identity: list[NamedPolicy] = field(default_factory=list)
    boundary: NamedPolicy | None = None
    #: A role's trust policy and session limit (None for users).
    trust: Policy | None = None
    max_session_duration: int | None = None


def managed_named(tx: Tx, arn: str) -> NamedPolicy | None:
    """A managed policy's default version as evaluation sees it, or None if it does not exist."""
    text = managed_policies.document(tx, arn)
    if text is None:
        return None
    source_type = (
        "aws-managed" if aws_managed_policy(arn) is not None else "user-managed"
    )
    return NamedPolicy(parsed(text, PolicyType.IDENTITY), arn, source_type)


def entity_policies(tx: Tx, kind: EntityKind, entity_id: str) -> list[NamedPolicy]:
    """The inline and attached policies of one user, group or role."""
    found = [
        NamedPolicy(parsed(p.document, PolicyType.IDENTITY), p.name, kind)
        for p in inline.policies_of(tx, kind, entity_id)
    ]
    for arn in managed_policies.attached_arns(tx, kind, entity_id):
        if (named := managed_named(tx, arn)) is not None:
            found.append(named)
    return found


def user_record(tx: Tx, user: User) -> PrincipalRecord:
    """The record of a user: its policies and those of its groups."""
    identity = entity_policies(tx, "user", user.id)
    for group in entities.groups_of(tx, user.id):
        identity += entity_policies(tx, "group", group.id)
    return PrincipalRecord(
        kind="user",
        name=user.name,
        id=user.id,
        path=user.path,
        arn=user.arn,
        tags=dict(user.tags),
        identity=identity,
        boundary=managed_named(tx, user.boundary_arn) if user.boundary_arn else None,
    )


def role_record(tx: Tx, role: Role) -> PrincipalRecord:
    """The record of a role, with its trust policy."""
    return PrincipalRecord(
        kind="role",
        name=role.name,
        id=role.id,
        path=role.path,
        arn=role.arn,
        tags=dict(role.tags),
        identity=entity_policies(tx, "role", role.id),
        boundary=managed_named(tx, role.boundary_arn) if role.boundary_arn else None,
        trust=parsed(role.trust_policy, PolicyType.TRUST),
        max_session_duration=role.max_session_duration,
    )


def record_for_arn(tx: Tx, arn: str) -> PrincipalRecord | None:
    """The record of the user or role ``arn`` names (with or without its path), or None."""
    parts = parse_entity_arn(arn)
    if parts is None or parts[0] != tx.account_id or parts[1] not in ("user", "role"):
        return None
    kind, name = parts[1], parts[3]
    entity = entities.find(tx, kind, name)
    if entity is None or arn not in (entity.arn, tx.arn(kind, "/", entity.name)):
        return None
    return user_record(tx, entity) if kind == "user" else role_record(tx, entity)
