"""The audit trail of a real server, read back through CloudTrail's LookupEvents and the CLI.

Every request, allowed or refused, is recorded once; secrets never reach the trail; if the
trail cannot be written the request fails with ServiceUnavailable.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from shipyard.audit import HIDDEN
from shipyard.testing import RunningServer, start_server
from shipyard.testing.errors import error_of

# -- helpers -----------------------------------------------------------------------------


def request_id(call: Callable[[], Any]) -> tuple[str, str | None]:
    """Make a call; its request id and error code (None when it succeeded)."""
    try:
        response = call()
    except ClientError as error:
        return _header_id(error.response), error.response["Error"]["Code"]
    return _header_id(response), None


def _header_id(response: dict[str, Any]) -> str:
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]


def trail(
    server: RunningServer, since: datetime, **request: Any
) -> list[dict[str, Any]]:
    """Every LookupEvents entry since ``since`` (newest first), ``CloudTrailEvent`` parsed."""
    paginator = server.client("cloudtrail").get_paginator("lookup_events")
    entries = []
    for page in paginator.paginate(StartTime=since, **request):
        for entry in page["Events"]:
            entries.append(
                {**entry, "CloudTrailEvent": json.loads(entry["CloudTrailEvent"])}
            )
    return entries


def by_request(
    entries: list[dict[str, Any]], ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The entries recorded for each of ``ids``."""
    found: dict[str, list[dict[str, Any]]] = {rid: [] for rid in ids}
    for entry in entries:
        rid = entry["CloudTrailEvent"]["requestID"]
        if rid in found:
            found[rid].append(entry)
    return found


def started() -> datetime:
    """A lookup start that includes everything from now on (LookupEvents times are whole seconds)."""
    return datetime.now(UTC) - timedelta(seconds=1)


def client_with(
    server: RunningServer, service: str, access_key: str, secret_key: str
) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


# -- what is recorded --------------------------------------------------------------------


def test_every_call_is_recorded_once_with_its_outcome(server: RunningServer) -> None:
    since = started()
    s3 = server.client("s3")
    access_key, secret_key = server.credentials
    bucket = f"audit-{uuid.uuid4().hex[:12]}"
    calls = {
        "created": request_id(lambda: s3.create_bucket(Bucket=bucket)),
        "put": request_id(
            lambda: s3.put_object(Bucket=bucket, Key="k.csv", Body=b"secret body bytes")
        ),
        "missing": request_id(
            lambda: s3.get_object(Bucket=f"{bucket}-missing", Key="k")
        ),
        "bad_signature": request_id(
            lambda: client_with(server, "s3", access_key, "x" * 40).list_buckets()
        ),
        "unknown_key": request_id(
            lambda: client_with(
                server, "s3", "AKIAUNKNOWNUNKNOWN00", secret_key
            ).head_bucket(Bucket=bucket)
        ),
    }
    assert [code for _, code in calls.values()] == [
        None,
        None,
        "NoSuchBucket",
        "SignatureDoesNotMatch",
        "403",  # HEAD errors have no body: boto3 reports the status
    ]
    found = by_request(trail(server, since), [rid for rid, _ in calls.values()])
    assert {rid: len(entries) for rid, entries in found.items()} == {
        rid: 1 for rid, _ in calls.values()
    }
    entry = {name: found[rid][0] for name, (rid, _) in calls.items()}

    created = entry["created"]
    assert (created["EventName"], created["EventSource"], created["ReadOnly"]) == (
        "CreateBucket",
        "s3.amazonaws.com",
        "false",
    )
    assert (created["Username"], created["AccessKeyId"]) == ("root", access_key)
    record = created["CloudTrailEvent"]
    assert record["userIdentity"]["type"] == "Root"
    assert record["userIdentity"]["arn"].endswith(":root")
    assert record["userIdentity"]["accessKeyId"] == access_key
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert record["userAgent"].startswith("Boto3/")
    assert record["awsRegion"] == server.region
    assert record["requestParameters"]["Bucket"] == bucket
    assert (
        record["eventType"] == "AwsApiCall" and record["eventID"] == created["EventId"]
    )
    assert "errorCode" not in record

    put = entry["put"]["CloudTrailEvent"]
    assert (
        put["eventName"] == "PutObject" and put["requestParameters"]["Key"] == "k.csv"
    )
    assert "Body" not in put["requestParameters"] and "secret body" not in json.dumps(
        put
    )

    missing = entry["missing"]
    assert (missing["EventName"], missing["ReadOnly"]) == ("GetObject", "true")
    assert missing["CloudTrailEvent"]["errorCode"] == "NoSuchBucket"
    assert (
        missing["CloudTrailEvent"]["errorMessage"]
        == "The specified bucket does not exist"
    )

    bad = entry["bad_signature"]
    assert bad["EventName"] == "ListBuckets" and bad["AccessKeyId"] == access_key
    assert bad["CloudTrailEvent"]["errorCode"] == "SignatureDoesNotMatch"
    # An unproven signature names no principal: only the key it claimed.
    assert "Username" not in bad and bad["CloudTrailEvent"]["userIdentity"] == {
        "type": "Unknown",
        "accessKeyId": access_key,
    }

    unknown = entry["unknown_key"]
    assert (unknown["EventName"], unknown["AccessKeyId"]) == (
        "HeadBucket",
        "AKIAUNKNOWNUNKNOWN00",
    )
    assert unknown["CloudTrailEvent"]["errorCode"] == "InvalidAccessKeyId"


def test_lookups_are_audited_too(sqlite_server: RunningServer) -> None:
    since = started()
    rid, _ = request_id(
        lambda: sqlite_server.client("cloudtrail").lookup_events(MaxResults=1)
    )
    [entry] = by_request(trail(sqlite_server, since), [rid])[rid]
    assert (entry["EventName"], entry["EventSource"], entry["ReadOnly"]) == (
        "LookupEvents",
        "cloudtrail.amazonaws.com",
        "true",
    )
    assert entry["CloudTrailEvent"]["requestParameters"] == {"MaxResults": 1}


def test_secrets_are_hidden(server: RunningServer, bucket: str) -> None:
    since = started()
    s3 = server.client("s3")
    key = "0123456789abcdef0123456789abcdef"
    rid, _ = request_id(
        lambda: s3.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"x",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=key,
        )
    )
    [entry] = by_request(trail(server, since), [rid])[rid]
    parameters = entry["CloudTrailEvent"]["requestParameters"]
    assert parameters["SSECustomerKey"] == HIDDEN
    assert key not in json.dumps(entry, default=str)


def test_resources_are_recorded_and_looked_up_by_name_and_type(
    server: RunningServer, bucket: str
) -> None:
    since = started()
    s3 = server.client("s3")
    put, _ = request_id(lambda: s3.put_object(Bucket=bucket, Key="a/b.csv", Body=b"1"))
    listed, _ = request_id(lambda: s3.list_objects_v2(Bucket=bucket))
    by_name = trail(
        server,
        since,
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": bucket}],
    )
    assert listed in {e["CloudTrailEvent"]["requestID"] for e in by_name}
    object_arn = f"arn:aws:s3:::{bucket}/a/b.csv"
    by_arn = trail(
        server,
        since,
        LookupAttributes=[
            {"AttributeKey": "ResourceName", "AttributeValue": object_arn}
        ],
    )
    assert [e["CloudTrailEvent"]["requestID"] for e in by_arn] == [put]
    [entry] = by_request(by_name, [listed])[listed]
    assert entry["Resources"] == [
        {"ResourceType": "AWS::S3::Bucket", "ResourceName": bucket}
    ]
    assert entry["CloudTrailEvent"]["resources"][0]["ARN"] == f"arn:aws:s3:::{bucket}"
    objects = trail(
        server,
        since,
        LookupAttributes=[
            {"AttributeKey": "ResourceType", "AttributeValue": "AWS::S3::Object"}
        ],
    )
    assert put in {e["CloudTrailEvent"]["requestID"] for e in objects}
    assert listed not in {e["CloudTrailEvent"]["requestID"] for e in objects}


def test_iam_calls_keep_no_secret_and_name_the_user(server: RunningServer) -> None:
    since = started()
    iam = server.client("iam")
    name = f"audit-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    created = iam.create_access_key(UserName=name)["AccessKey"]
    key_id, secret = created["AccessKeyId"], created["SecretAccessKey"]
    user_s3 = client_with(server, "s3", key_id, secret)
    denied, code = request_id(user_s3.list_buckets)
    assert code == "AccessDenied"
    entries = trail(server, since)
    assert secret not in json.dumps(entries, default=str)
    [create_key] = [e for e in entries if e["EventName"] == "CreateAccessKey"]
    assert create_key["CloudTrailEvent"]["requestParameters"] == {"UserName": name}
    assert create_key["CloudTrailEvent"]["responseElements"] is None
    [entry] = by_request(entries, [denied])[denied]
    assert (entry["Username"], entry["AccessKeyId"]) == (name, key_id)
    identity = entry["CloudTrailEvent"]["userIdentity"]
    assert (identity["type"], identity["userName"]) == ("IAMUser", name)
    assert identity["arn"].endswith(f":user/{name}") and identity[
        "principalId"
    ].startswith("AIDA")
    assert entry["CloudTrailEvent"]["errorCode"] == "AccessDenied"
    assert (
        "because no identity-based policy allows"
        in entry["CloudTrailEvent"]["errorMessage"]
    )


# -- LookupEvents ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "matches"),
    [
        ("EventName", "HeadBucket", {"head"}),
        ("Username", "root", {"head", "tagged"}),
        ("AccessKeyId", "AKIAUNKNOWNLOOKUP000", {"stranger"}),
        ("EventSource", "s3.amazonaws.com", {"head", "tagged", "stranger"}),
        ("ReadOnly", "false", {"tagged"}),
    ],
)
def test_lookup_attributes(
    server: RunningServer, bucket: str, key: str, value: str, matches: set[str]
) -> None:
    since = started()
    s3 = server.client("s3")
    _, secret = server.credentials
    ids = {
        "head": request_id(lambda: s3.head_bucket(Bucket=bucket))[0],
        "tagged": request_id(
            lambda: s3.put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
            )
        )[0],
        "stranger": request_id(
            lambda: client_with(
                server, "s3", "AKIAUNKNOWNLOOKUP000", secret
            ).list_buckets()
        )[0],
    }
    entries = trail(
        server, since, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}]
    )
    found = {name for name, rid in ids.items() if by_request(entries, [rid])[rid]}
    assert found == matches
    if key in ("EventName", "Username", "AccessKeyId"):
        assert all(entry.get(key) == value for entry in entries)


def test_lookup_by_event_id(sqlite_server: RunningServer, s3_root: Any) -> None:
    since = started()
    rid, _ = request_id(s3_root.list_buckets)
    [entry] = by_request(trail(sqlite_server, since), [rid])[rid]
    client = sqlite_server.client("cloudtrail")
    answer = client.lookup_events(
        LookupAttributes=[
            {"AttributeKey": "EventId", "AttributeValue": entry["EventId"]}
        ]
    )
    assert [e["EventId"] for e in answer["Events"]] == [entry["EventId"]]


def test_pages_are_newest_first_and_complete(
    server: RunningServer, bucket: str
) -> None:
    since = started()
    s3 = server.client("s3")
    ids = [request_id(lambda: s3.head_bucket(Bucket=bucket))[0] for _ in range(7)]
    pages = list(
        server.client("cloudtrail")
        .get_paginator("lookup_events")
        .paginate(
            StartTime=since,
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "HeadBucket"}
            ],
            PaginationConfig={"PageSize": 2},
        )
    )
    assert all(len(page["Events"]) <= 2 for page in pages) and len(pages) >= 4
    events = [event for page in pages for event in page["Events"]]
    seen = [json.loads(e["CloudTrailEvent"])["requestID"] for e in events]
    assert sorted(rid for rid in seen if rid in ids) == sorted(ids) and len(
        set(seen)
    ) == len(seen)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    assert [rid for rid in seen if rid in ids] == list(reversed(ids))


def test_time_range(server: RunningServer, bucket: str) -> None:
    since = started()
    rid, _ = request_id(lambda: server.client("s3").head_bucket(Bucket=bucket))
    cloudtrail = server.client("cloudtrail")
    inside = trail(server, since, EndTime=datetime.now(UTC) + timedelta(seconds=2))
    assert by_request(inside, [rid])[rid]
    before = cloudtrail.lookup_events(
        StartTime=since - timedelta(days=1), EndTime=since - timedelta(hours=1)
    )
    assert rid not in {
        json.loads(e["CloudTrailEvent"])["requestID"] for e in before["Events"]
    }
    later = cloudtrail.lookup_events(StartTime=datetime.now(UTC) + timedelta(hours=1))
    assert later["Events"] == []


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (
            {
                "StartTime": datetime(2025, 1, 2, tzinfo=UTC),
                "EndTime": datetime(2025, 1, 1, tzinfo=UTC),
            },
            "InvalidTimeRangeException",
        ),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "Username", "AttributeValue": "root"},
                    {"AttributeKey": "EventName", "AttributeValue": "ListBuckets"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "Color", "AttributeValue": "red"}]},
            "InvalidLookupAttributesException",
        ),
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}
                ]
            },
            "InvalidLookupAttributesException",
        ),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        ({"EventCategory": "data"}, "InvalidEventCategoryException"),
    ],
)
def test_lookup_errors(
    sqlite_server: RunningServer, request_: dict[str, Any], code: str
) -> None:
    cloudtrail = sqlite_server.client("cloudtrail")
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(**request_)
    assert error_of(raised) == (code, 400)
    assert (
        raised.value.__class__.__name__ == code
    )  # boto3 maps it to client.exceptions.<code>


def test_a_token_works_only_with_the_request_that_made_it(
    sqlite_server: RunningServer, s3_root: Any
) -> None:
    for _ in range(3):
        s3_root.list_buckets()
    cloudtrail = sqlite_server.client("cloudtrail")
    first = cloudtrail.lookup_events(MaxResults=1)
    second = cloudtrail.lookup_events(MaxResults=1, NextToken=first["NextToken"])
    assert second["Events"][0]["EventId"] != first["Events"][0]["EventId"]
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(
            MaxResults=1,
            NextToken=first["NextToken"],
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "ListBuckets"}
            ],
        )
    assert error_of(raised) == ("InvalidNextTokenException", 400)


def test_insight_events_are_none(sqlite_server: RunningServer) -> None:
    assert (
        sqlite_server.client("cloudtrail").lookup_events(EventCategory="insight")[
            "Events"
        ]
        == []
    )


# -- the CLI -----------------------------------------------------------------------------


def shipyard_audit(
    server: RunningServer, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "audit", *args],
        env=server.client_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_json_and_filters(sqlite_server: RunningServer) -> None:
    bucket = f"audit-cli-{uuid.uuid4().hex[:8]}"
    s3 = sqlite_server.client("s3")
    created, _ = request_id(lambda: s3.create_bucket(Bucket=bucket))
    missing, _ = request_id(lambda: s3.head_bucket(Bucket=f"{bucket}-missing"))
    result = shipyard_audit(
        sqlite_server,
        "--json",
        "--since",
        "5m",
        "--source",
        "s3",
        "--user",
        "root",
        "--limit",
        "500",
    )
    assert result.returncode == 0, result.stderr
    records = {record["requestID"]: record for record in json.loads(result.stdout)}
    assert records[created]["eventName"] == "CreateBucket"
    assert records[created]["requestParameters"]["Bucket"] == bucket
    assert records[missing]["errorCode"] == "NoSuchBucket"
    assert {record["eventSource"] for record in records.values()} == {
        "s3.amazonaws.com"
    }

    result = shipyard_audit(
        sqlite_server, "--json", "--event", "CreateBucket", "--limit", "1"
    )
    assert [record["requestID"] for record in json.loads(result.stdout)] == [created]


def test_cli_table(sqlite_server: RunningServer) -> None:
    sqlite_server.client("s3").list_buckets()
    result = shipyard_audit(sqlite_server, "--event", "ListBuckets", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert "ListBuckets" in result.stdout and "root" in result.stdout


def test_cli_reports_a_bad_time(sqlite_server: RunningServer) -> None:
    result = shipyard_audit(sqlite_server, "--since", "yesterday-ish")
    assert result.returncode == 2 and "duration like 15m" in result.stderr


# -- when the trail cannot be written -----------------------------------------------------


def test_a_request_fails_with_service_unavailable_when_the_trail_cannot_be_written(
    tmp_path: Path,
) -> None:
    with start_server(tmp_path) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="kept")
        with sqlite3.connect(server.data_dir / "shipyard.db") as db:
            db.execute("DROP TABLE audit_resources")
            db.execute("DROP TABLE audit_events")
        with pytest.raises(ClientError) as raised:
            s3.list_buckets()
        assert error_of(raised) == ("ServiceUnavailable", 503)
        with pytest.raises(ClientError) as raised:
            s3.get_object(Bucket="kept", Key="missing")
        assert error_of(raised) == ("ServiceUnavailable", 503)


@pytest.fixture
def s3_root(sqlite_server: RunningServer) -> Any:
    return sqlite_server.client("s3")
