"""Users, groups and roles: create, look up, list, rename, delete, tag, group membership.

Every function runs inside one store transaction (:class:`~shipyard.iam.records.Tx`).
Names are unique regardless of case and looked up that way; a row that is about to be
changed is locked first (``FOR UPDATE`` on PostgreSQL; SQLite has one writer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update

from shipyard.errors import AwsError
from shipyard.iam.ids import EntityKind, name_key, new_id
from shipyard.iam.records import (
    Group,
    Tx,
    User,
    group_from_row,
    role_from_row,
    user_from_row,
)
from shipyard.store.records import AnyRow, now_ms
from shipyard.store.tables import (
    access_keys,
    iam_attachments,
    iam_group_members,
    iam_groups,
    iam_inline_policies,
    iam_roles,
    iam_users,
)

#: Tags per user, role or policy.
MAX_TAGS = 50


@dataclass(frozen=True)
class _Kind:
    table: Table
    convert: Callable[[Tx, AnyRow], Any]
    title: str


_KINDS: dict[str, _Kind] = {
    "user": _Kind(iam_users, user_from_row, "User"),
    "group": _Kind(iam_groups, group_from_row, "Group"),
    "role": _Kind(iam_roles, role_from_row, "Role"),
}


def no_such_entity(kind: EntityKind, name: str) -> AwsError:
    """IAM's 404 for a missing user, group or role."""
    return AwsError(
        "NoSuchEntity", f"The {kind} with name {name} cannot be found.", 404
    )


def fetch_row(tx: Tx, kind: EntityKind, name: str, *, lock: bool = False) -> AnyRow:
    """The row of the ``kind`` named ``name`` (any case), or ``NoSuchEntity``."""
    table = _KINDS[kind].table
    query = select(table).where(table.c.name_key == name_key(name))
    if lock:
        query = query.with_for_update()
    row = tx.conn.execute(query).first()
    if row is None:
        raise no_such_entity(kind, name)
    return row


def get(tx: Tx, kind: EntityKind, name: str, *, lock: bool = False) -> Any:
    """The :class:`User`, :class:`Group` or :class:`Role` named ``name``, or ``NoSuchEntity``."""
    return _KINDS[kind].convert(tx, fetch_row(tx, kind, name, lock=lock))


def find(tx: Tx, kind: EntityKind, name: str) -> Any | None:
    """Like :func:`get`, None when absent."""
    table = _KINDS[kind].table
    row = tx.conn.execute(
        select(table).where(table.c.name_key == name_key(name))
    ).first()
    return None if row is None else _KINDS[kind].convert(tx, row)


def list_all(tx: Tx, kind: EntityKind, path_prefix: str | None = None) -> list[Any]:
    """Every entity of ``kind`` whose path starts with ``path_prefix``, by name."""
    table = _KINDS[kind].table
    query = select(table).order_by(table.c.name_key)
    if path_prefix:
        query = query.where(
            func.substr(table.c.path, 1, len(path_prefix)) == path_prefix
        )
    return [_KINDS[kind].convert(tx, row) for row in tx.conn.execute(query)]


def create(tx: Tx, kind: EntityKind, name: str, path: str, **values: Any) -> Any:
    """A new entity; ``EntityAlreadyExists`` if the name is taken (in any case)."""
    table = _KINDS[kind].table
    if (
        tx.conn.execute(
            select(table.c.id).where(table.c.name_key == name_key(name))
        ).first()
        is not None
    ):
        raise AwsError(
            "EntityAlreadyExists",
            f"{_KINDS[kind].title} with name {name} already exists.",
            409,
        )
    row = {
        "id": new_id(kind),
        "name": name,
        "name_key": name_key(name),
        "path": path,
        "created_ms": now_ms(),
        **values,
    }
    tx.conn.execute(insert(table).values(**row))
    return get(tx, kind, name)


def rename(
    tx: Tx, kind: EntityKind, name: str, new_name: str | None, new_path: str | None
) -> list[str]:
    """Give a user or group a new name and/or path; the ids of access keys whose principal moved.

    A user's access keys follow it: their principal ARN is the user's ARN.
    """
    row = fetch_row(tx, kind, name, lock=True)
    table = _KINDS[kind].table
    target = new_name or row.name
    taken = select(table.c.id).where(table.c.name_key == name_key(target))
    if name_key(target) != row.name_key and tx.conn.execute(taken).first() is not None:
        raise AwsError(
            "EntityAlreadyExists",
            f"{_KINDS[kind].title} with name {new_name} already exists.",
            409,
        )
    path = new_path or row.path
    tx.conn.execute(
        update(table)
        .where(table.c.id == row.id)
        .values(name=target, name_key=name_key(target), path=path)
    )
    if kind != "user":
        return []
    old_arn, new_arn = tx.arn("user", row.path, row.name), tx.arn("user", path, target)
    moved = list(
        tx.conn.execute(
            select(access_keys.c.access_key_id).where(
                access_keys.c.principal_arn == old_arn
            )
        ).scalars()
    )
    if moved:
        tx.conn.execute(
            update(access_keys)
            .where(access_keys.c.principal_arn == old_arn)
            .values(principal_arn=new_arn)
        )
    return moved


def update_values(tx: Tx, kind: EntityKind, name: str, **values: Any) -> Any:
    """Change columns of an existing entity (a role's description, a boundary...); the entity after."""
    row = fetch_row(tx, kind, name, lock=True)
    table = _KINDS[kind].table
    tx.conn.execute(update(table).where(table.c.id == row.id).values(**values))
    return get(tx, kind, name)


def delete_entity(tx: Tx, kind: EntityKind, name: str) -> None:
    """Delete a user, group or role that has nothing left attached; ``DeleteConflict`` otherwise."""
    row = fetch_row(tx, kind, name, lock=True)
    for conflict, message in _conflicts(tx, kind, row):
        if conflict:
            raise AwsError("DeleteConflict", message, 409)
    table = _KINDS[kind].table
    tx.conn.execute(delete(table).where(table.c.id == row.id))


def _conflicts(tx: Tx, kind: EntityKind, row: AnyRow) -> list[tuple[bool, str]]:
    def exists(query: Any) -> bool:
        return tx.conn.execute(query.limit(1)).first() is not None

    inline = select(iam_inline_policies.c.name).where(
        (iam_inline_policies.c.entity_kind == kind)
        & (iam_inline_policies.c.entity_id == row.id)
    )
    attached = select(iam_attachments.c.policy_arn).where(
        (iam_attachments.c.entity_kind == kind)
        & (iam_attachments.c.entity_id == row.id)
    )
    checks: list[tuple[bool, str]] = []
    if kind == "user":
        arn = tx.arn("user", row.path, row.name)
        keys = select(access_keys.c.access_key_id).where(
            access_keys.c.principal_arn == arn
        )
        checks.append(
            (exists(keys), "Cannot delete entity, must delete access keys first.")
        )
    checks.append((exists(inline), "Cannot delete entity, must delete policies first."))
    checks.append(
        (exists(attached), "Cannot delete entity, must detach all policies first.")
    )
    if kind in ("user", "group"):
        column = (
            iam_group_members.c.user_id
            if kind == "user"
            else iam_group_members.c.group_id
        )
        members = select(iam_group_members.c.user_id).where(column == row.id)
        checks.append(
            (
                exists(members),
                "Cannot delete entity, must remove users from group first.",
            )
        )
    return checks


# -- tags -------------------------------------------------------------------------------


def merge_tags(
    current: Mapping[str, str], tags: list[dict[str, str]], *, quota: str
) -> dict[str, str]:
    """``current`` with ``tags`` added; a key replaces an existing one regardless of case."""
    keys = [tag["Key"].lower() for tag in tags]
    if len(set(keys)) != len(keys):
        raise AwsError(
            "InvalidInput",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            400,
        )
    merged = {k: v for k, v in current.items() if k.lower() not in set(keys)}
    merged.update({tag["Key"]: tag.get("Value", "") for tag in tags})
    if len(merged) > MAX_TAGS:
        raise AwsError(
            "LimitExceeded", f"Cannot exceed quota for {quota}: {MAX_TAGS}", 409
        )
    return merged


def without_tags(current: Mapping[str, str], keys: list[str]) -> dict[str, str]:
    """``current`` without ``keys`` (compared regardless of case)."""
    drop = {key.lower() for key in keys}
    return {k: v for k, v in current.items() if k.lower() not in drop}


def tag(tx: Tx, kind: EntityKind, name: str, tags: list[dict[str, str]]) -> None:
    """Add or replace tags of a user or role."""
    entity = get(tx, kind, name, lock=True)
    update_values(
        tx,
        kind,
        name,
        tags=merge_tags(entity.tags, tags, quota=f"TagsPer{_KINDS[kind].title}"),
    )


def untag(tx: Tx, kind: EntityKind, name: str, keys: list[str]) -> None:
    """Remove tags of a user or role; absent keys are ignored."""
    entity = get(tx, kind, name, lock=True)
    update_values(tx, kind, name, tags=without_tags(entity.tags, keys) or None)


def tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    """Tags as IAM's ``[{"Key": ..., "Value": ...}]``."""
    return [{"Key": key, "Value": value} for key, value in (tags or {}).items()]


# -- groups and their members ---------------------------------------------------------


def add_member(tx: Tx, group_name: str, user_name: str) -> None:
    """Put a user in a group (nothing happens if it is there already)."""
    group = fetch_row(tx, "group", group_name, lock=True)
    user = fetch_row(tx, "user", user_name, lock=True)
    where = (iam_group_members.c.group_id == group.id) & (
        iam_group_members.c.user_id == user.id
    )
    if (
        tx.conn.execute(select(iam_group_members.c.user_id).where(where)).first()
        is None
    ):
        tx.conn.execute(
            insert(iam_group_members).values(
                group_id=group.id, user_id=user.id, added_ms=now_ms()
            )
        )


def remove_member(tx: Tx, group_name: str, user_name: str) -> None:
    """Take a user out of a group; ``NoSuchEntity`` if it is not in it."""
    group = fetch_row(tx, "group", group_name, lock=True)
    user = fetch_row(tx, "user", user_name, lock=True)
    where = (iam_group_members.c.group_id == group.id) & (
        iam_group_members.c.user_id == user.id
    )
    if tx.conn.execute(delete(iam_group_members).where(where)).rowcount == 0:
        raise no_such_entity("user", user_name)


def members(tx: Tx, group_id: str) -> list[User]:
    """The users of a group, by name."""
    query = (
        select(iam_users)
        .join(iam_group_members, iam_group_members.c.user_id == iam_users.c.id)
        .where(iam_group_members.c.group_id == group_id)
        .order_by(iam_users.c.name_key)
    )
    return [user_from_row(tx, row) for row in tx.conn.execute(query)]


def groups_of(tx: Tx, user_id: str) -> list[Group]:
    """The groups a user is in, by name."""
    query = (
        select(iam_groups)
        .join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.id)
        .where(iam_group_members.c.user_id == user_id)
        .order_by(iam_groups.c.name_key)
    )
    return [group_from_row(tx, row) for row in tx.conn.execute(query)]
