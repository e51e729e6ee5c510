"""The versioning state machine: which rows a write or a delete adds, replaces or removes.

A bucket's versioning status is ``None`` (never configured), ``"Enabled"`` or
``"Suspended"``. Writing a key while it is Enabled adds a version with a fresh id; while
unversioned or Suspended it replaces the key's ``null`` version (other versions stay).
Exactly one version per key is the latest; deleting the latest by version id makes the
next newest latest.

Every function runs inside the caller's write transaction and returns the blob ids its
changes orphaned, to be deleted once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from shipyard.errors import AwsError
from shipyard.store.naming import NULL_VERSION, new_version_id
from shipyard.store.records import AnyRow, lock_key, no_such_key, version_from_row
from shipyard.store.s3types import DeleteResult, ObjectVersion
from shipyard.store.tables import object_versions as ov

_DELETE_MARKER: dict[str, Any] = {
    "is_delete_marker": True,
    "size": 0,
    "etag": None,
    "storage_class": "STANDARD",
    "segments": None,
}


@dataclass(frozen=True)
class KeyState:
    """The rows of a key a write looks at: the latest version and the ``null`` version."""

    latest: AnyRow | None
    null: AnyRow | None

    @property
    def current(self) -> AnyRow | None:
        """The latest version unless it is a delete marker: the object a GET would return."""
        return None if self.latest is None or self.latest.is_delete_marker else self.latest


# Statements built once (see records.py).
_KEY_STATE = select(ov.c.seq, ov.c.version_id, ov.c.is_latest, ov.c.is_delete_marker, ov.c.etag, ov.c.segments).where(
    ov.c.bucket == bindparam("b_bucket"),
    ov.c.key == bindparam("b_key"),
    or_(ov.c.is_latest == true(), ov.c.version_id == NULL_VERSION),
)
_VERSION = select(ov.c.seq, ov.c.is_latest, ov.c.is_delete_marker, ov.c.segments).where(
    ov.c.bucket == bindparam("b_bucket"), ov.c.key == bindparam("b_key"), ov.c.version_id == bindparam("b_version")
)
_NEWEST = select(func.max(ov.c.seq)).where(ov.c.bucket == bindparam("b_bucket"), ov.c.key == bindparam("b_key"))
_INSERT = insert(ov)
_DELETE = delete(ov).where(ov.c.seq == bindparam("b_seq"))
_SET_LATEST = update(ov).where(ov.c.seq == bindparam("b_seq")).values(is_latest=bindparam("b_latest"))


def key_state(conn: Connection, bucket: str, key: str) -> KeyState:
    """The latest and the ``null`` version rows of ``key`` (lock the key first to write)."""
    rows = conn.execute(_KEY_STATE, {"b_bucket": bucket, "b_key": key}).all()
    latest = next((row for row in rows if row.is_latest), None)
    null = next((row for row in rows if row.version_id == NULL_VERSION), None)
    return KeyState(latest, null)


def check_preconditions(state: KeyState, key: str, *, if_match: str | None, if_none_match: str | None) -> None:
    """S3's conditional writes, evaluated against the current object in the same transaction.

    ``If-None-Match: *`` fails with 412 when the key has a current object; ``If-Match``
    fails with 404 when it has none and with 412 when no listed ETag matches (``*``
    matches any object).
    """
    current = state.current
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise AwsError(
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
                501,
                fields={"Header": "If-None-Match"},
            )
        if current is not None:
            raise precondition_failed("If-None-Match")
    if if_match is not None:
        if current is None:
            raise no_such_key(key)
        if not etag_matches(if_match, current.etag):
            raise precondition_failed("If-Match")


def precondition_failed(condition: str) -> AwsError:
    """S3's 412, naming the header whose condition did not hold."""
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def etag_matches(header: str, etag: str | None) -> bool:
    """Whether an ``If-Match``-style list of ETags (or ``*``) names ``etag``."""
    if etag is None:
        return False
    wanted = etag.strip('"')
    candidates = (candidate.strip() for candidate in header.split(","))
    return any(candidate == "*" or candidate.removeprefix("W/").strip('"') == wanted for candidate in candidates)


def write_version(
    conn: Connection,
    bucket: AnyRow,
    key: str,
    values: Mapping[str, Any],
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> tuple[ObjectVersion, list[str]]:
    """Make an object with column ``values`` the latest version of ``key`` in ``bucket``
    (a ``buckets`` row), after the conditional-write checks; the new version and the
    blobs it orphaned.
    """
    lock_key(conn, bucket.name, key)
    state = key_state(conn, bucket.name, key)
    check_preconditions(state, key, if_match=if_match, if_none_match=if_none_match)
    version_id, garbage = install(conn, bucket.versioning, bucket.name, key, state, values)
    row = SimpleNamespace(key=key, version_id=version_id, is_latest=True, **values)
    return version_from_row(bucket.name, row, bucket.versioning), garbage


def install(
    conn: Connection, versioning: str | None, bucket: str, key: str, state: KeyState, values: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """Add a version with ``values`` as the latest; its version id and the orphaned blobs."""
    garbage: list[str] = []
    replaced_seq = None
    if versioning == "Enabled":
        version_id = new_version_id()
    else:
        version_id = NULL_VERSION
        if state.null is not None:
            replaced_seq = state.null.seq
            conn.execute(_DELETE, {"b_seq": replaced_seq})
            garbage = blob_ids(state.null.segments)
    if state.latest is not None and state.latest.seq != replaced_seq:
        conn.execute(_SET_LATEST, {"b_seq": state.latest.seq, "b_latest": False})
    conn.execute(_INSERT, {**values, "bucket": bucket, "key": key, "version_id": version_id, "is_latest": True})
    return version_id, garbage


def delete_current(
    conn: Connection, versioning: str | None, bucket: str, key: str, state: KeyState, modified_ms: int
) -> tuple[DeleteResult, list[str]]:
    """A simple DELETE: remove the ``null`` version, or add a delete marker once versioned."""
    if versioning is None:
        if state.null is None:
            return DeleteResult(key, None, False), []
        conn.execute(_DELETE, {"b_seq": state.null.seq})
        return DeleteResult(key, None, False), blob_ids(state.null.segments)
    marker = {**_DELETE_MARKER, "modified_ms": modified_ms}
    version_id, garbage = install(conn, versioning, bucket, key, state, marker)
    return DeleteResult(key, version_id, True), garbage


def delete_version(conn: Connection, bucket: str, key: str, version_id: str) -> tuple[DeleteResult, list[str]]:
    """Remove one version for good (a no-op if it does not exist); the next newest becomes latest."""
    params = {"b_bucket": bucket, "b_key": key}
    row = conn.execute(_VERSION, {**params, "b_version": version_id}).first()
    if row is None:
        return DeleteResult(key, version_id, False), []
    conn.execute(_DELETE, {"b_seq": row.seq})
    if row.is_latest:
        newest = conn.execute(_NEWEST, params).scalar()
        if newest is not None:
            conn.execute(_SET_LATEST, {"b_seq": newest, "b_latest": True})
    return DeleteResult(key, version_id, row.is_delete_marker), blob_ids(row.segments)


def blob_ids(segments: Iterable[list[Any]] | None) -> list[str]:
    """The blob ids in a ``segments`` column value."""
    return [segment[0] for segment in segments or ()]
