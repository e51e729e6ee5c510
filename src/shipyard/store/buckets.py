"""Bucket operations of the S3 storage engine: create, list, delete, versioning, and the
bucket sub-resources kept as documents (tags, policy, and any other configuration).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import Connection, delete, exists, select, update

from shipyard.errors import AwsError
from shipyard.store.engine import EngineBase
from shipyard.store.naming import BUCKET_TAG_LIMIT, validate_bucket_name, validate_tags
from shipyard.store.records import (
    bucket_from_row,
    fetch_bucket,
    insert_ignoring_duplicate,
    now_ms,
    to_datetime,
    upload_part_rows,
)
from shipyard.store.s3types import Bucket, CreatedBucket
from shipyard.store.tables import bucket_configs, buckets, object_versions, uploads

VERSIONING_STATES = ("Enabled", "Suspended")

#: ``bucket_configs`` kinds used by this module; handlers may store others (CORS, lifecycle...).
TAGGING = "tagging"
POLICY = "policy"

_MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema"


class BucketOps(EngineBase):
    """Bucket-level operations (mixed into :class:`~shipyard.store.objects.S3Store`)."""

    async def create_bucket(self, *, name: str, region: str, owner: str) -> CreatedBucket:
        """Create bucket ``name`` in ``region`` (CreateBucket).

        One account owns every bucket, so an existing name is ``BucketAlreadyOwnedByYou``
        (409), except that AWS answers 200 in us-east-1 for a bucket already there:
        then ``created`` is False. ``InvalidBucketName`` for a name AWS would refuse.
        """
        validate_bucket_name(name)

        def create(conn: Connection) -> CreatedBucket:
            created_ms = now_ms()
            values = {"name": name, "region": region, "owner": owner, "created_ms": created_ms, "versioning": None}
            if insert_ignoring_duplicate(conn, buckets, values):
                return CreatedBucket(Bucket(name, region, owner, to_datetime(created_ms), None), created=True)
            existing = bucket_from_row(fetch_bucket(conn, name))
            if region == existing.region == "us-east-1":
                return CreatedBucket(existing, created=False)
            raise AwsError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
                409,
                fields={"BucketName": name},
            )

        return await self._db.write(create)

    async def get_bucket(self, name: str) -> Bucket:
        """Bucket ``name`` (HeadBucket, GetBucketLocation, GetBucketVersioning); ``NoSuchBucket``."""
        return await self._db.read(lambda conn: bucket_from_row(fetch_bucket(conn, name)))

    async def list_buckets(
        self, *, prefix: str = "", after: str | None = None, limit: int | None = None, region: str | None = None
    ) -> list[Bucket]:
        """Buckets sorted by name: those starting with ``prefix``, after name ``after``,
        in ``region`` if given, at most ``limit`` (ListBuckets with its paging parameters).
        """

        def read(conn: Connection) -> list[Bucket]:
            query = select(buckets).order_by(buckets.c.name).limit(limit)
            if prefix:
                query = query.where(buckets.c.name.startswith(prefix, autoescape=True))
            if after is not None:
                query = query.where(buckets.c.name > after)
            if region is not None:
                query = query.where(buckets.c.region == region)
            return [bucket_from_row(row) for row in conn.execute(query)]

        return await self._db.read(read)

    async def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket (DeleteBucket).

        ``BucketNotEmpty`` while any object version or delete marker remains; multipart
        uploads in progress do not count and are discarded with the bucket, as in AWS.
        """

        def drop(conn: Connection) -> tuple[None, list[str]]:
            fetch_bucket(conn, name, exclusive=True)
            if conn.execute(select(exists().where(object_versions.c.bucket == name))).scalar():
                raise AwsError(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                    409,
                    fields={"BucketName": name},
                )
            garbage: list[str] = []
            for upload_seq in conn.execute(select(uploads.c.seq).where(uploads.c.bucket == name)).scalars():
                garbage += [part.blob for part in upload_part_rows(conn, upload_seq)]
            conn.execute(delete(uploads).where(uploads.c.bucket == name))
            conn.execute(delete(buckets).where(buckets.c.name == name))
            return None, garbage

        await self._commit(drop)

    async def put_bucket_versioning(self, name: str, status: str) -> None:
        """Set versioning to ``Enabled`` or ``Suspended`` (PutBucketVersioning); a bucket
        never returns to unversioned. Another status is ``MalformedXML``.
        """
        if status not in VERSIONING_STATES:
            raise AwsError("MalformedXML", _MALFORMED_XML, 400)

        def put(conn: Connection) -> None:
            fetch_bucket(conn, name)
            conn.execute(update(buckets).where(buckets.c.name == name).values(versioning=status))

        await self._db.write(put)

    async def put_bucket_config(self, name: str, kind: str, document: str) -> None:
        """Store a bucket sub-resource document (``kind`` such as ``"cors"``), replacing any."""

        def put(conn: Connection) -> None:
            fetch_bucket(conn, name, for_write=True)
            where = (bucket_configs.c.bucket == name) & (bucket_configs.c.kind == kind)
            if conn.execute(update(bucket_configs).where(where).values(document=document)).rowcount == 0:
                conn.execute(bucket_configs.insert().values(bucket=name, kind=kind, document=document))

        await self._db.write(put)

    async def get_bucket_config(self, name: str, kind: str) -> str | None:
        """A bucket sub-resource document, or None if none is stored (``NoSuchBucket``)."""

        def read(conn: Connection) -> str | None:
            fetch_bucket(conn, name)
            query = select(bucket_configs.c.document).where(
                bucket_configs.c.bucket == name, bucket_configs.c.kind == kind
            )
            return conn.execute(query).scalar()

        return await self._db.read(read)

    async def delete_bucket_config(self, name: str, kind: str) -> None:
        """Remove a bucket sub-resource document (no error if there is none)."""

        def drop(conn: Connection) -> None:
            fetch_bucket(conn, name)
            conn.execute(delete(bucket_configs).where(bucket_configs.c.bucket == name, bucket_configs.c.kind == kind))

        await self._db.write(drop)

    async def put_bucket_tags(self, name: str, tags: Mapping[str, str]) -> None:
        """Replace the bucket's tag set (PutBucketTagging); ``InvalidTag`` past AWS's limits."""
        validate_tags(tags, BUCKET_TAG_LIMIT)
        await self.put_bucket_config(name, TAGGING, json.dumps(dict(tags)))

    async def get_bucket_tags(self, name: str) -> dict[str, str]:
        """The bucket's tag set (GetBucketTagging); ``NoSuchTagSet`` if it has none."""
        document = await self.get_bucket_config(name, TAGGING)
        if document is None:
            raise AwsError("NoSuchTagSet", "The TagSet does not exist", 404, fields={"BucketName": name})
        tags: dict[str, str] = json.loads(document)
        return tags

    async def delete_bucket_tags(self, name: str) -> None:
        """Remove the bucket's tag set (DeleteBucketTagging)."""
        await self.delete_bucket_config(name, TAGGING)

    async def put_bucket_policy(self, name: str, policy: str) -> None:
        """Store the bucket policy document as given (PutBucketPolicy)."""
        await self.put_bucket_config(name, POLICY, policy)

    async def get_bucket_policy(self, name: str) -> str:
        """The bucket policy document (GetBucketPolicy); ``NoSuchBucketPolicy`` if none."""
        document = await self.get_bucket_config(name, POLICY)
        if document is None:
            raise AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", 404, fields={"BucketName": name})
        return document

    async def delete_bucket_policy(self, name: str) -> None:
        """Remove the bucket policy (DeleteBucketPolicy)."""
        await self.delete_bucket_config(name, POLICY)
