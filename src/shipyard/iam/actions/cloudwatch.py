"""CloudWatch: ``cloudwatch:<Operation>`` on alarms, dashboards, insight rules and metric streams.

Metric data has no resource: ``PutMetricData``, ``GetMetricData`` and the other metric
operations are checked on ``"*"`` (with ``cloudwatch:namespace`` where one is sent).
"""

from __future__ import annotations

from typing import Any

from shipyard.iam.actions.base import Request, passthrough, regional
from shipyard.iam.actions.generic import ConditionKey, ServiceTable

_alarm = regional("cloudwatch", ":", "alarm")
_metric_stream = regional("cloudwatch", "/", "metric-stream")


def _dashboard(value: Any, request: Request) -> str | None:
    """Dashboards are global: their ARNs have no region."""
    return (
        f"arn:aws:cloudwatch::{request.account_id}:dashboard/{value}" if value else None
    )


TABLE = ServiceTable(
    prefix="cloudwatch",
    resources={
        "AlarmName": _alarm,
        "AlarmNames": _alarm,
        "DashboardName": _dashboard,
        "DashboardNames": _dashboard,
        "RuleName": regional("cloudwatch", "/", "insight-rule"),
        "RuleNames": regional("cloudwatch", "/", "insight-rule"),
        "Names": _metric_stream,
        "ResourceARN": passthrough,
        "ResourceArn": passthrough,
    },
    nouns={
        "MetricStream": _metric_stream,
        "AlarmMuteRule": regional("cloudwatch", ":", "alarm-mute-rule"),
    },
    noun_members=("Name", "AlarmMuteRuleName"),
    conditions=(ConditionKey("cloudwatch:namespace", ("Namespace",)),),
    optional_resources=frozenset({"AlarmName"}),
    not_resources=frozenset({"MetricName", "DatasetIdentifier", "KmsKeyArn"}),
)
