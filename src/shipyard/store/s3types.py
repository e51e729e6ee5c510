"""What the S3 storage engine takes and returns: small frozen dataclasses, no wire format.

ETags are already quoted (``'"9b2cf535f27731c974343645a3985328"'``); times are aware UTC
datetimes with millisecond precision; checksums are base64 as on the wire.

Version ids: every stored version has one (``"null"`` for versions written while the bucket
was unversioned or suspended). AWS shows it on single-object responses only once the
bucket has a versioning configuration, hence ``reported_version_id`` and the ``version_id``
fields of the write results, which are ``None`` exactly when AWS sends no
``x-amz-version-id``. Listings of versions always show ``"null"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shipyard.errors import AwsError


@dataclass(frozen=True)
class Bucket:
    """A bucket and its versioning status."""

    name: str
    region: str
    #: Who created it (the account id, or the creator's principal ARN: whatever the caller stored).
    owner: str
    created: datetime
    #: ``None`` (never configured), ``"Enabled"`` or ``"Suspended"``.
    versioning: str | None


@dataclass(frozen=True)
class CreatedBucket:
    """The outcome of CreateBucket."""

    bucket: Bucket
    #: False when the bucket already existed and AWS's us-east-1 rule answers 200 OK anyway.
    created: bool


@dataclass(frozen=True)
class ObjectMeta:
    """The headers and metadata stored with an object and returned on GET and HEAD."""

    content_type: str | None = None
    content_encoding: str | None = None
    content_disposition: str | None = None
    content_language: str | None = None
    cache_control: str | None = None
    #: The ``Expires`` header value as the client sent it.
    expires: str | None = None
    #: User metadata (``x-amz-meta-*``), names without the prefix.
    metadata: Mapping[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    #: Other system attributes kept verbatim for the handlers (website redirect, SSE...).
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Checksum:
    """An object's additional checksum."""

    algorithm: str
    #: ``FULL_OBJECT`` or ``COMPOSITE``.
    type: str
    #: Base64; a composite value ends with ``-<number of parts>``.
    value: str


@dataclass(frozen=True)
class ObjectPart:
    """One part of a completed multipart object, numbered 1..N in object order."""

    number: int
    size: int
    #: The part's checksum under the object's algorithm, if the object has one.
    checksum: str | None


@dataclass(frozen=True)
class Segment:
    """A stretch of an object's bytes held by one blob."""

    blob: str
    size: int


@dataclass(frozen=True)
class ObjectVersion:
    """One stored version of a key (an object or a delete marker), with everything HEAD needs."""

    bucket: str
    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    last_modified: datetime
    size: int
    etag: str | None
    meta: ObjectMeta
    tags: Mapping[str, str]
    checksum: Checksum | None
    #: The parts of a multipart object; empty for any other object.
    parts: tuple[ObjectPart, ...]
    #: The bucket's versioning status when this was read or written.
    versioning: str | None
    segments: tuple[Segment, ...] = field(default=(), repr=False, compare=False)

    @property
    def reported_version_id(self) -> str | None:
        """The ``x-amz-version-id`` AWS sends for this version, or None for none."""
        return self.version_id if self.versioning else None

    @property
    def parts_count(self) -> int | None:
        """``x-amz-mp-parts-count``: the number of parts of a multipart object, else None."""
        return len(self.parts) or None

    def part_range(self, part_number: int) -> tuple[int, int]:
        """The byte range ``[start, end)`` of part ``part_number`` (GetObject ``partNumber``).

        An object not uploaded in parts has exactly one part, the whole object.
        """
        sizes = [part.size for part in self.parts] or [self.size]
        if not 1 <= part_number <= len(sizes):
            raise AwsError(
                "InvalidPartNumber",
                "The requested partnumber is not satisfiable",
                416,
                fields={"PartNumberRequested": str(part_number), "ActualPartCount": str(len(sizes))},
            )
        start = sum(sizes[: part_number - 1])
        return start, start + sizes[part_number - 1]


@dataclass(frozen=True)
class CopyResult:
    """The outcome of CopyObject: the new version, and the source version copied."""

    object: ObjectVersion
    #: ``x-amz-copy-source-version-id``: the source version, None for an unversioned source bucket.
    source_version_id: str | None


@dataclass(frozen=True)
class DeleteResult:
    """The outcome of deleting one key or version, as DeleteObject reports it.

    ``version_id`` is the version deleted (when one was named) or the delete marker made
    (a simple delete in a versioning-enabled or suspended bucket); None in an unversioned
    bucket. ``delete_marker`` says a delete marker was made or deleted.
    """

    key: str
    version_id: str | None
    delete_marker: bool


@dataclass(frozen=True)
class ObjectToDelete:
    """One entry of a DeleteObjects request; ``if_match`` is its ``ETag`` (a conditional delete)."""

    key: str
    version_id: str | None = None
    if_match: str | None = None


@dataclass(frozen=True)
class DeleteFailure:
    """One key of a DeleteObjects request that could not be deleted."""

    key: str
    version_id: str | None
    error: AwsError


@dataclass(frozen=True)
class ObjectSummary:
    """A listing entry: an object, an object version or a delete marker."""

    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    last_modified: datetime
    size: int
    etag: str | None
    storage_class: str
    checksum_algorithm: str | None
    checksum_type: str | None


@dataclass(frozen=True)
class ObjectListing:
    """A page of ListObjects / ListObjectsV2.

    ``next_marker`` is the last key or common prefix on the page when it is truncated
    (ListObjects' ``NextMarker``); ``next_continuation_token`` encodes the same position
    for ListObjectsV2.
    """

    objects: list[ObjectSummary]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str | None
    next_continuation_token: str | None

    @property
    def key_count(self) -> int:
        """ListObjectsV2's ``KeyCount``: objects plus common prefixes."""
        return len(self.objects) + len(self.common_prefixes)


@dataclass(frozen=True)
class VersionListing:
    """A page of ListObjectVersions; ``versions`` holds versions and delete markers in order."""

    versions: list[ObjectSummary]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None


@dataclass(frozen=True)
class Upload:
    """An in-progress multipart upload and what the object will carry."""

    upload_id: str
    bucket: str
    key: str
    initiated: datetime
    initiator: str
    meta: ObjectMeta
    tags: Mapping[str, str]
    #: The algorithm the client asked for; None means S3's default (CRC64NVME, not echoed).
    checksum_algorithm: str | None
    checksum_type: str | None


@dataclass(frozen=True)
class Part:
    """An uploaded part of a multipart upload in progress."""

    part_number: int
    size: int
    etag: str
    last_modified: datetime
    #: Under the upload's algorithm (S3's default CRC64NVME when the client named none).
    checksum: str | None


@dataclass(frozen=True)
class CompletedPart:
    """A part as listed in a CompleteMultipartUpload request."""

    part_number: int
    etag: str
    checksum: str | None = None


@dataclass(frozen=True)
class CopiedPart:
    """The outcome of UploadPartCopy: the part, and the source version copied."""

    part: Part
    source_version_id: str | None


@dataclass(frozen=True)
class PartListing:
    """A page of ListParts."""

    upload: Upload
    parts: list[Part]
    is_truncated: bool
    next_part_number_marker: int | None


@dataclass(frozen=True)
class UploadListing:
    """A page of ListMultipartUploads (by key, then initiation)."""

    uploads: list[Upload]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None
