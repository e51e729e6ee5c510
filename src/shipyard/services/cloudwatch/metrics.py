"""Reading metrics: ListMetrics, GetMetricStatistics (with percentiles) and GetMetricData
(metric statistics and math expressions, :mod:`shipyard.monitoring.expressions`) over the
aggregates of :class:`~shipyard.monitoring.MetricStore`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring.errors import invalid_combination, invalid_value
from shipyard.monitoring.expressions import evaluate_queries
from shipyard.monitoring.histogram import percentile
from shipyard.monitoring.metric_store import MINUTE_MS, Dimensions, MetricKey
from shipyard.monitoring.statistics import (
    STATISTICS,
    Datapoint,
    aligned_start,
    datapoints,
    is_period,
)
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.cloudwatch import put

router = ServiceRouter("cloudwatch")
router.include(put.router)

#: ListMetrics' page size.
PAGE_SIZE = 500
#: The most datapoints GetMetricStatistics returns.
MAX_DATAPOINTS = 1440
#: GetMetricData's default (and largest) MaxDatapoints.
MAX_DATA_POINTS = 100_800
#: ListMetrics' ``RecentlyActive=PT3H``.
RECENT_MS = 3 * 3600 * 1000


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
    if params.get("OwningAccount") not in (None, ctx.runtime.account_id):
        found = []  # one account per server: no linked accounts to list
    if params.get("NextToken"):
        after = _decode_token(params["NextToken"])
        found = [key for key in found if (key.namespace, key.metric_name, key.dimensions) > after]
    output: dict[str, Any] = {"Metrics": [_metric(key) for key in found[:PAGE_SIZE]]}
    if params.get("IncludeLinkedAccounts"):
        output["OwningAccounts"] = [ctx.runtime.account_id] * len(output["Metrics"])
    if len(found) > PAGE_SIZE:
        last = found[PAGE_SIZE - 1]
        output["NextToken"] = _encode_token(last)
    return output


@router.operation("GetMetricStatistics")
async def get_metric_statistics(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    statistics: list[str] = params.get("Statistics") or []
    extended: list[str] = params.get("ExtendedStatistics") or []
    if bool(statistics) == bool(extended):
        raise invalid_combination("Must specify either Statistics or ExtendedStatistics, but not both.")
    for name in statistics:
        if name not in STATISTICS:
            raise invalid_value(f"The value {name} for parameter Statistics is not valid.")
    for name in extended:
        if percentile(name) is None:
            raise invalid_value(f"The value {name} for parameter ExtendedStatistics is not a valid percentile (p0 to p100).")
    period = _period(params["Period"], "Period")
    start_ms, end_ms = _time_range(params)
    requested = -(-(end_ms - start_ms) // (period * 1000))
    if requested > MAX_DATAPOINTS:
        raise invalid_combination(
            f"You have requested up to {requested} datapoints, which exceeds the limit of {MAX_DATAPOINTS}. You may"
            " reduce the datapoints requested by increasing Period, or decreasing the time range."
        )
    key = _metric_key(ctx, params["Namespace"], params["MetricName"], params.get("Dimensions", ()))
    period_ms, store, unit = max(period * 1000, MINUTE_MS), ctx.runtime.metrics, params.get("Unit")
    if extended:
        rows = await store.minutes(key, aligned_start(start_ms), end_ms, unit, sketches=True)
    else:
        rows = await store.periods(key, start_ms, end_ms, period_ms, unit)
    points = datapoints(rows, start_ms=start_ms, period_ms=period_ms)
    return {"Label": key.metric_name, "Datapoints": [_datapoint(point, statistics, extended) for point in points]}


def _datapoint(point: Datapoint, statistics: list[str], extended: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {"Timestamp": _time(point.timestamp_ms)}
    found.update((name, point.statistic(name)) for name in statistics)
    if extended:
        # A percentile of a period without samples' sketch (StatisticValues) is left out.
        found["ExtendedStatistics"] = {
            name: value for name in extended if (value := point.statistic(name)) is not None
        }
    found["Unit"] = point.unit
    return found


@router.operation("GetMetricData")
async def get_metric_data(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    start_ms, end_ms = _time_range(params)
    queries = params["MetricDataQueries"]
    if not queries:
        raise AwsError("ValidationError", "The parameter MetricDataQueries must hold at least one query.", 400)
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    limit = params.get("MaxDatapoints") or MAX_DATA_POINTS
    fingerprint = _fingerprint(params)
    offset = _page_offset(params["NextToken"], fingerprint) if params.get("NextToken") else 0

    results = await evaluate_queries(ctx.runtime.metrics, ctx.region, queries, start_ms, end_ms)
    output: list[dict[str, Any]] = []
    seen = 0
    for result in results:
        if not result.return_data:
            continue
        for series in result.series:
            times = sorted(series.points, reverse=descending)
            first, last = max(offset - seen, 0), max(min(offset + limit - seen, len(times)), 0)
            page = times[first:last] if first < len(times) else []
            seen += len(times)
            output.append(
                {
                    "Id": result.id,
                    "Label": series.label,
                    "Timestamps": [_time(time) for time in page],
                    "Values": [series.points[time] for time in page],
                    "StatusCode": "PartialData" if last < len(times) else "Complete",
                }
            )
    answer: dict[str, Any] = {"MetricDataResults": output, "Messages": []}
    if offset + limit < seen:
        answer["NextToken"] = _page_token(offset + limit, fingerprint)
    return answer


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
    if is_period(period):
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


def _fingerprint(params: dict[str, Any]) -> str:
    """What a NextToken is bound to: the request, less its paging members."""
    request = {k: v for k, v in params.items() if k not in ("NextToken", "MaxDatapoints")}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _page_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{fingerprint}".encode()).decode("ascii")


def _page_offset(token: str, fingerprint: str) -> int:
    try:
        offset, bound = base64.urlsafe_b64decode(token.encode("ascii")).decode().split(":")
        if bound == fingerprint and int(offset) >= 0:
            return int(offset)
    except (ValueError, UnicodeError, binascii.Error):
        pass
    raise AwsError("InvalidNextToken", "The service returned an error: the NextToken is invalid.", 400)


def _encode_token(key: MetricKey) -> str:
    payload = [key.namespace, key.metric_name, [list(pair) for pair in key.dimensions]]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def _decode_token(token: str) -> tuple[str, str, Dimensions]:
    try:
        namespace, name, pairs = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return str(namespace), str(name), tuple((str(n), str(v)) for n, v in pairs)
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        raise invalid_value("The parameter NextToken is not valid.") from None
