"""Inline policies: documents embedded in one user, group or role."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, insert, select, update

from shipyard.errors import AwsError
from shipyard.iam import documents, entities
from shipyard.iam.ids import EntityKind
from shipyard.iam.records import InlinePolicy, Tx
from shipyard.store.tables import iam_inline_policies


def _no_such_policy(kind: EntityKind, policy_name: str) -> AwsError:
    return AwsError(
        "NoSuchEntity",
        f"The {kind} policy with name {policy_name} cannot be found.",
        404,
    )


def _of(kind: EntityKind, entity_id: str) -> ColumnElement[bool]:
    return (iam_inline_policies.c.entity_kind == kind) & (
        iam_inline_policies.c.entity_id == entity_id
    )


def put(tx: Tx, kind: EntityKind, name: str, policy_name: str, document: str) -> None:
    """Add or replace an inline policy, within the entity's total size quota."""
    documents.check_inline(document)
    entity = entities.fetch_row(tx, kind, name, lock=True)
    others = [
        p.document for p in policies_of(tx, kind, entity.id) if p.name != policy_name
    ]
    documents.check_inline_total(kind, entity.name, [*others, document])
    where = _of(kind, entity.id) & (iam_inline_policies.c.name == policy_name)
    if (
        tx.conn.execute(
            update(iam_inline_policies).where(where).values(document=document)
        ).rowcount
        == 0
    ):
        tx.conn.execute(
            insert(iam_inline_policies).values(
                entity_kind=kind,
                entity_id=entity.id,
                name=policy_name,
                document=document,
            )
        )


def get(tx: Tx, kind: EntityKind, name: str, policy_name: str) -> InlinePolicy:
    """One inline policy, or ``NoSuchEntity`` (for the entity or the policy)."""
    entity = entities.fetch_row(tx, kind, name)
    where = _of(kind, entity.id) & (iam_inline_policies.c.name == policy_name)
    text = tx.conn.execute(select(iam_inline_policies.c.document).where(where)).scalar()
    if text is None:
        raise _no_such_policy(kind, policy_name)
    return InlinePolicy(policy_name, text)


def remove(tx: Tx, kind: EntityKind, name: str, policy_name: str) -> None:
    """Delete one inline policy, or ``NoSuchEntity``."""
    entity = entities.fetch_row(tx, kind, name, lock=True)
    where = _of(kind, entity.id) & (iam_inline_policies.c.name == policy_name)
    if tx.conn.execute(delete(iam_inline_policies).where(where)).rowcount == 0:
        raise _no_such_policy(kind, policy_name)


def policies_of(tx: Tx, kind: EntityKind, entity_id: str) -> list[InlinePolicy]:
    """Every inline policy of one entity, by name."""
    query = select(iam_inline_policies.c.name, iam_inline_policies.c.document).where(
        _of(kind, entity_id)
    )
    return [
        InlinePolicy(name, text)
        for name, text in tx.conn.execute(query.order_by(iam_inline_policies.c.name))
    ]
