"""Persistence: the metadata database, the blob store, accounts, and the S3 storage engine.

Built once at server start::

    database = Database(settings.resolved_database_url)
    database.migrate()
    blobs = BlobStore(settings.data_dir / "objects")
    s3 = S3Store(database, blobs)
    await s3.sweep()          # before serving: drop blobs a crash left unreferenced
    accounts = AccountStore(database)
"""

from shipyard.store.accounts import AccessKey, Account, AccountStore
from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.engine import ObjectReader
from shipyard.store.objects import S3Store

__all__ = ["AccessKey", "Account", "AccountStore", "BlobStore", "Database", "ObjectReader", "S3Store"]
