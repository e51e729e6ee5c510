"""Reading metrics: ListMetrics, GetMetricStatistics and GetMetricData (metric statistics,
not math expressions) over the per-minute aggregates of :class:`~shipyard.monitoring.MetricStore`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring import (
    MINUTE_MS,
    STATISTICS,
    Datapoint,
    Dimensions,
    MetricKey,
    aligned_start,
    datapoints,
)
from shipyard.services.base import RequestContext, ServiceRouter

router = ServiceRouter("cloudwatch")

#: ListMetrics' page size.
PAGE_SIZE = 500
#: The most datapoints GetMetricStatistics returns.
MAX_DATAPOINTS = 1440
#: Periods under a minute that standard-resolution metrics accept (their data is per minute).
SHORT_PERIODS = (1, 5, 10, 30)
#: ListMetrics' ``RecentlyActive=PT3H``.
RECENT_MS = 3 * 3600 * 1000


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def invalid_combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message, 400)


@router.operation("ListMetrics")
async def list_metrics(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    since = None
    if params.get("RecentlyActive") == "PT3H":
        since = _epoch_ms(datetime.now(UTC)) - RECENT_MS
    found = await ctx.runtime.metrics.metrics(
        ctx.region,
        namespace=params.get("Namespace"),
        metric_name=params.get("MetricName"),
        dimension_filters=[(f["Name"], f.get("Value")) for f in params.get("Dimensions", ())],
        since_ms=since,
    )
    if params.get("NextToken"):
        after = _decode_token(params["NextToken"])
        found = [key for key in found if (key.namespace, key.metric_name, key.dimensions) > after]
    output: dict[str, Any] = {"Metrics": [_metric(key) for key in found[:PAGE_SIZE]]}
    if len(found) > PAGE_SIZE:
        last = found[PAGE_SIZE - 1]
        output["NextToken"] = _encode_token(last)
    return output


@router.operation("GetMetricStatistics")
async def get_metric_statistics(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    statistics: list[str] = params.get("Statistics") or []
    if bool(statistics) == bool(params.get("ExtendedStatistics")):
        raise invalid_combination("Must specify either Statistics or ExtendedStatistics, but not both.")
    if params.get("ExtendedStatistics"):
        raise invalid_value(
            "Shipyard keeps per-minute aggregates of its metrics: ExtendedStatistics (percentiles) are not available."
        )
    period = _period(params["Period"], "Period")
    start_ms, end_ms = _time_range(params)
    requested = -(-(end_ms - start_ms) // (period * 1000))
    if requested > MAX_DATAPOINTS:
        raise invalid_combination(
            f"You have requested up to {requested} datapoints, which exceeds the limit of {MAX_DATAPOINTS}. You may"
            " reduce the datapoints requested by increasing Period, or decreasing the time range."
        )
    key = _metric_key(ctx, params["Namespace"], params["MetricName"], params.get("Dimensions", ()))
    points = await _datapoints(ctx, key, start_ms, end_ms, period, params.get("Unit"))
    return {
        "Label": key.metric_name,
        "Datapoints": [
            {
                "Timestamp": _time(point.timestamp_ms),
                **{name: point.statistic(name) for name in statistics},
                "Unit": point.unit,
            }
            for point in points
        ],
    }


@router.operation("GetMetricData")
async def get_metric_data(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    start_ms, end_ms = _time_range(params)
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    results = []
    for number, query in enumerate(params["MetricDataQueries"], start=1):
        where = f"MetricDataQueries.member.{number}"
        stat = query.get("MetricStat")
        if query.get("Expression") is not None or stat is None:
            raise invalid_value(f"The parameter {where}.MetricStat is required: Shipyard does not evaluate metric math.")
        if stat["Stat"] not in STATISTICS:
            raise invalid_value(f"The value {stat['Stat']} for parameter {where}.MetricStat.Stat is not valid.")
        metric = stat["Metric"]
        key = _metric_key(ctx, metric.get("Namespace", ""), metric.get("MetricName", ""), metric.get("Dimensions", ()))
        period = _period(stat["Period"], f"{where}.MetricStat.Period")
        points = await _datapoints(ctx, key, start_ms, end_ms, period, stat.get("Unit"))
        if descending:
            points.reverse()
        if query.get("ReturnData", True):
            results.append(
                {
                    "Id": query["Id"],
                    "Label": query.get("Label") or key.metric_name,
                    "Timestamps": [_time(point.timestamp_ms) for point in points],
                    "Values": [point.statistic(stat["Stat"]) for point in points],
                    "StatusCode": "Complete",
                }
            )
    return {"MetricDataResults": results, "Messages": []}


async def _datapoints(
    ctx: RequestContext, key: MetricKey, start_ms: int, end_ms: int, period: int, unit: str | None
) -> list[Datapoint]:
    minutes = await ctx.runtime.metrics.minutes(key, aligned_start(start_ms), end_ms, unit)
    return datapoints(minutes, start_ms=start_ms, period_ms=max(period * 1000, MINUTE_MS))


def _metric_key(ctx: RequestContext, namespace: str, name: str, dimensions: Sequence[dict[str, str]]) -> MetricKey:
    pairs: Dimensions = tuple(sorted((item["Name"], item["Value"]) for item in dimensions))
    return MetricKey(ctx.region, namespace, name, pairs)


def _metric(key: MetricKey) -> dict[str, Any]:
    return {
        "Namespace": key.namespace,
        "MetricName": key.metric_name,
        "Dimensions": [{"Name": name, "Value": value} for name, value in key.dimensions],
    }


def _period(period: int, member: str) -> int:
    if period in SHORT_PERIODS or period % 60 == 0:
        return period
    raise invalid_value(f"The parameter {member} must be a multiple of 60.")


def _time_range(params: dict[str, Any]) -> tuple[int, int]:
    start_ms, end_ms = _epoch_ms(params["StartTime"]), _epoch_ms(params["EndTime"])
    if start_ms >= end_ms:
        raise invalid_value("The parameter StartTime must be less than the parameter EndTime.")
    return start_ms, end_ms


def _epoch_ms(time: datetime) -> int:
    return int(time.timestamp() * 1000)


def _time(epoch_ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)


def _encode_token(key: MetricKey) -> str:
    payload = [key.namespace, key.metric_name, [list(pair) for pair in key.dimensions]]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def _decode_token(token: str) -> tuple[str, str, Dimensions]:
    try:
        namespace, name, pairs = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return str(namespace), str(name), tuple((str(n), str(v)) for n, v in pairs)
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        raise invalid_value("The parameter NextToken is not valid.") from None
