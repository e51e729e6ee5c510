"""The IAM store: users, groups, roles and policies in the metadata database.

Domain code is plain synchronous functions of a :class:`~shipyard.iam.records.Tx`
(``shipyard.iam.entities``, ``managed_policies``, ``inline``); :meth:`IamStore.read` and
:meth:`IamStore.write` run them in one transaction off the event loop. Every committed
write bumps :attr:`IamStore.generation`, which the authorizer compares to drop what it
cached. Access keys of users are the account store's keys, whose principal is the user's ARN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

from sqlalchemy import Connection, func, select, text

from shipyard.errors import AwsError
from shipyard.iam import entities, managed_policies
from shipyard.iam.documents import parsed
from shipyard.iam.policy import Policy, PolicyType
from shipyard.iam.principals import PrincipalRecord, record_for_arn, role_record
from shipyard.iam.records import Tx
from shipyard.store.accounts import (
    AccessKey,
    AccountStore,
    insert_access_key,
    no_such_key,
)
from shipyard.store.database import Database
from shipyard.store.tables import access_keys

T = TypeVar("T")

#: PostgreSQL advisory lock key that serializes IAM writes ("IAM" in ASCII).
_IAM_WRITE_LOCK = 0x49414D

#: Access keys one user (or the root) may have.
MAX_ACCESS_KEYS = 2


class IamStore:
    """IAM's entities and policies for the server's one account."""

    def __init__(
        self, database: Database, accounts: AccountStore, account_id: str
    ) -> None:
        self._db = database
        self._accounts = accounts
        self.account_id = account_id
        #: Bumped by every committed IAM change (cache invalidation for the authorizer).
        self.generation = 0

    async def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a read transaction."""
        return await self._db.read(lambda conn: fn(Tx(conn, self.account_id)))

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a write transaction; bump :attr:`generation` once it has committed."""

        def serialized(conn: Connection) -> T:
            if self._db.is_postgresql:
                # PostgreSQL runs writes concurrently: one IAM write at a time makes every
                # "does this name exist? then insert" check race-free (IAM writes are rare).
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IAM_WRITE_LOCK})
            return fn(Tx(conn, self.account_id))

        try:
            return await self._db.write(serialized)
        finally:
            # Also after a failure: a commit may have happened before an error was raised.
            self.generation += 1

    # -- for the authorizer and STS ----------------------------------------------------

    async def principal_record(self, arn: str) -> PrincipalRecord | None:
        """The user or role ``arn`` names, with its policies; None if there is none."""
        return await self.read(lambda tx: record_for_arn(tx, arn))

    async def role_by_name(self, name: str) -> PrincipalRecord | None:
        """The role named ``name`` (any case), with its policies and trust policy; None if absent."""

        def load(tx: Tx) -> PrincipalRecord | None:
            role = entities.find(tx, "role", name)
            return None if role is None else role_record(tx, role)

        return await self.read(load)

    async def entity_arn(
        self, kind: Literal["user", "group", "role", "policy"], name: str
    ) -> str | None:
        """The ARN (with its path) of the user, group, role or customer managed policy named ``name``."""

        def load(tx: Tx) -> str | None:
            if kind == "policy":
                policies = managed_policies.list_policies(tx, scope="Local")
                return next(
                    (p.arn for p in policies if p.name.lower() == name.lower()), None
                )
            entity = entities.find(tx, kind, name)
            return None if entity is None else entity.arn

        return await self.read(load)

    async def managed_policy_document(self, arn: str) -> Policy | None:
        """The default version of a managed policy, parsed; None if there is no such policy."""
        text = await self.read(lambda tx: managed_policies.document(tx, arn))
        return None if text is None else parsed(text, PolicyType.IDENTITY)

    # -- users whose changes reach the account store ---------------------------------------

    async def rename_user(
        self, name: str, new_name: str | None, new_path: str | None
    ) -> None:
        """UpdateUser: a new name and/or path; the user's access keys follow its new ARN."""
        moved = await self.write(
            lambda tx: entities.rename(tx, "user", name, new_name, new_path)
        )
        self._accounts.forget(moved)

    async def create_access_key(
        self, principal_arn: str, user_name: str | None
    ) -> AccessKey:
        """A new key for a user (``user_name``) or the root, at most :data:`MAX_ACCESS_KEYS` each."""

        def create(tx: Tx) -> AccessKey:
            if user_name is not None:
                entities.fetch_row(tx, "user", user_name, lock=True)
            count = tx.conn.execute(
                select(func.count())
                .select_from(access_keys)
                .where(access_keys.c.principal_arn == principal_arn)
            ).scalar_one()
            if count >= MAX_ACCESS_KEYS:
                raise AwsError(
                    "LimitExceeded",
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}",
                    409,
                )
            return insert_access_key(tx.conn, self.account_id, principal_arn)

        return await self.write(create)

    async def set_access_key_status(
        self, access_key_id: str, owner_arn: str, status: str
    ) -> None:
        """UpdateAccessKey of a key that ``owner_arn`` owns (else ``NoSuchEntity``)."""
        await self._owned_key(access_key_id, owner_arn)
        try:
            await self._accounts.set_access_key_status(access_key_id, status)
        finally:
            self.generation += 1

    async def delete_access_key(self, access_key_id: str, owner_arn: str) -> None:
        """DeleteAccessKey of a key that ``owner_arn`` owns (else ``NoSuchEntity``)."""
        await self._owned_key(access_key_id, owner_arn)
        try:
            await self._accounts.delete_access_key(access_key_id)
        finally:
            self.generation += 1

    async def _owned_key(self, access_key_id: str, owner_arn: str) -> AccessKey:
        key = await self._accounts.get_access_key(access_key_id)
        if key is None or key.principal_arn != owner_arn:
            raise no_such_key(access_key_id)
        return key
