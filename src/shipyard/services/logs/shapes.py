"""Log groups and streams as CloudWatch Logs' output shapes."""

from __future__ import annotations

from typing import Any

from shipyard.logs import LogGroup, LogStream


def log_group(group: LogGroup, account_id: str) -> dict[str, Any]:
    """A ``LogGroup`` of DescribeLogGroups: ``arn`` ends in ``:*``, ``logGroupArn`` does not."""
    arn = group.arn(account_id)
    shape: dict[str, Any] = {
        "logGroupName": group.name,
        "creationTime": group.created_ms,
        "metricFilterCount": 0,
        "arn": f"{arn}:*",
        "storedBytes": 0,
        "logGroupClass": "STANDARD",
        "logGroupArn": arn,
    }
    if group.retention_days is not None:
        shape["retentionInDays"] = group.retention_days
    return shape


def log_stream(stream: LogStream, group_arn: str) -> dict[str, Any]:
    """A ``LogStream`` of DescribeLogStreams (``storedBytes`` is 0, as AWS now reports it)."""
    shape: dict[str, Any] = {
        "logStreamName": stream.name,
        "creationTime": stream.created_ms,
        "uploadSequenceToken": str(stream.sequence),
        "arn": f"{group_arn}:log-stream:{stream.name}",
        "storedBytes": 0,
    }
    optional = {
        "firstEventTimestamp": stream.first_event_ms,
        "lastEventTimestamp": stream.last_event_ms,
        "lastIngestionTime": stream.last_ingestion_ms,
    }
    shape.update({key: value for key, value in optional.items() if value is not None})
    return shape
