"""The S3 part of the action table, pinned to the Service Authorization Reference."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.iam.actions import required_actions

ACCOUNT = "123456789012"


def needs(operation: str, **params: Any) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (r.action, r.resources)
        for r in required_actions(
            "s3", operation, params, region="eu-west-1", account_id=ACCOUNT
        )
    ]


def context(
    operation: str, index: int = 0, **params: Any
) -> dict[str, tuple[str, ...]]:
    return dict(
        required_actions(
            "s3", operation, params, region="us-east-1", account_id=ACCOUNT
        )[index].context
    )


BUCKET = ("arn:aws:s3:::data",)
OBJECT = ("arn:aws:s3:::data/x/y.csv",)

CASES = [
    ("ListObjectsV2", {"Bucket": "data"}, [("s3:ListBucket", BUCKET)]),
    ("ListObjects", {"Bucket": "data"}, [("s3:ListBucket", BUCKET)]),
    ("HeadBucket", {"Bucket": "data"}, [("s3:ListBucket", BUCKET)]),
    ("ListObjectVersions", {"Bucket": "data"}, [("s3:ListBucketVersions", BUCKET)]),
    (
        "ListMultipartUploads",
        {"Bucket": "data"},
        [("s3:ListBucketMultipartUploads", BUCKET)],
    ),
    ("ListBuckets", {}, [("s3:ListAllMyBuckets", ("*",))]),
    ("CreateBucket", {"Bucket": "data"}, [("s3:CreateBucket", BUCKET)]),
    ("DeleteBucket", {"Bucket": "data"}, [("s3:DeleteBucket", BUCKET)]),
    ("GetBucketLocation", {"Bucket": "data"}, [("s3:GetBucketLocation", BUCKET)]),
    ("GetBucketPolicy", {"Bucket": "data"}, [("s3:GetBucketPolicy", BUCKET)]),
    (
        "PutBucketPolicy",
        {"Bucket": "data", "Policy": "{}"},
        [("s3:PutBucketPolicy", BUCKET)],
    ),
    ("DeleteBucketPolicy", {"Bucket": "data"}, [("s3:DeleteBucketPolicy", BUCKET)]),
    ("GetBucketVersioning", {"Bucket": "data"}, [("s3:GetBucketVersioning", BUCKET)]),
    ("PutBucketVersioning", {"Bucket": "data"}, [("s3:PutBucketVersioning", BUCKET)]),
    ("GetBucketTagging", {"Bucket": "data"}, [("s3:GetBucketTagging", BUCKET)]),
    (
        "PutBucketTagging",
        {"Bucket": "data", "Tagging": {"TagSet": []}},
        [("s3:PutBucketTagging", BUCKET)],
    ),
    ("DeleteBucketTagging", {"Bucket": "data"}, [("s3:PutBucketTagging", BUCKET)]),
    ("DeleteBucketCors", {"Bucket": "data"}, [("s3:PutBucketCORS", BUCKET)]),
    (
        "GetBucketEncryption",
        {"Bucket": "data"},
        [("s3:GetEncryptionConfiguration", BUCKET)],
    ),
    (
        "DeleteBucketLifecycle",
        {"Bucket": "data"},
        [("s3:PutLifecycleConfiguration", BUCKET)],
    ),
    (
        "GetPublicAccessBlock",
        {"Bucket": "data"},
        [("s3:GetBucketPublicAccessBlock", BUCKET)],
    ),
    (
        "GetObjectLockConfiguration",
        {"Bucket": "data"},
        [("s3:GetBucketObjectLockConfiguration", BUCKET)],
    ),
    ("GetObject", {"Bucket": "data", "Key": "x/y.csv"}, [("s3:GetObject", OBJECT)]),
    (
        "GetObject",
        {"Bucket": "data", "Key": "x/y.csv", "VersionId": "v1"},
        [("s3:GetObjectVersion", OBJECT)],
    ),
    ("HeadObject", {"Bucket": "data", "Key": "x/y.csv"}, [("s3:GetObject", OBJECT)]),
    (
        "HeadObject",
        {"Bucket": "data", "Key": "x/y.csv", "VersionId": "v1"},
        [("s3:GetObjectVersion", OBJECT)],
    ),
    (
        "DeleteObject",
        {"Bucket": "data", "Key": "x/y.csv"},
        [("s3:DeleteObject", OBJECT)],
    ),
    (
        "DeleteObject",
        {"Bucket": "data", "Key": "x/y.csv", "VersionId": "v1"},
        [("s3:DeleteObjectVersion", OBJECT)],
    ),
    ("PutObject", {"Bucket": "data", "Key": "x/y.csv"}, [("s3:PutObject", OBJECT)]),
    (
        "PutObject",
        {"Bucket": "data", "Key": "x/y.csv", "Tagging": "team=ml&stage=raw"},
        [("s3:PutObject", OBJECT), ("s3:PutObjectTagging", OBJECT)],
    ),
    (
        "PutObject",
        {"Bucket": "data", "Key": "x/y.csv", "ACL": "public-read"},
        [("s3:PutObject", OBJECT), ("s3:PutObjectAcl", OBJECT)],
    ),
    (
        "CreateMultipartUpload",
        {"Bucket": "data", "Key": "x/y.csv"},
        [("s3:PutObject", OBJECT)],
    ),
    (
        "UploadPart",
        {"Bucket": "data", "Key": "x/y.csv", "UploadId": "u", "PartNumber": 1},
        [("s3:PutObject", OBJECT)],
    ),
    (
        "CompleteMultipartUpload",
        {"Bucket": "data", "Key": "x/y.csv", "UploadId": "u"},
        [("s3:PutObject", OBJECT)],
    ),
    (
        "AbortMultipartUpload",
        {"Bucket": "data", "Key": "x/y.csv", "UploadId": "u"},
        [("s3:AbortMultipartUpload", OBJECT)],
    ),
    (
        "ListParts",
        {"Bucket": "data", "Key": "x/y.csv", "UploadId": "u"},
        [("s3:ListMultipartUploadParts", OBJECT)],
    ),
    (
        "CopyObject",
        {"Bucket": "data", "Key": "x/y.csv", "CopySource": "src/a%20b.csv"},
        [("s3:GetObject", ("arn:aws:s3:::src/a b.csv",)), ("s3:PutObject", OBJECT)],
    ),
    (
        "CopyObject",
        {"Bucket": "data", "Key": "x/y.csv", "CopySource": "/src/a.csv?versionId=v7"},
        [
            ("s3:GetObjectVersion", ("arn:aws:s3:::src/a.csv",)),
            ("s3:PutObject", OBJECT),
        ],
    ),
    (
        "CopyObject",
        {
            "Bucket": "data",
            "Key": "x/y.csv",
            "CopySource": "src/a.csv",
            "Tagging": "k=v",
            "TaggingDirective": "REPLACE",
        },
        [
            ("s3:GetObject", ("arn:aws:s3:::src/a.csv",)),
            ("s3:PutObject", OBJECT),
            ("s3:PutObjectTagging", OBJECT),
        ],
    ),
    (
        "UploadPartCopy",
        {
            "Bucket": "data",
            "Key": "x/y.csv",
            "CopySource": "src/a.csv",
            "UploadId": "u",
            "PartNumber": 1,
        },
        [("s3:GetObject", ("arn:aws:s3:::src/a.csv",)), ("s3:PutObject", OBJECT)],
    ),
    (
        "DeleteObjects",
        {
            "Bucket": "data",
            "Delete": {
                "Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c", "VersionId": "v2"}]
            },
        },
        [
            ("s3:DeleteObject", ("arn:aws:s3:::data/a", "arn:aws:s3:::data/b")),
            ("s3:DeleteObjectVersion", ("arn:aws:s3:::data/c",)),
        ],
    ),
    (
        "GetObjectTagging",
        {"Bucket": "data", "Key": "x/y.csv"},
        [("s3:GetObjectTagging", OBJECT)],
    ),
    (
        "GetObjectTagging",
        {"Bucket": "data", "Key": "x/y.csv", "VersionId": "v"},
        [("s3:GetObjectVersionTagging", OBJECT)],
    ),
    (
        "PutObjectTagging",
        {"Bucket": "data", "Key": "x/y.csv", "Tagging": {"TagSet": []}},
        [("s3:PutObjectTagging", OBJECT)],
    ),
    (
        "DeleteObjectTagging",
        {"Bucket": "data", "Key": "x/y.csv"},
        [("s3:DeleteObjectTagging", OBJECT)],
    ),
    (
        "GetObjectAcl",
        {"Bucket": "data", "Key": "x/y.csv", "VersionId": "v"},
        [("s3:GetObjectVersionAcl", OBJECT)],
    ),
    (
        "GetObjectAttributes",
        {"Bucket": "data", "Key": "x/y.csv", "ObjectAttributes": ["ETag"]},
        [("s3:GetObject", OBJECT), ("s3:GetObjectAttributes", OBJECT)],
    ),
    (
        "SelectObjectContent",
        {"Bucket": "data", "Key": "x/y.csv"},
        [("s3:GetObject", OBJECT)],
    ),
    (
        "CreateBucket",
        {"Bucket": "data", "ACL": "public-read", "ObjectLockEnabledForBucket": True},
        [
            ("s3:CreateBucket", BUCKET),
            ("s3:PutBucketAcl", BUCKET),
            ("s3:PutBucketObjectLockConfiguration", BUCKET),
            ("s3:PutBucketVersioning", BUCKET),
        ],
    ),
    (
        "CreateBucket",
        {"Bucket": "data", "ACL": "private"},
        [("s3:CreateBucket", BUCKET)],
    ),
    (
        "PutObjectRetention",
        {"Bucket": "data", "Key": "x/y.csv", "BypassGovernanceRetention": True},
        [("s3:PutObjectRetention", OBJECT), ("s3:BypassGovernanceRetention", OBJECT)],
    ),
]


@pytest.mark.parametrize(
    ("operation", "params", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_s3_entries(
    operation: str, params: dict[str, Any], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert needs(operation, **params) == expected


def test_listing_condition_keys() -> None:
    found = context(
        "ListObjectsV2", Bucket="data", Prefix="home/ana/", Delimiter="/", MaxKeys=100
    )
    assert found == {
        "s3:prefix": ("home/ana/",),
        "s3:delimiter": ("/",),
        "s3:max-keys": ("100",),
    }
    assert context("ListObjectVersions", Bucket="data", Prefix="p") == {
        "s3:prefix": ("p",)
    }
    assert context("ListObjects", Bucket="data") == {}


def test_put_object_condition_keys() -> None:
    found = context(
        "PutObject",
        Bucket="d",
        Key="k",
        ACL="bucket-owner-full-control",
        ServerSideEncryption="aws:kms",
    )
    assert found["s3:x-amz-acl"] == ("bucket-owner-full-control",)
    assert found["s3:x-amz-server-side-encryption"] == ("aws:kms",)


def test_object_tags_in_query_string_form() -> None:
    found = context(
        "PutObject", 1, Bucket="d", Key="k", Tagging="team=ml&stage=raw%20data"
    )
    assert found["aws:RequestTag/team"] == ("ml",)
    assert found["aws:RequestTag/stage"] == ("raw data",)
    assert found["aws:TagKeys"] == ("team", "stage")
    assert found["s3:RequestObjectTag/team"] == ("ml",)


def test_version_id_condition_key() -> None:
    assert context("GetObject", Bucket="d", Key="k", VersionId="v3")[
        "s3:VersionId"
    ] == ("v3",)
    copy = required_actions(
        "s3",
        "CopyObject",
        {"Bucket": "d", "Key": "k", "CopySource": "s/k?versionId=v9"},
        region="r",
        account_id=ACCOUNT,
    )
    assert copy[0].context == {"s3:VersionId": ("v9",)}
    assert copy[1].context["s3:x-amz-copy-source"] == ("s/k?versionId=v9",)


def test_bucket_tagging_condition_keys() -> None:
    tags = {"TagSet": [{"Key": "team", "Value": "ml"}]}
    assert context("PutBucketTagging", Bucket="d", Tagging=tags) == {
        "aws:RequestTag/team": ("ml",),
        "aws:TagKeys": ("team",),
    }
