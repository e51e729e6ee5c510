"""S3 bucket operations against a real server, through boto3: what AWS answers, code for code.

Every test runs once per metadata backend (the session ``server`` fixture is SQLite and
PostgreSQL). Bucket names are unique per test, so tests never see each other's buckets.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of

OTHER_REGION = "eu-west-1"


# -- helpers -----------------------------------------------------------------------------


def unique_name(prefix: str = "b") -> str:
    """A bucket name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def raw_responses(client: Any) -> list[Any]:
    """Record the raw HTTP response of every call ``client`` makes (errors included)."""
    seen: list[Any] = []
    client.meta.events.register("after-call.s3", lambda http_response, **_: seen.append(http_response))
    return seen


def create_in_region(server: RunningServer, region: str) -> tuple[Any, str]:
    """A client in ``region`` and a new bucket it created there (with the matching constraint)."""
    client = server.client("s3", region=region)
    name = unique_name()
    if region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return client, name


def bucket_policy(bucket: str) -> str:
    """A valid bucket policy for ``bucket``, formatted unusually (indent 3, Id first)."""
    document = {
        "Id": "exact-text-is-kept",
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    return json.dumps(document, indent=3)


# -- CreateBucket ------------------------------------------------------------------------


def test_create_bucket_in_us_east_1_without_configuration(s3: Any) -> None:
    name = unique_name()
    response = s3.create_bucket(Bucket=name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["Location"] == f"/{name}"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "us-east-1"


def test_create_bucket_with_constraint_of_the_client_region(server: RunningServer) -> None:
    client, name = create_in_region(server, OTHER_REGION)
    assert client.get_bucket_location(Bucket=name)["LocationConstraint"] == OTHER_REGION
    head = client.head_bucket(Bucket=name)
    assert head["BucketRegion"] == OTHER_REGION
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == OTHER_REGION


def test_location_constraint_other_than_the_client_region_is_illegal(server: RunningServer) -> None:
    client = server.client("s3", region=OTHER_REGION)
    name = unique_name()
    with pytest.raises(ClientError) as excinfo:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert error_of(excinfo) == ("IllegalLocationConstraintException", 400)
    with pytest.raises(ClientError) as missing:
        client.head_bucket(Bucket=name)
    assert error_of(missing) == ("404", 404)


def test_missing_constraint_outside_us_east_1_is_illegal(server: RunningServer) -> None:
    """A regional endpoint other than us-east-1 needs the constraint (the classic boto3 error)."""
    client = server.client("s3", region=OTHER_REGION)
    with pytest.raises(ClientError) as excinfo:
        client.create_bucket(Bucket=unique_name())
    assert error_of(excinfo) == ("IllegalLocationConstraintException", 400)
    assert "unspecified location constraint" in excinfo.value.response["Error"]["Message"]


def test_us_east_1_as_location_constraint_is_invalid(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=unique_name(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_of(excinfo) == ("InvalidLocationConstraint", 400)


# ``--x-s3`` (directory buckets) is left out: boto3 sends such names to S3 Express itself.
INVALID_NAMES = {
    "too short": "ab",
    "too long": "a" * 64,
    "upper case": "Upper-case-bucket",
    "underscore": "under_score",
    "leading hyphen": "-leading",
    "trailing hyphen": "trailing-",
    "leading dot": ".leading",
    "trailing dot": "trailing.",
    "two adjacent dots": "double..dot",
    "IP address": "192.168.5.4",
    "prefix xn--": "xn--bucket",
    "prefix sthree-": "sthree-bucket",
    "prefix amzn-s3-demo-": "amzn-s3-demo-bucket",
    "suffix -s3alias": "bucket-s3alias",
    "suffix --ol-s3": "bucket--ol-s3",
    "suffix .mrap": "bucket.mrap",
    "suffix --table-s3": "bucket--table-s3",
}


@pytest.mark.parametrize("name", INVALID_NAMES.values(), ids=INVALID_NAMES.keys())
def test_invalid_bucket_names_are_refused(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=name)
    assert error_of(excinfo) == ("InvalidBucketName", 400)
    assert excinfo.value.response["Error"].get("BucketName") == name


def test_names_at_the_limits_of_the_rules_are_accepted(s3: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    names = [
        "a" * (63 - len(suffix)) + suffix,  # 63 characters
        f"a.b-{suffix}.c",  # dots and hyphens inside
        f"{suffix[:2]}9",  # 3 characters
        f"1{suffix}-123",  # digits first
    ]
    for name in names:
        s3.create_bucket(Bucket=name)
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        s3.delete_bucket(Bucket=name)


def test_creating_an_owned_bucket_again_outside_us_east_1_conflicts(server: RunningServer) -> None:
    client, name = create_in_region(server, OTHER_REGION)
    with pytest.raises(ClientError) as excinfo:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    assert error_of(excinfo) == ("BucketAlreadyOwnedByYou", 409)
    assert isinstance(excinfo.value, client.exceptions.BucketAlreadyOwnedByYou)


def test_creating_an_owned_bucket_again_in_us_east_1_succeeds(s3: Any, bucket: str) -> None:
    """AWS's legacy us-east-1 rule: a second CreateBucket of your own bucket answers 200."""
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "kept", "Value": "yes"}]})
    response = s3.create_bucket(Bucket=bucket)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The bucket is the same one, not a fresh one.
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "kept", "Value": "yes"}]


def test_creating_in_us_east_1_a_bucket_owned_in_another_region_conflicts(server: RunningServer, s3: Any) -> None:
    _, name = create_in_region(server, OTHER_REGION)
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=name)
    assert error_of(excinfo) == ("BucketAlreadyOwnedByYou", 409)


# -- HeadBucket --------------------------------------------------------------------------


def test_head_bucket_reports_the_region(s3: Any, bucket: str) -> None:
    response = s3.head_bucket(Bucket=bucket)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert response["BucketRegion"] == "us-east-1"


def test_head_of_a_missing_bucket_is_404_without_a_body(s3: Any) -> None:
    responses = raw_responses(s3)
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket=unique_name())
    assert error_of(excinfo) == ("404", 404)
    assert responses[-1].status_code == 404
    assert responses[-1].content == b""
    assert responses[-1].headers.get("x-amz-request-id")


# -- ListBuckets -------------------------------------------------------------------------


def test_list_buckets_shows_the_owner_and_new_buckets(s3: Any) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    names = sorted(unique_name() for _ in range(3))
    for name in names:
        s3.create_bucket(Bucket=name)
    response = s3.list_buckets()
    assert re.fullmatch(r"[0-9a-f]{64}", response["Owner"]["ID"])
    assert s3.list_buckets()["Owner"]["ID"] == response["Owner"]["ID"]
    listed = {b["Name"]: b for b in response["Buckets"]}
    for name in names:
        assert before <= listed[name]["CreationDate"] <= datetime.now(UTC) + timedelta(seconds=5)
        assert listed[name]["BucketRegion"] == "us-east-1"
    all_names = [b["Name"] for b in response["Buckets"]]
    assert all_names == sorted(all_names)
    assert "ContinuationToken" not in response


def test_list_buckets_pages_with_max_buckets_and_prefix(s3: Any) -> None:
    prefix = unique_name("page") + "-"
    names = sorted(f"{prefix}{i:02d}" for i in range(5))
    for name in names:
        s3.create_bucket(Bucket=name)

    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {"Prefix": prefix, "MaxBuckets": 2}
    while True:
        response = s3.list_buckets(**kwargs)
        assert response["Prefix"] == prefix
        pages.append([b["Name"] for b in response["Buckets"]])
        if "ContinuationToken" not in response:
            break
        kwargs["ContinuationToken"] = response["ContinuationToken"]
    assert pages == [names[0:2], names[2:4], names[4:5]]


def test_list_buckets_paginator(s3: Any) -> None:
    prefix = unique_name("pgn") + "-"
    names = sorted(f"{prefix}{i}" for i in range(3))
    for name in names:
        s3.create_bucket(Bucket=name)
    pages = list(s3.get_paginator("list_buckets").paginate(Prefix=prefix, PaginationConfig={"PageSize": 1}))
    assert [b["Name"] for page in pages for b in page["Buckets"]] == names
    assert len(pages) == 3


def test_list_buckets_filters_by_region(server: RunningServer, s3: Any) -> None:
    prefix = unique_name("rgn") + "-"
    s3.create_bucket(Bucket=f"{prefix}east")
    server.client("s3", region=OTHER_REGION).create_bucket(
        Bucket=f"{prefix}west", CreateBucketConfiguration={"LocationConstraint": OTHER_REGION}
    )
    response = s3.list_buckets(Prefix=prefix, BucketRegion=OTHER_REGION)
    assert [(b["Name"], b["BucketRegion"]) for b in response["Buckets"]] == [(f"{prefix}west", OTHER_REGION)]


def test_list_buckets_refuses_max_buckets_over_10000(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.list_buckets(MaxBuckets=10001)
    assert error_of(excinfo) == ("InvalidArgument", 400)


# -- DeleteBucket ------------------------------------------------------------------------


def test_delete_empty_bucket(s3: Any, bucket: str) -> None:
    response = s3.delete_bucket(Bucket=bucket)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket=bucket)
    assert error_of(excinfo) == ("404", 404)
    assert bucket not in [b["Name"] for b in s3.list_buckets(Prefix=bucket)["Buckets"]]
    with pytest.raises(ClientError) as again:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(again) == ("NoSuchBucket", 404)


def test_delete_bucket_with_an_object_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep/me.txt", Body=b"data")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(excinfo) == ("BucketNotEmpty", 409)
    assert s3.get_object(Bucket=bucket, Key="keep/me.txt")["Body"].read() == b"data"

    s3.delete_object(Bucket=bucket, Key="keep/me.txt")
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_markers_and_old_versions_keep_a_bucket_from_deletion(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(excinfo) == ("BucketNotEmpty", 409)

    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    with pytest.raises(ClientError) as still:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(still) == ("BucketNotEmpty", 409)

    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


# -- GetBucketLocation -------------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", OTHER_REGION, "ap-southeast-2"])
def test_get_bucket_location(server: RunningServer, region: str) -> None:
    client, name = create_in_region(server, region)
    expected = None if region == "us-east-1" else region
    assert client.get_bucket_location(Bucket=name)["LocationConstraint"] == expected
    # Any client may ask, whatever its own region.
    assert server.client("s3").get_bucket_location(Bucket=name)["LocationConstraint"] == expected


# -- tagging -----------------------------------------------------------------------------


def test_bucket_tagging_lifecycle(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchTagSet", 404)

    tags = [{"Key": "team", "Value": "ml"}, {"Key": "cost center", "Value": "42/a+b"}, {"Key": "empty", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert sorted(s3.get_bucket_tagging(Bucket=bucket)["TagSet"], key=lambda t: t["Key"]) == sorted(
        tags, key=lambda t: t["Key"]
    )

    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]

    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(gone) == ("NoSuchTagSet", 404)


@pytest.mark.parametrize(
    "tag_set",
    [
        [{"Key": "same", "Value": "1"}, {"Key": "same", "Value": "2"}],
        [{"Key": "aws:reserved", "Value": "x"}],
        [{"Key": "k" * 129, "Value": "x"}],
        [{"Key": "k", "Value": "v" * 257}],
        [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
    ],
    ids=["duplicate key", "aws: prefix", "key too long", "value too long", "51 tags"],
)
def test_invalid_bucket_tags_are_refused(s3: Any, bucket: str, tag_set: list[dict[str, str]]) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set})
    assert error_of(excinfo) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as untouched:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(untouched) == ("NoSuchTagSet", 404)


# -- policy ------------------------------------------------------------------------------


def test_bucket_policy_is_stored_and_returned_verbatim(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchBucketPolicy", 404)

    policy = bucket_policy(bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy

    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(gone) == ("NoSuchBucketPolicy", 404)


def _statement(bucket: str, **changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    for name, value in changes.items():
        if value is None:
            statement.pop(name)
        else:
            statement[name] = value
    return statement


MALFORMED_POLICIES = {
    "not JSON": lambda b: "{this is not json",
    "a JSON array": lambda b: json.dumps([_statement(b)]),
    "no Statement": lambda b: json.dumps({"Version": "2012-10-17"}),
    "empty Statement": lambda b: json.dumps({"Version": "2012-10-17", "Statement": []}),
    "unknown Version": lambda b: json.dumps({"Version": "2020-01-01", "Statement": [_statement(b)]}),
    "bad Effect": lambda b: json.dumps({"Statement": [_statement(b, Effect="Maybe")]}),
    "no Principal": lambda b: json.dumps({"Statement": [_statement(b, Principal=None)]}),
    "no Action": lambda b: json.dumps({"Statement": [_statement(b, Action=None)]}),
    "no Resource": lambda b: json.dumps({"Statement": [_statement(b, Resource=None)]}),
    "another bucket's resource": lambda b: json.dumps(
        {"Statement": [_statement(b, Resource="arn:aws:s3:::some-other-bucket/*")]}
    ),
}


@pytest.mark.parametrize("make_policy", MALFORMED_POLICIES.values(), ids=MALFORMED_POLICIES.keys())
def test_malformed_bucket_policies_are_refused(s3: Any, bucket: str, make_policy: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_policy(Bucket=bucket, Policy=make_policy(bucket))
    assert error_of(excinfo) == ("MalformedPolicy", 400)
    with pytest.raises(ClientError) as untouched:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(untouched) == ("NoSuchBucketPolicy", 404)


# -- versioning --------------------------------------------------------------------------


def test_versioning_status_transitions(s3: Any, bucket: str) -> None:
    initial = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in initial
    assert "MFADelete" not in initial
    for status in ("Enabled", "Suspended", "Enabled", "Suspended"):
        response = s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == status


def test_a_versioning_status_other_than_enabled_or_suspended_is_malformed(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Disabled"})
    assert error_of(excinfo) == ("MalformedXML", 400)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


# -- every bucket operation on a missing bucket ------------------------------------------

BUCKET_OPERATIONS: dict[str, tuple[str, Any]] = {
    "DeleteBucket": ("delete_bucket", lambda b: {}),
    "GetBucketLocation": ("get_bucket_location", lambda b: {}),
    "PutBucketTagging": ("put_bucket_tagging", lambda b: {"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
    "GetBucketTagging": ("get_bucket_tagging", lambda b: {}),
    "DeleteBucketTagging": ("delete_bucket_tagging", lambda b: {}),
    "PutBucketPolicy": ("put_bucket_policy", lambda b: {"Policy": bucket_policy(b)}),
    "GetBucketPolicy": ("get_bucket_policy", lambda b: {}),
    "DeleteBucketPolicy": ("delete_bucket_policy", lambda b: {}),
    "PutBucketVersioning": ("put_bucket_versioning", lambda b: {"VersioningConfiguration": {"Status": "Enabled"}}),
    "GetBucketVersioning": ("get_bucket_versioning", lambda b: {}),
}


@pytest.mark.parametrize("method, arguments", BUCKET_OPERATIONS.values(), ids=BUCKET_OPERATIONS.keys())
def test_bucket_operations_on_a_missing_bucket(s3: Any, method: str, arguments: Any) -> None:
    name = unique_name("missing")
    with pytest.raises(ClientError) as excinfo:
        getattr(s3, method)(Bucket=name, **arguments(name))
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    assert excinfo.value.response["Error"].get("BucketName") == name
    assert isinstance(excinfo.value, s3.exceptions.NoSuchBucket)
    # Nothing was created on the way.
    assert s3.list_buckets(Prefix=name)["Buckets"] == []


def test_expected_bucket_owner_must_be_this_account(server, s3, bucket) -> None:
    account = server.client("sts").get_caller_identity()["Account"]
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    assert s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=account)["KeyCount"] == 0
    other = "111111111111" if account != "111111111111" else "222222222222"
    with pytest.raises(ClientError) as listing:
        s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=other)
    assert listing.value.response["Error"]["Code"] == "AccessDenied"
    assert listing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as head:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=other)
    assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as put:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=other)
    assert put.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
