"""PutMetricData: custom metrics into the metric store, checked as CloudWatch checks them.

Each datum gives a value, values with counts, or a statistic set; all are summarized per
metric and minute (high-resolution data, ``StorageResolution=1``, is kept per minute too)
with a percentile sketch of the values. The request's data is written in one transaction
before the answer: what is acknowledged is stored.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shipyard.errors import AwsError
from shipyard.monitoring.errors import invalid_combination, invalid_value
from shipyard.monitoring.metric_store import (
    MINUTE_MS,
    Aggregate,
    MetricDatum,
    MetricKey,
)
from shipyard.services.base import RequestContext, ServiceRouter

router = ServiceRouter("cloudwatch")

MAX_DATA = 1000
MAX_DIMENSIONS = 30
MAX_VALUES = 150
#: How far back and ahead of now a datum's Timestamp may be, as CloudWatch allows.
MAX_AGE_MS = 14 * 86_400_000
MAX_AHEAD_MS = 2 * 3_600_000
#: CloudWatch accepts values within ±2^360.
LIMIT = 2.0**360
#: StandardUnit, as the model lists it.
UNITS = frozenset(
    (
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    )
)


@router.operation("PutMetricData", validates=("MetricData",))
async def put_metric_data(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    namespace: str = params["Namespace"]
    if namespace.startswith("AWS/"):
        raise invalid_value(f"The value {namespace} for parameter Namespace is invalid.")
    data = params.get("MetricData")
    if not data:
        if params.get("EntityMetricData"):
            data = [datum for entry in params["EntityMetricData"] for datum in entry.get("MetricData", ())]
        else:
            raise AwsError("MissingParameter", "The parameter MetricData is required.", 400)
    if len(data) > MAX_DATA:
        raise invalid_value(f"The collection MetricData must not have a size greater than {MAX_DATA}.")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    rows = [_datum(ctx.region, namespace, datum, f"MetricData.member.{n}", now_ms) for n, datum in enumerate(data, 1)]
    await ctx.runtime.metrics.add(rows)
    return {}


def _datum(region: str, namespace: str, datum: dict[str, Any], where: str, now_ms: int) -> MetricDatum:
    name = datum.get("MetricName")
    if not name:
        raise AwsError("MissingParameter", f"The parameter {where}.MetricName is required.", 400)
    if len(name) > 255:
        raise invalid_value(f"The parameter {where}.MetricName must be at most 255 characters long.")
    dimensions = datum.get("Dimensions") or []
    if len(dimensions) > MAX_DIMENSIONS:
        raise invalid_value(f"The collection {where}.Dimensions must not have a size greater than {MAX_DIMENSIONS}.")
    pairs: dict[str, str] = {}
    for number, dimension in enumerate(dimensions, start=1):
        member = f"{where}.Dimensions.member.{number}"
        dimension_name, value = dimension.get("Name"), dimension.get("Value")
        if not dimension_name or value is None:
            raise AwsError("MissingParameter", f"The parameter {member}.{'Name' if not dimension_name else 'Value'} is required.", 400)
        if not 1 <= len(dimension_name) <= 255 or not 1 <= len(value) <= 1024:
            raise invalid_value(f"The parameter {member} has a Name or Value of an invalid length.")
        if dimension_name in pairs:
            raise invalid_value(f"The value {dimension_name} for parameter {where}.Dimensions is duplicated.")
        pairs[dimension_name] = value

    timestamp_ms = now_ms
    if datum.get("Timestamp") is not None:
        timestamp_ms = int(datum["Timestamp"].timestamp() * 1000)
        if timestamp_ms < now_ms - MAX_AGE_MS:
            raise invalid_value(f"The parameter {where}.Timestamp must specify a time no more than two weeks in the past.")
        if timestamp_ms > now_ms + MAX_AHEAD_MS:
            raise invalid_value(f"The parameter {where}.Timestamp must specify a time no more than two hours in the future.")

    unit = datum.get("Unit") or "None"
    if unit not in UNITS:
        raise invalid_value(f"The value {unit} for parameter {where}.Unit is invalid.")
    resolution = datum.get("StorageResolution")
    if resolution is not None and resolution not in (1, 60):
        raise invalid_value(f"The value {resolution} for parameter {where}.StorageResolution is invalid: use 1 or 60.")

    key = MetricKey(region, namespace, name, tuple(sorted(pairs.items())))
    minute = timestamp_ms - timestamp_ms % MINUTE_MS
    return MetricDatum(key, minute, unit, _aggregate(datum, where))


def _aggregate(datum: dict[str, Any], where: str) -> Aggregate:
    given = [name for name in ("Value", "Values", "StatisticValues") if datum.get(name) not in (None, [])]
    if len(given) > 1:
        raise invalid_combination(
            f"The parameters {where}.{given[0]} and {where}.{given[1]} are mutually exclusive and you have specified both."
        )
    if datum.get("Counts") and "Values" not in given:
        raise invalid_combination(f"The parameter {where}.Counts may only be specified with {where}.Values.")
    if not given:
        raise AwsError(
            "MissingParameter",
            f"One of the parameters {where}.Value, {where}.Values or {where}.StatisticValues must be specified.",
            400,
        )
    if given == ["Value"]:
        return Aggregate.of(_number(datum["Value"], f"{where}.Value"))
    if given == ["Values"]:
        values = _numbers(datum["Values"], f"{where}.Values")
        if len(values) > MAX_VALUES:
            raise invalid_value(f"The collection {where}.Values must not have a size greater than {MAX_VALUES}.")
        counts = None
        if datum.get("Counts"):
            counts = _numbers(datum["Counts"], f"{where}.Counts")
            if len(counts) != len(values):
                raise invalid_value(f"The parameters {where}.Values and {where}.Counts must be of the same size.")
            if (counts < 0).any() or not counts.any():
                raise invalid_value(f"The parameter {where}.Counts must hold non-negative counts, not all zero.")
        return Aggregate.of_values(values, counts)
    statistics = datum["StatisticValues"]
    member = f"{where}.StatisticValues"
    count, total, low, high = (
        _number(statistics[name], f"{member}.{name}") for name in ("SampleCount", "Sum", "Minimum", "Maximum")
    )
    if count <= 0:
        raise invalid_value(f"The parameter {member}.SampleCount must be greater than 0.")
    if low > high:
        raise invalid_value(f"The parameter {member}.Minimum must not be greater than {member}.Maximum.")
    return Aggregate.of_statistics(count, total, low, high)


def _numbers(values: list[float], where: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    bad = ~np.isfinite(array) | (np.abs(array) > LIMIT)
    if bad.any():
        raise invalid_value(f"The value {array[bad][0]} for parameter {where} is invalid.")
    return array


def _number(value: float, where: str) -> float:
    value = float(value)
    if not math.isfinite(value) or abs(value) > LIMIT:
        raise invalid_value(f"The value {value} for parameter {where} is invalid.")
    return value
