"""The server's account and the access keys that sign requests.

One server is one AWS account: a 12-digit id made at first start. Access keys belong to
a principal of that account (the root, an IAM user, ...), named by its ARN; the gateway
looks up a key's secret on every request, so lookups are cached in memory. The cache is
kept up to date by every change made through this store: the server process should make
all key changes through its one instance.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Connection, delete, insert, select, update

from shipyard.errors import AwsError
from shipyard.store.database import Database
from shipyard.store.records import AnyRow, now_ms, to_datetime
from shipyard.store.tables import access_keys, accounts

ACTIVE = "Active"
INACTIVE = "Inactive"

_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class Account:
    """The one AWS account a server is."""

    id: str
    created: datetime

    @property
    def root_arn(self) -> str:
        """The account's root principal: ``arn:aws:iam::<id>:root``."""
        return f"arn:aws:iam::{self.id}:root"


@dataclass(frozen=True)
class AccessKey:
    """A long-term access key pair and the principal it signs for."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    principal_arn: str
    #: ``Active`` or ``Inactive``.
    status: str
    created: datetime

    @property
    def active(self) -> bool:
        """Whether the key may sign requests."""
        return self.status == ACTIVE


def new_access_key_id() -> str:
    """An id shaped like AWS's long-term keys: ``AKIA`` and 16 uppercase letters or digits."""
    return "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    """40 random base64 characters, as AWS's secrets."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


class AccountStore:
    """The account row and the ``access_keys`` table."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._cache: dict[str, AccessKey] = {}

    async def ensure_account(self, account_id: str | None = None) -> Account:
        """The server's account, created on first call (``account_id``, or 12 random digits)."""
        if account_id is not None and not (len(account_id) == 12 and account_id.isdigit()):
            raise ValueError(f"an account id is 12 digits, not {account_id!r}")

        def ensure(conn: Connection) -> Account:
            row = conn.execute(select(accounts).limit(1)).first()
            if row is None:
                made = account_id or "".join(secrets.choice(string.digits) for _ in range(12))
                created_ms = now_ms()
                conn.execute(insert(accounts).values(id=made, created_ms=created_ms))
                return Account(made, to_datetime(created_ms))
            return Account(row.id, to_datetime(row.created_ms))

        return await self._db.write(ensure)

    async def ensure_root_key(
        self, *, access_key_id: str | None = None, secret_access_key: str | None = None
    ) -> AccessKey:
        """The root's access key, created on first start.

        With ``access_key_id`` (and its secret), that key is the root's: made if it does
        not exist (e.g. keys fixed by configuration). Without, the root's oldest key is
        returned, or a new random pair if it has none.
        """
        account = await self.ensure_account()

        def ensure(conn: Connection) -> AccessKey:
            if access_key_id is not None:
                row = conn.execute(select(access_keys).where(access_keys.c.access_key_id == access_key_id)).first()
                if row is not None:
                    return _key(row)
            else:
                query = (
                    select(access_keys)
                    .where(access_keys.c.principal_arn == account.root_arn)
                    .order_by(access_keys.c.created_ms)
                    .limit(1)
                )
                if (row := conn.execute(query).first()) is not None:
                    return _key(row)
            return insert_access_key(conn, account.id, account.root_arn, access_key_id, secret_access_key)

        return self._remember(await self._db.write(ensure))

    async def create_access_key(
        self, principal_arn: str, *, access_key_id: str | None = None, secret_access_key: str | None = None
    ) -> AccessKey:
        """A new active key for ``principal_arn`` (random unless given)."""
        account = await self.ensure_account()
        return self._remember(
            await self._db.write(
                lambda conn: insert_access_key(conn, account.id, principal_arn, access_key_id, secret_access_key)
            )
        )

    async def get_access_key(self, access_key_id: str) -> AccessKey | None:
        """The key with this id, active or not, or None (cached)."""
        if (cached := self._cache.get(access_key_id)) is not None:
            return cached
        row = await self._db.read(
            lambda conn: conn.execute(select(access_keys).where(access_keys.c.access_key_id == access_key_id)).first()
        )
        return None if row is None else self._remember(_key(row))

    async def list_access_keys(self, principal_arn: str) -> list[AccessKey]:
        """The keys of ``principal_arn``, oldest first."""

        def read(conn: Connection) -> list[AccessKey]:
            query = (
                select(access_keys)
                .where(access_keys.c.principal_arn == principal_arn)
                .order_by(access_keys.c.created_ms, access_keys.c.access_key_id)
            )
            return [_key(row) for row in conn.execute(query)]

        return await self._db.read(read)

    async def set_access_key_status(self, access_key_id: str, status: str) -> AccessKey:
        """Make a key ``Active`` or ``Inactive``; ``NoSuchEntity`` if it does not exist."""
        if status not in (ACTIVE, INACTIVE):
            raise AwsError("ValidationError", f"Status must be {ACTIVE} or {INACTIVE}.", 400)

        def change(conn: Connection) -> AccessKey:
            where = access_keys.c.access_key_id == access_key_id
            row = conn.execute(select(access_keys).where(where)).first()
            if row is None:
                raise no_such_key(access_key_id)
            conn.execute(update(access_keys).where(where).values(status=status))
            return replace(_key(row), status=status)

        return self._remember(await self._db.write(change))

    async def delete_access_key(self, access_key_id: str) -> None:
        """Delete a key for good; ``NoSuchEntity`` if it does not exist."""

        def drop(conn: Connection) -> None:
            if conn.execute(delete(access_keys).where(access_keys.c.access_key_id == access_key_id)).rowcount == 0:
                raise no_such_key(access_key_id)

        try:
            await self._db.write(drop)
        finally:
            self._cache.pop(access_key_id, None)

    def forget(self, access_key_ids: Iterable[str]) -> None:
        """Drop cached keys whose rows another transaction changed (a renamed user's keys)."""
        for access_key_id in access_key_ids:
            self._cache.pop(access_key_id, None)

    def _remember(self, key: AccessKey) -> AccessKey:
        self._cache[key.access_key_id] = key
        return key


def insert_access_key(
    conn: Connection, account_id: str, principal_arn: str, access_key_id: str | None = None, secret: str | None = None
) -> AccessKey:
    """Insert a new active key for ``principal_arn`` in the caller's transaction (random unless given)."""
    values = {
        "access_key_id": access_key_id or new_access_key_id(),
        "secret_access_key": secret or new_secret_access_key(),
        "account_id": account_id,
        "principal_arn": principal_arn,
        "status": ACTIVE,
        "created_ms": now_ms(),
    }
    conn.execute(insert(access_keys).values(**values))
    return _key(SimpleNamespace(**values))


def _key(row: AnyRow | SimpleNamespace) -> AccessKey:
    return AccessKey(
        access_key_id=row.access_key_id,
        secret_access_key=row.secret_access_key,
        account_id=row.account_id,
        principal_arn=row.principal_arn,
        status=row.status,
        created=to_datetime(row.created_ms),
    )


def no_such_key(access_key_id: str) -> AwsError:
    """IAM's 404 for an access key id that does not exist."""
    return AwsError("NoSuchEntity", f"The Access Key with id {access_key_id} cannot be found.", 404)
