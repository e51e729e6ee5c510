"""Managed policies: customer managed ones (stored, versioned) and AWS managed ones (in code),
their versions, and attaching them to users, groups and roles.

Usage counts are counted from the attachments and boundaries themselves, never kept in
a counter, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, union_all, update

from shipyard.errors import AwsError
from shipyard.iam import documents, entities
from shipyard.iam.ids import AWS_POLICY_PREFIX, EntityKind, name_key, new_id
from shipyard.iam.managed import (
    AwsManagedPolicy,
    aws_managed_policies,
    aws_managed_policy,
)
from shipyard.iam.records import ManagedPolicy, PolicyVersion, Tx
from shipyard.store.records import AnyRow, now_ms, to_datetime
from shipyard.store.tables import (
    iam_attachments,
    iam_policies,
    iam_policy_versions,
    iam_roles,
    iam_users,
)

#: Versions a managed policy may have at once.
MAX_VERSIONS = 5
#: Managed policies attached to one user, group or role.
MAX_ATTACHED = 10


def not_found(arn: str) -> AwsError:
    """``NoSuchEntity`` for a policy ARN (GetPolicy, DeletePolicy, detaching)."""
    return AwsError("NoSuchEntity", f"Policy {arn} was not found.", 404)


def not_attachable(arn: str) -> AwsError:
    """``NoSuchEntity`` for attaching (or using as a boundary) a policy that does not exist."""
    return AwsError(
        "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.", 404
    )


def check_arn(arn: str) -> None:
    """``InvalidInput`` unless ``arn`` is a policy ARN."""
    parts = arn.split(":", 5)
    if (
        len(parts) != 6
        or parts[:3] != ["arn", "aws", "iam"]
        or not parts[5].startswith("policy/")
    ):
        raise AwsError("InvalidInput", f"ARN {arn} is not valid.", 400)


# -- reading ------------------------------------------------------------------------


def _usage(
    tx: Tx, arns: Iterable[str] | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """(attachment counts, permissions-boundary counts) per policy ARN (only ``arns`` if given)."""
    attached = select(iam_attachments.c.policy_arn, func.count()).group_by(
        iam_attachments.c.policy_arn
    )
    bounded = union_all(
        select(iam_users.c.boundary_arn.label("arn")).where(
            iam_users.c.boundary_arn.is_not(None)
        ),
        select(iam_roles.c.boundary_arn.label("arn")).where(
            iam_roles.c.boundary_arn.is_not(None)
        ),
    ).subquery()
    bounds = select(bounded.c.arn, func.count()).group_by(bounded.c.arn)
    if arns is not None:
        wanted = list(arns)
        attached = attached.where(iam_attachments.c.policy_arn.in_(wanted))
        bounds = bounds.where(bounded.c.arn.in_(wanted))
    return (
        {arn: count for arn, count in tx.conn.execute(attached)},
        {arn: count for arn, count in tx.conn.execute(bounds)},
    )


def _from_row(
    row: AnyRow, usage: tuple[dict[str, int], dict[str, int]]
) -> ManagedPolicy:
    return ManagedPolicy(
        id=row.id,
        name=row.name,
        path=row.path,
        arn=row.arn,
        default_version=row.default_version,
        created=to_datetime(row.created_ms),
        updated=to_datetime(row.updated_ms),
        attachment_count=usage[0].get(row.arn, 0),
        boundary_count=usage[1].get(row.arn, 0),
        description=row.description,
        tags=row.tags or {},
    )


def _from_aws(
    policy: AwsManagedPolicy, usage: tuple[dict[str, int], dict[str, int]]
) -> ManagedPolicy:
    return ManagedPolicy(
        id=policy.id,
        name=policy.name,
        path=policy.path,
        arn=policy.arn,
        default_version=policy.version_id,
        created=policy.created,
        updated=policy.updated,
        attachment_count=usage[0].get(policy.arn, 0),
        boundary_count=usage[1].get(policy.arn, 0),
        description=policy.description,
        aws_managed=True,
    )


def _row(tx: Tx, arn: str, *, lock: bool = False) -> AnyRow | None:
    query = select(iam_policies).where(iam_policies.c.arn == arn)
    if lock:
        query = query.with_for_update()
    return tx.conn.execute(query).first()


def find(tx: Tx, arn: str) -> ManagedPolicy | None:
    """The managed policy (customer or AWS managed) with this ARN, or None."""
    check_arn(arn)
    usage = _usage(tx, [arn])
    if (aws := aws_managed_policy(arn)) is not None:
        return _from_aws(aws, usage)
    row = _row(tx, arn)
    return None if row is None else _from_row(row, usage)


def get(tx: Tx, arn: str) -> ManagedPolicy:
    """The managed policy with this ARN, or ``NoSuchEntity``."""
    policy = find(tx, arn)
    if policy is None:
        raise not_found(arn)
    return policy


def attachable(tx: Tx, arn: str) -> ManagedPolicy:
    """The policy with this ARN for attaching or as a boundary, or ``NoSuchEntity`` as AWS says it then."""
    policy = find(tx, arn)
    if policy is None:
        raise not_attachable(arn)
    return policy


def list_policies(
    tx: Tx,
    *,
    scope: str = "All",
    path_prefix: str | None = None,
    only_attached: bool = False,
    usage: str | None = None,
) -> list[ManagedPolicy]:
    """ListPolicies: by scope (``All``, ``AWS``, ``Local``), path, and use, sorted by name."""
    counts = _usage(tx)
    found: list[ManagedPolicy] = []
    if scope in ("All", "AWS"):
        found += [_from_aws(policy, counts) for policy in aws_managed_policies()]
    if scope in ("All", "Local"):
        found += [
            _from_row(row, counts) for row in tx.conn.execute(select(iam_policies))
        ]
    if path_prefix:
        found = [policy for policy in found if policy.path.startswith(path_prefix)]
    if only_attached:
        found = [policy for policy in found if _in_use(policy, usage)]
    return sorted(found, key=lambda policy: (policy.name.lower(), policy.arn))


def _in_use(policy: ManagedPolicy, usage: str | None) -> bool:
    if usage == "PermissionsPolicy":
        return policy.attachment_count > 0
    if usage == "PermissionsBoundary":
        return policy.boundary_count > 0
    return policy.attachment_count > 0 or policy.boundary_count > 0


def document(tx: Tx, arn: str) -> str | None:
    """The default version's document of a managed policy, or None if there is no such policy."""
    if (aws := aws_managed_policy(arn)) is not None:
        return aws.document
    query = (
        select(iam_policy_versions.c.document)
        .join(iam_policies, iam_policies.c.id == iam_policy_versions.c.policy_id)
        .where(
            (iam_policies.c.arn == arn)
            & (iam_policy_versions.c.version_id == iam_policies.c.default_version)
        )
    )
    return tx.conn.execute(query).scalar()


# -- customer managed policies ------------------------------------------------------------


def _customer(tx: Tx, arn: str, *, lock: bool = False) -> AnyRow:
    """The stored row of a customer managed policy; AWS managed ones cannot be changed."""
    check_arn(arn)
    if arn.startswith(AWS_POLICY_PREFIX) and aws_managed_policy(arn) is not None:
        raise AwsError(
            "AccessDenied",
            f"Policy {arn} is an AWS managed policy and cannot be changed.",
            403,
        )
    row = _row(tx, arn, lock=lock)
    if row is None:
        raise not_found(arn)
    return row


def create(
    tx: Tx,
    name: str,
    path: str,
    policy_document: str,
    description: str | None,
    tags: list[dict[str, str]],
) -> ManagedPolicy:
    """A new customer managed policy whose version ``v1`` is ``policy_document``."""
    documents.check_managed(policy_document)
    if tx.conn.execute(
        select(iam_policies.c.id).where(iam_policies.c.name_key == name_key(name))
    ).first():
        raise AwsError(
            "EntityAlreadyExists",
            f"A policy called {name} already exists. Duplicate names are not allowed.",
            409,
        )
    now = now_ms()
    policy_id = new_id("policy")
    arn = f"arn:aws:iam::{tx.account_id}:policy{path}{name}"
    values = {
        "id": policy_id,
        "name": name,
        "name_key": name_key(name),
        "path": path,
        "arn": arn,
        "description": description,
        "default_version": "v1",
        "next_version": 2,
        "created_ms": now,
        "updated_ms": now,
        "tags": entities.merge_tags({}, tags, quota="TagsPerPolicy") or None,
    }
    tx.conn.execute(insert(iam_policies).values(**values))
    tx.conn.execute(
        insert(iam_policy_versions).values(
            policy_id=policy_id,
            version_id="v1",
            document=policy_document,
            created_ms=now,
        )
    )
    return get(tx, arn)


def delete_policy(tx: Tx, arn: str) -> None:
    """Delete a customer managed policy that is not in use and has only its default version."""
    row = _customer(tx, arn, lock=True)
    attached, bounds = _usage(tx, [arn])
    if attached.get(arn) or bounds.get(arn):
        raise AwsError(
            "DeleteConflict", "Cannot delete a policy attached to entities.", 409
        )
    count = tx.conn.execute(
        select(func.count())
        .select_from(iam_policy_versions)
        .where(iam_policy_versions.c.policy_id == row.id)
    ).scalar_one()
    if count > 1:
        raise AwsError(
            "DeleteConflict",
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions."
            " The default version is deleted with the policy.",
            409,
        )
    tx.conn.execute(delete(iam_policies).where(iam_policies.c.id == row.id))


def set_tags(
    tx: Tx,
    arn: str,
    tags: list[dict[str, str]] | None = None,
    remove: list[str] | None = None,
) -> None:
    """Add (``tags``) or remove (``remove``) tags of a customer managed policy."""
    row = _customer(tx, arn, lock=True)
    current = row.tags or {}
    changed = (
        entities.merge_tags(current, tags, quota="TagsPerPolicy")
        if tags
        else entities.without_tags(current, remove or [])
    )
    tx.conn.execute(
        update(iam_policies)
        .where(iam_policies.c.id == row.id)
        .values(tags=changed or None)
    )


# -- versions -----------------------------------------------------------------------------


def _no_version(arn: str, version_id: str) -> AwsError:
    return AwsError(
        "NoSuchEntity",
        f"Policy {arn} version {version_id} does not exist or is not attachable.",
        404,
    )


def versions(tx: Tx, arn: str) -> list[PolicyVersion]:
    """Every version of a managed policy, newest first (an AWS managed one: its default)."""
    check_arn(arn)
    if (aws := aws_managed_policy(arn)) is not None:
        return [PolicyVersion(aws.version_id, aws.document, True, aws.updated)]
    row = _row(tx, arn)
    if row is None:
        raise not_found(arn)
    query = select(iam_policy_versions).where(iam_policy_versions.c.policy_id == row.id)
    found = [
        PolicyVersion(
            v.version_id,
            v.document,
            v.version_id == row.default_version,
            to_datetime(v.created_ms),
        )
        for v in tx.conn.execute(query)
    ]
    return sorted(
        found, key=lambda version: _version_number(version.version_id), reverse=True
    )


def version(tx: Tx, arn: str, version_id: str) -> PolicyVersion:
    """One version of a managed policy, or ``NoSuchEntity``."""
    check_arn(arn)
    if aws_managed_policy(arn) is None and _row(tx, arn) is None:
        raise not_found(arn)
    for candidate in versions(tx, arn):
        if candidate.version_id == version_id:
            return candidate
    raise _no_version(arn, version_id)


def _version_number(version_id: str) -> int:
    digits = version_id[1:].split(".", 1)[0]
    return int(digits) if digits.isdigit() else 0


def create_version(
    tx: Tx, arn: str, policy_document: str, set_as_default: bool
) -> PolicyVersion:
    """A new version of a customer managed policy (at most :data:`MAX_VERSIONS` at once)."""
    row = _customer(tx, arn, lock=True)
    documents.check_managed(policy_document)
    count = tx.conn.execute(
        select(func.count())
        .select_from(iam_policy_versions)
        .where(iam_policy_versions.c.policy_id == row.id)
    ).scalar_one()
    if count >= MAX_VERSIONS:
        raise AwsError(
            "LimitExceeded",
            f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you must"
            " delete an existing version.",
            409,
        )
    now = now_ms()
    version_id = f"v{row.next_version}"
    tx.conn.execute(
        insert(iam_policy_versions).values(
            policy_id=row.id,
            version_id=version_id,
            document=policy_document,
            created_ms=now,
        )
    )
    values: dict[str, Any] = {"next_version": row.next_version + 1, "updated_ms": now}
    if set_as_default:
        values["default_version"] = version_id
    tx.conn.execute(
        update(iam_policies).where(iam_policies.c.id == row.id).values(**values)
    )
    return PolicyVersion(version_id, policy_document, set_as_default, to_datetime(now))


def delete_version(tx: Tx, arn: str, version_id: str) -> None:
    """Delete a version that is not the default (``DeleteConflict``) of a customer managed policy."""
    row = _customer(tx, arn, lock=True)
    if version_id == row.default_version:
        raise AwsError(
            "DeleteConflict", "Cannot delete the default version of a policy.", 409
        )
    where = (iam_policy_versions.c.policy_id == row.id) & (
        iam_policy_versions.c.version_id == version_id
    )
    if tx.conn.execute(delete(iam_policy_versions).where(where)).rowcount == 0:
        raise _no_version(arn, version_id)


def set_default_version(tx: Tx, arn: str, version_id: str) -> None:
    """Make an existing version the default."""
    row = _customer(tx, arn, lock=True)
    where = (iam_policy_versions.c.policy_id == row.id) & (
        iam_policy_versions.c.version_id == version_id
    )
    if (
        tx.conn.execute(select(iam_policy_versions.c.version_id).where(where)).first()
        is None
    ):
        raise _no_version(arn, version_id)
    tx.conn.execute(
        update(iam_policies)
        .where(iam_policies.c.id == row.id)
        .values(default_version=version_id, updated_ms=now_ms())
    )


# -- attachments --------------------------------------------------------------------------


def attach(tx: Tx, kind: EntityKind, name: str, arn: str) -> None:
    """Attach a managed policy to a user, group or role (again: nothing happens)."""
    entity = entities.fetch_row(tx, kind, name, lock=True)
    check_arn(arn)
    if aws_managed_policy(arn) is None and _row(tx, arn, lock=True) is None:
        raise not_attachable(arn)
    mine = (iam_attachments.c.entity_kind == kind) & (
        iam_attachments.c.entity_id == entity.id
    )
    current = set(
        tx.conn.execute(select(iam_attachments.c.policy_arn).where(mine)).scalars()
    )
    if arn in current:
        return
    if len(current) >= MAX_ATTACHED:
        raise AwsError(
            "LimitExceeded",
            f"Cannot exceed quota for PoliciesPer{kind.title()}: {MAX_ATTACHED}",
            409,
        )
    tx.conn.execute(
        insert(iam_attachments).values(
            entity_kind=kind, entity_id=entity.id, policy_arn=arn, attached_ms=now_ms()
        )
    )


def detach(tx: Tx, kind: EntityKind, name: str, arn: str) -> None:
    """Detach a managed policy; ``NoSuchEntity`` if it is not attached."""
    entity = entities.fetch_row(tx, kind, name, lock=True)
    check_arn(arn)
    where = (
        (iam_attachments.c.entity_kind == kind)
        & (iam_attachments.c.entity_id == entity.id)
        & (iam_attachments.c.policy_arn == arn)
    )
    if tx.conn.execute(delete(iam_attachments).where(where)).rowcount == 0:
        raise not_found(arn)


def attached_arns(tx: Tx, kind: EntityKind, entity_id: str) -> list[str]:
    """The ARNs of the policies attached to one entity, in the order they were attached."""
    query = (
        select(iam_attachments.c.policy_arn)
        .where(
            (iam_attachments.c.entity_kind == kind)
            & (iam_attachments.c.entity_id == entity_id)
        )
        .order_by(iam_attachments.c.attached_ms, iam_attachments.c.policy_arn)
    )
    return list(tx.conn.execute(query).scalars())


def attached(
    tx: Tx, kind: EntityKind, entity_id: str, path_prefix: str | None = None
) -> list[ManagedPolicy]:
    """The managed policies attached to one entity (those under ``path_prefix``)."""
    found = [
        policy
        for arn in attached_arns(tx, kind, entity_id)
        if (policy := find(tx, arn)) is not None
    ]
    return [
        policy
        for policy in found
        if not path_prefix or policy.path.startswith(path_prefix)
    ]


def entities_for(tx: Tx, arn: str) -> list[tuple[EntityKind, str]]:
    """(kind, entity id) of everything the policy is attached to."""
    query = select(iam_attachments.c.entity_kind, iam_attachments.c.entity_id).where(
        iam_attachments.c.policy_arn == arn
    )
    return [(kind, entity_id) for kind, entity_id in tx.conn.execute(query)]
