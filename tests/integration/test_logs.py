"""CloudWatch Logs through boto3: groups, streams, events, tokens, filters, tags, paginators."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of

DAY_MS = 86_400_000


@pytest.fixture
def logs(server: RunningServer) -> Any:
    return server.client("logs")


@pytest.fixture
def account_id(server: RunningServer) -> str:
    return server.client("sts").get_caller_identity()["Account"]


@pytest.fixture
def group(logs: Any) -> str:
    """A fresh, empty log group."""
    name = f"/test/{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    return name


def now_ms() -> int:
    return int(time.time() * 1000)


def put(logs: Any, group: str, stream: str, messages: list[str], start: int | None = None) -> int:
    """Append ``messages`` one millisecond apart; the first one's timestamp."""
    first = now_ms() - len(messages) if start is None else start
    events = [{"timestamp": first + i, "message": message} for i, message in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return first


def refused(call: Any, **params: Any) -> tuple[tuple[str, int], str]:
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    return error_of(excinfo), excinfo.value.response["Error"]["Message"]


# -- groups ------------------------------------------------------------------------------


def test_log_group_lifecycle(logs: Any, account_id: str) -> None:
    name = f"/test/{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name, tags={"team": "ml"})
    assert refused(logs.create_log_group, logGroupName=name) == (
        ("ResourceAlreadyExistsException", 400),
        "The specified log group already exists",
    )
    [described] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    arn = f"arn:aws:logs:us-east-1:{account_id}:log-group:{name}"
    assert described["arn"] == f"{arn}:*" and described["logGroupArn"] == arn
    assert described["storedBytes"] == 0 and "retentionInDays" not in described
    assert abs(described["creationTime"] - now_ms()) < 60_000
    logs.put_retention_policy(logGroupName=name, retentionInDays=7)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["retentionInDays"] == 7
    logs.delete_retention_policy(logGroupName=name)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    missing = (("ResourceNotFoundException", 400), "The specified log group does not exist.")
    assert refused(logs.delete_log_group, logGroupName=name) == missing
    assert refused(logs.put_retention_policy, logGroupName=name, retentionInDays=1) == missing
    assert refused(logs.create_log_stream, logGroupName=name, logStreamName="s") == missing


def test_retention_takes_only_aws_values(logs: Any, group: str) -> None:
    (code, message) = refused(logs.put_retention_policy, logGroupName=group, retentionInDays=2)
    assert code == ("InvalidParameterException", 400) and "enum value set" in message


def test_describe_log_groups_pages_and_matches(logs: Any) -> None:
    base = f"/page/{uuid.uuid4().hex[:8]}"
    names = [f"{base}/g{i:02d}" for i in range(7)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    first = logs.describe_log_groups(logGroupNamePrefix=base, limit=3)
    assert [g["logGroupName"] for g in first["logGroups"]] == names[:3] and "nextToken" in first
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=base, PaginationConfig={"PageSize": 2}
    )
    assert [g["logGroupName"] for page in pages for g in page["logGroups"]] == names
    found = logs.describe_log_groups(logGroupNamePattern=base.split("/")[-1].upper() + "/G03")["logGroups"]
    assert [g["logGroupName"] for g in found] == [names[3]]
    assert refused(logs.describe_log_groups, logGroupNamePrefix=base, logGroupNamePattern="x")[0] == (
        "InvalidParameterException",
        400,
    )
    assert refused(logs.describe_log_groups, limit=51)[0] == ("InvalidParameterException", 400)
    assert refused(logs.describe_log_groups, nextToken="garbage")[0] == ("InvalidParameterException", 400)


def test_invalid_group_name_is_an_invalid_parameter(logs: Any) -> None:
    (code, message) = refused(logs.create_log_group, logGroupName="bad name!")
    assert code == ("InvalidParameterException", 400) and message.startswith("1 validation error detected")


# -- streams -----------------------------------------------------------------------------


def test_log_stream_lifecycle(logs: Any, group: str, account_id: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="job/algo-1")
    assert refused(logs.create_log_stream, logGroupName=group, logStreamName="job/algo-1") == (
        ("ResourceAlreadyExistsException", 400),
        "The specified log stream already exists",
    )
    [stream] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert stream["logStreamName"] == "job/algo-1" and stream["storedBytes"] == 0
    assert stream["arn"] == f"arn:aws:logs:us-east-1:{account_id}:log-group:{group}:log-stream:job/algo-1"
    assert "lastEventTimestamp" not in stream
    first = put(logs, group, "job/algo-1", ["a", "b"])
    [stream] = logs.describe_log_streams(logGroupIdentifier=group)["logStreams"]
    assert (stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (first, first + 1)
    assert stream["lastIngestionTime"] >= first
    logs.delete_log_stream(logGroupName=group, logStreamName="job/algo-1")
    assert refused(logs.delete_log_stream, logGroupName=group, logStreamName="job/algo-1") == (
        ("ResourceNotFoundException", 400),
        "The specified log stream does not exist.",
    )


def test_describe_log_streams_orders_and_pages(logs: Any, group: str) -> None:
    base = now_ms() - 1000
    for i, name in enumerate(["c", "a", "b"]):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        put(logs, group, name, ["x"], start=base + i)
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a", "b", "c"]
    newest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in newest] == ["b", "a", "c"]
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, orderBy="LastEventTime", PaginationConfig={"PageSize": 1}
    )
    assert [s["logStreamName"] for page in pages for s in page["logStreams"]] == ["c", "a", "b"]
    assert [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")["logStreams"]
    ] == ["b"]
    assert refused(logs.describe_log_streams, logGroupName=group, logStreamNamePrefix="a", orderBy="LastEventTime")[
        0
    ] == ("InvalidParameterException", 400)
    assert refused(logs.describe_log_streams, logGroupName=f"{group}-missing")[0] == (
        "ResourceNotFoundException",
        400,
    )
    assert refused(logs.describe_log_streams, logGroupName=group, logGroupIdentifier=group)[0] == (
        "InvalidParameterException",
        400,
    )


# -- PutLogEvents ------------------------------------------------------------------------


def test_put_log_events_rules(logs: Any, group: str) -> None:
    missing = refused(
        logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=[{"timestamp": 1, "message": "m"}]
    )
    assert missing == (("ResourceNotFoundException", 400), "The specified log stream does not exist.")
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    out_of_order = [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]
    assert refused(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=out_of_order) == (
        ("InvalidParameterException", 400),
        "Log events in a single PutLogEvents request must be in chronological order.",
    )
    too_big = [{"timestamp": now, "message": "x" * 300_000} for _ in range(4)]
    (code, message) = refused(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=too_big)
    assert code == ("InvalidParameterException", 400) and message.startswith("Upload too large")
    answer = logs.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": "m"}], sequenceToken="any"
    )
    assert "nextSequenceToken" in answer and "rejectedLogEventsInfo" not in answer


def test_put_log_events_sets_aside_too_old_expired_and_too_new(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = now_ms()
    events = [
        {"timestamp": now - 15 * DAY_MS, "message": "too old"},
        {"timestamp": now - 3 * DAY_MS, "message": "expired"},
        {"timestamp": now - 1000, "message": "kept"},
        {"timestamp": now + 3 * 3_600_000, "message": "too new"},
    ]
    answer = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    assert answer["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1,
        "expiredLogEventEndIndex": 2,
        "tooNewLogEventStartIndex": 3,
    }
    got = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)["events"]
    assert [event["message"] for event in got] == ["kept"]


# -- GetLogEvents ------------------------------------------------------------------------


def test_get_log_events_tokens_forward(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", [f"m{i}" for i in range(5)])
    page = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=2)
    seen = [event["message"] for event in page["events"]]
    token = page["nextForwardToken"]
    assert token.startswith("f/") and page["nextBackwardToken"].startswith("b/")
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token, limit=2)
        seen += [event["message"] for event in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [f"m{i}" for i in range(5)]
    assert page["events"] == []
    put(logs, group, "s", ["late"], start=now_ms())
    followed = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token)
    assert [event["message"] for event in followed["events"]] == ["late"]


def test_get_log_events_tokens_backward(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", [f"m{i}" for i in range(5)])
    page = logs.get_log_events(logGroupName=group, logStreamName="s", limit=2)
    assert [event["message"] for event in page["events"]] == ["m3", "m4"]
    token = page["nextBackwardToken"]
    assert token.startswith("b/")
    page = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token, limit=2)
    assert [event["message"] for event in page["events"]] == ["m1", "m2"]
    page = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=page["nextBackwardToken"], limit=2)
    assert [event["message"] for event in page["events"]] == ["m0"]
    end = page["nextBackwardToken"]
    page = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=end, limit=2)
    assert page["events"] == [] and page["nextBackwardToken"] == end
    page = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=page["nextForwardToken"], limit=2)
    assert [event["message"] for event in page["events"]] == ["m0", "m1"]


def test_get_log_events_time_range_and_errors(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    first = put(logs, group, "s", ["a", "b", "c", "d"])
    ranged = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=first + 1, endTime=first + 3)
    assert [event["message"] for event in ranged["events"]] == ["b", "c"]
    assert set(ranged["events"][0]) == {"timestamp", "message", "ingestionTime"}
    empty = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=first + 100)
    again = logs.get_log_events(
        logGroupName=group, logStreamName="s", startTime=first + 100, nextToken=empty["nextForwardToken"]
    )
    assert again["nextForwardToken"] == empty["nextForwardToken"]
    assert refused(logs.get_log_events, logGroupName=group, logStreamName="nope") == (
        ("ResourceNotFoundException", 400),
        "The specified log stream does not exist.",
    )
    assert refused(logs.get_log_events, logGroupName=group, logStreamName="s", nextToken="x/1")[0] == (
        "InvalidParameterException",
        400,
    )
    assert refused(logs.get_log_events, logGroupName=group, logStreamName="s", limit=10_001)[0] == (
        "InvalidParameterException",
        400,
    )


# -- FilterLogEvents ---------------------------------------------------------------------


def test_filter_log_events_interleaves_and_matches(logs: Any, group: str) -> None:
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    base = now_ms() - 100
    put(logs, group, "a", ["ERROR disk full", "INFO ok"], start=base)
    put(logs, group, "b", ["WARN low memory", "ERROR retrying"], start=base + 10)

    def messages(**params: Any) -> list[str]:
        return [event["message"] for event in logs.filter_log_events(logGroupName=group, **params)["events"]]

    assert messages() == ["ERROR disk full", "INFO ok", "WARN low memory", "ERROR retrying"]
    assert messages(filterPattern="ERROR") == ["ERROR disk full", "ERROR retrying"]
    assert messages(filterPattern="error") == []
    assert messages(filterPattern='"disk full"') == ["ERROR disk full"]
    assert messages(filterPattern="?WARN ?INFO") == ["INFO ok", "WARN low memory"]
    assert messages(filterPattern="ERROR -retrying") == ["ERROR disk full"]
    assert messages(logStreamNames=["b"]) == ["WARN low memory", "ERROR retrying"]
    assert messages(logStreamNamePrefix="a", startTime=base + 1) == ["INFO ok"]
    assert messages(startTime=base, endTime=base + 10) == ["ERROR disk full", "INFO ok", "WARN low memory"]
    answer = logs.filter_log_events(logGroupIdentifier=group, limit=1)
    assert answer["events"][0]["logStreamName"] == "a" and "nextToken" in answer
    assert {s["logStreamName"] for s in answer["searchedLogStreams"]} == {"a", "b"}
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, PaginationConfig={"PageSize": 1})
    assert [event["message"] for page in pages for event in page["events"]] == messages()


def test_filter_log_events_errors(logs: Any, group: str) -> None:
    assert refused(logs.filter_log_events, logGroupName=group, logStreamNames=["a"], logStreamNamePrefix="a")[0] == (
        "InvalidParameterException",
        400,
    )
    assert refused(logs.filter_log_events, logGroupName=group, filterPattern='{ $.level = "x" }') == (
        ("InvalidParameterException", 400),
        "Invalid filter pattern",
    )
    assert refused(logs.filter_log_events, logGroupName=f"{group}-missing") == (
        ("ResourceNotFoundException", 400),
        "The specified log group does not exist.",
    )


# -- tags --------------------------------------------------------------------------------


def test_tags_by_name_and_by_arn(logs: Any, group: str, account_id: str) -> None:
    logs.tag_log_group(logGroupName=group, tags={"a": "1", "b": "2"})
    logs.untag_log_group(logGroupName=group, tags=["a"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"b": "2"}
    arn = f"arn:aws:logs:us-east-1:{account_id}:log-group:{group}"
    logs.tag_resource(resourceArn=arn, tags={"c": "3"})
    logs.untag_resource(resourceArn=arn, tagKeys=["b"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"c": "3"}
    assert refused(logs.list_tags_for_resource, resourceArn=f"{arn}-missing")[0] == ("ResourceNotFoundException", 400)
    assert refused(logs.list_tags_log_group, logGroupName=f"{group}-missing")[0] == ("ResourceNotFoundException", 400)
