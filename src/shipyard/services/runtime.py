"""The server's shared, long-lived parts, handed to every handler through its context."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.audit import AuditLog
from shipyard.config import Settings
from shipyard.iam.authorizer import Authorizer
from shipyard.iam.sessions import SessionStore
from shipyard.iam.store import IamStore
from shipyard.logs import LogStore
from shipyard.store.accounts import AccountStore
from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.objects import S3Store


@dataclass
class Runtime:
    """Built once at server start (see ``shipyard.server.app``), closed at shutdown."""

    settings: Settings
    database: Database
    blobs: BlobStore
    accounts: AccountStore
    s3: S3Store
    account_id: str
    audit: AuditLog
    iam: IamStore
    sessions: SessionStore
    authorizer: Authorizer
    logs: LogStore

    async def close(self) -> None:
        """Release the database's threads and connections."""
        await self.database.close()
