"""CloudWatch Logs: ``logs:<Operation>`` on the log stream or log group named.

Log groups are ``arn:aws:logs:<region>:<account>:log-group:<name>``; a stream is
``...:log-group:<group>:log-stream:<stream>``. ``logGroupIdentifier`` takes a name or ARN.
"""

from __future__ import annotations

from typing import Any

from shipyard.iam.actions.base import Request, passthrough, regional
from shipyard.iam.actions.generic import ServiceTable

_log_group = regional("logs", ":", "log-group")


def _group_name(params: Any) -> str | None:
    name = params.get("logGroupName") or params.get("logGroupIdentifier")
    if isinstance(name, str) and name.startswith("arn:"):
        # An identifier ARN may end in ":*", as DescribeLogGroups returns it.
        return name.split(":log-group:", 1)[-1].removesuffix(":*")
    return name


def _log_stream(value: Any, request: Request) -> str | None:
    group = _group_name(request.params)
    if not value or not group:
        return None
    return f"arn:aws:logs:{request.region}:{request.account_id}:log-group:{group}:log-stream:{value}"


TABLE = ServiceTable(
    prefix="logs",
    resources={
        "logStreamName": _log_stream,
        "logGroupName": _log_group,
        "logGroupIdentifier": _log_group,
        "resourceArn": passthrough,
        "anomalyDetectorArn": passthrough,
        "lookupTableArn": passthrough,
        "integrationArn": passthrough,
        "destinationName": regional("logs", ":", "destination"),
        "deliveryDestinationName": regional("logs", ":", "delivery-destination"),
    },
    optional_resources=frozenset(
        {"logGroupName", "logGroupIdentifier", "logStreamName"}
    ),
    not_resources=frozenset(
        {
            "policyName",
            "deliverySourceName",
            "deliveryDestinationArn",
            "integrationName",
            "dataSourceName",
            "importSourceArn",
            "importRoleArn",
            "lookupTableName",
            "executionRoleArn",
        }
    ),
)
