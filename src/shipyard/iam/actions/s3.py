"""S3: every operation's actions, as the Service Authorization Reference lists them.

S3's action names rarely follow its operation names (``HeadBucket`` is ``s3:ListBucket``,
``DeleteBucketCors`` is ``s3:PutBucketCORS``), so every operation is listed here. Object
operations on a specific ``VersionId`` need the ``...Version...`` action; writes that set
an ACL, tags, a retention or a legal hold need those actions as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from shipyard.iam.actions.base import Request, RequiredAction, Rule
from shipyard.iam.actions.generic import ServiceTable
from shipyard.iam.actions.tags import request_tags

#: Bucket-level operations -> the action, checked on ``arn:aws:s3:::<bucket>``.
_BUCKET_ACTIONS = {
    "DeleteBucket": "s3:DeleteBucket",
    "HeadBucket": "s3:ListBucket",
    "GetBucketLocation": "s3:GetBucketLocation",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketPolicyStatus": "s3:GetBucketPolicyStatus",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketTagging": "s3:GetBucketTagging",
    "PutBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketLifecycle": "s3:GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycle": "s3:PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketLogging": "s3:GetBucketLogging",
    "PutBucketLogging": "s3:PutBucketLogging",
    "GetBucketNotification": "s3:GetBucketNotification",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotification": "s3:PutBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
    "PutBucketRequestPayment": "s3:PutBucketRequestPayment",
    "GetBucketWebsite": "s3:GetBucketWebsite",
    "PutBucketWebsite": "s3:PutBucketWebsite",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetBucketAnalyticsConfiguration": "s3:GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "s3:GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "s3:GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "s3:GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "s3:PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "s3:PutIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration": "s3:GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "s3:PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "s3:PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "s3:GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "s3:GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "GetBucketAbac": "s3:GetBucketABAC",
    "PutBucketAbac": "s3:PutBucketABAC",
    "CreateBucketMetadataConfiguration": "s3:CreateBucketMetadataTableConfiguration",
    "CreateBucketMetadataTableConfiguration": "s3:CreateBucketMetadataTableConfiguration",
    "GetBucketMetadataConfiguration": "s3:GetBucketMetadataTableConfiguration",
    "GetBucketMetadataTableConfiguration": "s3:GetBucketMetadataTableConfiguration",
    "DeleteBucketMetadataConfiguration": "s3:DeleteBucketMetadataTableConfiguration",
    "DeleteBucketMetadataTableConfiguration": "s3:DeleteBucketMetadataTableConfiguration",
    "UpdateBucketMetadataAnnotationTableConfiguration": "s3:UpdateBucketMetadataAnnotationTableConfiguration",
    "UpdateBucketMetadataInventoryTableConfiguration": "s3:UpdateBucketMetadataInventoryTableConfiguration",
    "UpdateBucketMetadataJournalTableConfiguration": "s3:UpdateBucketMetadataJournalTableConfiguration",
}

#: Listings -> the action, checked on the bucket with ``s3:prefix``/``delimiter``/``max-keys``.
_LISTINGS = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
}

#: Object-level operations -> (action, action when a ``VersionId`` is given), on the object ARN.
_OBJECT_ACTIONS = {
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "SelectObjectContent": ("s3:GetObject", "s3:GetObject"),
    "GetObjectTorrent": ("s3:GetObject", "s3:GetObject"),
    "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "GetObjectAcl": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "PutObjectAcl": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    "GetObjectTagging": ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", "s3:GetObjectLegalHold"),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", "s3:PutObjectLegalHold"),
    "GetObjectRetention": ("s3:GetObjectRetention", "s3:GetObjectRetention"),
    "RestoreObject": ("s3:RestoreObject", "s3:RestoreObject"),
    "UpdateObjectEncryption": (
        "s3:UpdateObjectEncryption",
        "s3:UpdateObjectEncryption",
    ),
    "GetObjectAnnotation": ("s3:GetObjectAnnotation", "s3:GetObjectAnnotation"),
    "PutObjectAnnotation": ("s3:PutObjectAnnotation", "s3:PutObjectAnnotation"),
    "DeleteObjectAnnotation": (
        "s3:DeleteObjectAnnotation",
        "s3:DeleteObjectAnnotation",
    ),
    "ListObjectAnnotations": ("s3:ListObjectAnnotations", "s3:ListObjectAnnotations"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "s3:AbortMultipartUpload"),
    "ListParts": ("s3:ListMultipartUploadParts", "s3:ListMultipartUploadParts"),
    "UploadPart": ("s3:PutObject", "s3:PutObject"),
    "CompleteMultipartUpload": ("s3:PutObject", "s3:PutObject"),
}

#: Request headers that are condition keys wherever they are sent: key -> parameter.
_HEADER_KEYS = (
    ("s3:x-amz-acl", "ACL"),
    ("s3:x-amz-grant-full-control", "GrantFullControl"),
    ("s3:x-amz-grant-read", "GrantRead"),
    ("s3:x-amz-grant-read-acp", "GrantReadACP"),
    ("s3:x-amz-grant-write", "GrantWrite"),
    ("s3:x-amz-grant-write-acp", "GrantWriteACP"),
    ("s3:x-amz-server-side-encryption", "ServerSideEncryption"),
    ("s3:x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId"),
    ("s3:x-amz-storage-class", "StorageClass"),
    ("s3:x-amz-copy-source", "CopySource"),
    ("s3:x-amz-metadata-directive", "MetadataDirective"),
    ("s3:object-lock-mode", "ObjectLockMode"),
    ("s3:object-lock-legal-hold", "ObjectLockLegalHoldStatus"),
    ("s3:VersionId", "VersionId"),
)
_LISTING_KEYS = (
    ("s3:prefix", "Prefix"),
    ("s3:delimiter", "Delimiter"),
    ("s3:max-keys", "MaxKeys"),
)
_GRANTS = (
    "ACL",
    "GrantFullControl",
    "GrantRead",
    "GrantReadACP",
    "GrantWrite",
    "GrantWriteACP",
)


def bucket_arn(bucket: str) -> str:
    """``arn:aws:s3:::<bucket>``."""
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    """``arn:aws:s3:::<bucket>/<key>``."""
    return f"arn:aws:s3:::{bucket}/{key}"


def copy_source(value: str) -> tuple[str, str | None]:
    """The object ARN and version id a ``CopySource`` (``bucket/key[?versionId=v]``) names."""
    path, _, query = value.partition("?")
    version = dict(parse_qsl(query)).get("versionId") or None
    return f"arn:aws:s3:::{unquote(path).lstrip('/')}", version


def _context(
    params: Mapping[str, Any], keys: tuple[tuple[str, str], ...] = _HEADER_KEYS
) -> dict[str, tuple[str, ...]]:
    return {
        key: (str(params[name]),) for key, name in keys if params.get(name) is not None
    }


def _bucket(action: str) -> Rule:
    def rule(request: Request) -> list[RequiredAction]:
        params = request.params
        return [
            RequiredAction(action, (bucket_arn(params["Bucket"]),), _context(params))
        ]

    return rule


def _listing(action: str) -> Rule:
    def rule(request: Request) -> list[RequiredAction]:
        params = request.params
        context = _context(params, _LISTING_KEYS)
        return [RequiredAction(action, (bucket_arn(params["Bucket"]),), context)]

    return rule


def _object(action: str, version_action: str) -> Rule:
    def rule(request: Request) -> list[RequiredAction]:
        params = request.params
        arn = object_arn(params["Bucket"], params["Key"])
        chosen = version_action if params.get("VersionId") else action
        return [RequiredAction(chosen, (arn,), _context(params))]

    return rule


def _object_write(request: Request) -> list[RequiredAction]:
    """PutObject, CreateMultipartUpload: s3:PutObject, and the actions of what else it sets."""
    params = request.params
    arn = object_arn(params["Bucket"], params["Key"])
    return _writes(arn, params)


def _writes(arn: str, params: Mapping[str, Any]) -> list[RequiredAction]:
    context = _context(params)
    tagging = dict(parse_qsl(params.get("Tagging") or "", keep_blank_values=True))
    actions = ["s3:PutObject"]
    if any(params.get(name) for name in _GRANTS):
        actions.append("s3:PutObjectAcl")
    if tagging:
        actions.append("s3:PutObjectTagging")
        context.update(_object_tags(tagging.items()))
    if params.get("ObjectLockMode") or params.get("ObjectLockRetainUntilDate"):
        actions.append("s3:PutObjectRetention")
    if params.get("ObjectLockLegalHoldStatus"):
        actions.append("s3:PutObjectLegalHold")
    return [RequiredAction(action, (arn,), context) for action in actions]


def _object_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Object tags a request sets: S3's own keys, and the global ``aws:RequestTag`` ones."""
    pairs = list(pairs)
    context = request_tags(pairs)
    context.update({f"s3:RequestObjectTag/{key}": (value,) for key, value in pairs})
    if pairs:
        context["s3:RequestObjectTagKeys"] = context["aws:TagKeys"]
    return context


def _source_read(params: Mapping[str, Any]) -> RequiredAction:
    source, version = copy_source(params["CopySource"])
    if version:
        return RequiredAction(
            "s3:GetObjectVersion", (source,), {"s3:VersionId": (version,)}
        )
    return RequiredAction("s3:GetObject", (source,))


def _copy_object(request: Request) -> list[RequiredAction]:
    """CopyObject: read the source (its version, if named), write the target as PutObject does."""
    params = request.params
    return [
        _source_read(params),
        *_writes(object_arn(params["Bucket"], params["Key"]), params),
    ]


def _upload_part_copy(request: Request) -> list[RequiredAction]:
    """UploadPartCopy: read the source (its version, if named), s3:PutObject on the target."""
    params = request.params
    target = object_arn(params["Bucket"], params["Key"])
    return [
        _source_read(params),
        RequiredAction("s3:PutObject", (target,), _context(params)),
    ]


def _put_object_tagging(request: Request) -> list[RequiredAction]:
    """PutObjectTagging (of the version, if named), with the tags it sets."""
    params = request.params
    action = (
        "s3:PutObjectVersionTagging"
        if params.get("VersionId")
        else "s3:PutObjectTagging"
    )
    tags = params.get("Tagging", {}).get("TagSet", [])
    context = {
        **_context(params),
        **_object_tags((tag["Key"], tag.get("Value", "")) for tag in tags),
    }
    return [
        RequiredAction(action, (object_arn(params["Bucket"], params["Key"]),), context)
    ]


def _delete_objects(request: Request) -> list[RequiredAction]:
    """DeleteObjects: s3:DeleteObject on each key, s3:DeleteObjectVersion on each version."""
    params = request.params
    bucket = params["Bucket"]
    objects = params.get("Delete", {}).get("Objects", [])
    current = tuple(
        object_arn(bucket, item["Key"]) for item in objects if not item.get("VersionId")
    )
    needed = [RequiredAction("s3:DeleteObject", current)] if current else []
    needed += [
        RequiredAction(
            "s3:DeleteObjectVersion",
            (object_arn(bucket, item["Key"]),),
            {"s3:VersionId": (item["VersionId"],)},
        )
        for item in objects
        if item.get("VersionId")
    ]
    # A request naming no key is malformed; it is still checked, on every key of the bucket.
    return needed or [RequiredAction("s3:DeleteObject", (object_arn(bucket, "*"),))]


def _get_object_attributes(request: Request) -> list[RequiredAction]:
    """GetObjectAttributes: read and read-attributes permissions (of the version, if named)."""
    params = request.params
    arn = object_arn(params["Bucket"], params["Key"])
    context = _context(params)
    if params.get("VersionId"):
        return [
            RequiredAction(action, (arn,), context)
            for action in ("s3:GetObjectVersion", "s3:GetObjectVersionAttributes")
        ]
    return [
        RequiredAction(action, (arn,), context)
        for action in ("s3:GetObject", "s3:GetObjectAttributes")
    ]


def _put_object_retention(request: Request) -> list[RequiredAction]:
    """PutObjectRetention: bypassing governance mode needs s3:BypassGovernanceRetention too."""
    params = request.params
    arn = object_arn(params["Bucket"], params["Key"])
    needed = [RequiredAction("s3:PutObjectRetention", (arn,), _context(params))]
    if params.get("BypassGovernanceRetention"):
        needed.append(
            RequiredAction("s3:BypassGovernanceRetention", (arn,), _context(params))
        )
    return needed


def _create_bucket(request: Request) -> list[RequiredAction]:
    """CreateBucket: an ACL other than ``private``, object lock and ownership need their actions."""
    params = request.params
    arn = bucket_arn(params["Bucket"])
    context = _context(params)
    tags = params.get("CreateBucketConfiguration", {}).get("Tags", [])
    context.update(request_tags((tag["Key"], tag.get("Value", "")) for tag in tags))
    actions = ["s3:CreateBucket"]
    if params.get("ACL", "private") != "private" or any(
        params.get(name) for name in _GRANTS[1:]
    ):
        actions.append("s3:PutBucketAcl")
    if params.get("ObjectLockEnabledForBucket"):
        actions += ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]
    if params.get("ObjectOwnership"):
        actions.append("s3:PutBucketOwnershipControls")
    return [RequiredAction(action, (arn,), context) for action in actions]


def _put_bucket_tagging(request: Request) -> list[RequiredAction]:
    """PutBucketTagging: ``aws:RequestTag/*`` and ``aws:TagKeys`` from the tag set."""
    params = request.params
    tags = params.get("Tagging", {}).get("TagSet", [])
    context = request_tags((tag["Key"], tag.get("Value", "")) for tag in tags)
    return [
        RequiredAction("s3:PutBucketTagging", (bucket_arn(params["Bucket"]),), context)
    ]


def _directory_bucket(action: str) -> Rule:
    """Directory-bucket (S3 Express) operations, authorized by ``s3express`` sessions."""

    def rule(request: Request) -> list[RequiredAction]:
        bucket = request.params["Bucket"]
        return [
            RequiredAction(
                action,
                (
                    f"arn:aws:s3express:{request.region}:{request.account_id}:bucket/{bucket}",
                ),
            )
        ]

    return rule


def _everywhere(action: str) -> Rule:
    def rule(request: Request) -> list[RequiredAction]:
        return [RequiredAction(action)]

    return rule


TABLE = ServiceTable(
    prefix="s3",
    overrides={
        **{operation: _bucket(action) for operation, action in _BUCKET_ACTIONS.items()},
        **{operation: _listing(action) for operation, action in _LISTINGS.items()},
        **{
            operation: _object(*actions)
            for operation, actions in _OBJECT_ACTIONS.items()
        },
        "PutBucketTagging": _put_bucket_tagging,
        "CreateBucket": _create_bucket,
        "PutObject": _object_write,
        "CreateMultipartUpload": _object_write,
        "CopyObject": _copy_object,
        "UploadPartCopy": _upload_part_copy,
        "PutObjectTagging": _put_object_tagging,
        "DeleteObjects": _delete_objects,
        "GetObjectAttributes": _get_object_attributes,
        "PutObjectRetention": _put_object_retention,
        "ListBuckets": _everywhere("s3:ListAllMyBuckets"),
        "ListDirectoryBuckets": _everywhere("s3express:ListAllMyDirectoryBuckets"),
        "WriteGetObjectResponse": _everywhere(
            "s3-object-lambda:WriteGetObjectResponse"
        ),
        "CreateSession": _directory_bucket("s3express:CreateSession"),
        "RenameObject": _directory_bucket("s3express:CreateSession"),
    },
)
