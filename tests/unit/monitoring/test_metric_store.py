"""Per-minute metric aggregates: the in-memory buffer, the SQL store (SQLite and PostgreSQL)
and CloudWatch's statistics over periods."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.metric_store import (
    MINUTE_MS,
    Aggregate,
    MetricDatum,
    MetricKey,
    MetricStore,
    canonical,
)
from shipyard.monitoring.statistics import datapoints
from shipyard.serving.invocation_metrics import InvocationMetrics
from shipyard.store.database import Database

T0 = 1_714_564_800_000  # 2024-05-01T12:00:00Z, a whole minute
LATENCY = MetricKey("us-east-1", "AWS/SageMaker", "ModelLatency", (("EndpointName", "ep"), ("VariantName", "a")))
OTHER_VARIANT = MetricKey("us-east-1", "AWS/SageMaker", "ModelLatency", (("EndpointName", "ep"), ("VariantName", "b")))
INVOCATIONS = MetricKey("us-east-1", "AWS/SageMaker", "Invocations", (("EndpointName", "ep"), ("VariantName", "a")))


@pytest.fixture
def store(database: Database) -> MetricStore:
    return MetricStore(database)



def datum(key: MetricKey, minute: int, *values: float, unit: str = "Microseconds") -> MetricDatum:
    aggregate = Aggregate.of(values[0])
    for value in values[1:]:
        aggregate.add(value)
    return MetricDatum(key, T0 + minute * MINUTE_MS, unit, aggregate)


def test_canonical_dimensions_are_sorted_json_pairs() -> None:
    assert canonical((("VariantName", "a"), ("EndpointName", "ep"))) == '[["EndpointName","ep"],["VariantName","a"]]'


def test_buffer_aggregates_per_metric_and_minute() -> None:
    buffer = MetricBuffer()
    buffer.record(LATENCY, 10.0, "Microseconds", T0 + 1)
    buffer.record(LATENCY, 30.0, "Microseconds", T0 + MINUTE_MS - 1)
    buffer.record(LATENCY, 5.0, "Microseconds", T0 + MINUTE_MS)
    buffer.record(OTHER_VARIANT, 7.0, "Microseconds", T0)
    assert len(buffer) == 3
    drained = {(d.key, d.timestamp_ms): d.aggregate for d in buffer.drain()}
    assert drained[(LATENCY, T0)] == Aggregate(2, 40.0, 10.0, 30.0)
    assert drained[(LATENCY, T0 + MINUTE_MS)] == Aggregate(1, 5.0, 5.0, 5.0)
    assert drained[(OTHER_VARIANT, T0)] == Aggregate(1, 7.0, 7.0, 7.0)
    assert buffer.drain() == []


def test_restored_data_merges_with_newer_samples() -> None:
    buffer = MetricBuffer()
    buffer.record(LATENCY, 10.0, "Microseconds", T0)
    failed = buffer.drain()
    buffer.record(LATENCY, 2.0, "Microseconds", T0)
    buffer.restore(failed)
    (merged,) = buffer.drain()
    assert merged.aggregate == Aggregate(2, 12.0, 2.0, 10.0)


@pytest.mark.anyio
async def test_adding_merges_into_the_stored_minute(store: MetricStore) -> None:
    await store.add([datum(LATENCY, 0, 10, 20), datum(LATENCY, 1, 100)])
    await store.add([datum(LATENCY, 0, 5, 50), datum(OTHER_VARIANT, 0, 1)])
    await store.add([])
    minutes = await store.minutes(LATENCY, T0, T0 + 10 * MINUTE_MS)
    assert [(m.timestamp_ms, m.aggregate) for m in minutes] == [
        (T0, Aggregate(4, 85.0, 5.0, 50.0)),
        (T0 + MINUTE_MS, Aggregate(1, 100.0, 100.0, 100.0)),
    ]
    assert minutes[0].unit == "Microseconds"
    # The end is exclusive; the unit filters.
    assert [m.timestamp_ms for m in await store.minutes(LATENCY, T0, T0 + MINUTE_MS)] == [T0]
    assert await store.minutes(LATENCY, T0, T0 + 10 * MINUTE_MS, unit="Count") == []


@pytest.mark.anyio
async def test_metrics_lists_each_metric_once_with_filters(store: MetricStore) -> None:
    other_region = MetricKey("eu-west-1", *[getattr(LATENCY, f) for f in ("namespace", "metric_name", "dimensions")])
    await store.add(
        [
            datum(LATENCY, 0, 1),
            datum(LATENCY, 1, 1),
            datum(OTHER_VARIANT, 0, 1),
            datum(INVOCATIONS, 5, 1, unit="None"),
            datum(other_region, 0, 1),
        ]
    )
    assert await store.metrics("us-east-1") == [INVOCATIONS, LATENCY, OTHER_VARIANT]
    assert await store.metrics("us-east-1", metric_name="ModelLatency") == [LATENCY, OTHER_VARIANT]
    assert await store.metrics("us-east-1", dimension_filters=[("VariantName", "b")]) == [OTHER_VARIANT]
    assert await store.metrics("us-east-1", dimension_filters=[("VariantName", None)]) == [
        INVOCATIONS,
        LATENCY,
        OTHER_VARIANT,
    ]
    assert await store.metrics("us-east-1", dimension_filters=[("Host", None)]) == []
    assert await store.metrics("us-east-1", namespace="AWS/EC2") == []
    assert await store.metrics("us-east-1", since_ms=T0 + 2 * MINUTE_MS) == [INVOCATIONS]
    assert await store.metrics("eu-west-1") == [other_region]


def test_datapoints_group_minutes_into_periods_from_the_rounded_start() -> None:
    minutes = [datum(LATENCY, n, float(n + 1)) for n in (0, 1, 2, 4, 5)]
    points = datapoints(minutes, start_ms=T0 + 30_000, period_ms=3 * MINUTE_MS)
    assert [p.timestamp_ms for p in points] == [T0, T0 + 3 * MINUTE_MS]
    first, second = points
    assert first.aggregate == Aggregate(3, 6.0, 1.0, 3.0)
    assert second.aggregate == Aggregate(2, 11.0, 5.0, 6.0)
    assert {name: first.statistic(name) for name in ("SampleCount", "Average", "Sum", "Minimum", "Maximum")} == {
        "SampleCount": 3,
        "Average": 2.0,
        "Sum": 6.0,
        "Minimum": 1.0,
        "Maximum": 3.0,
    }
    # Grouping never changes the stored minutes.
    assert minutes[0].aggregate == Aggregate(1, 1.0, 1.0, 1.0)


@pytest.mark.anyio
async def test_adding_merges_sketches_and_duplicates_within_a_batch(store: MetricStore) -> None:
    first, second, third = [float(v) for v in range(1, 101)], [float(v) for v in range(101, 201)], [500.0]
    await store.add([MetricDatum(LATENCY, T0, "Milliseconds", Aggregate.of_values(first))])
    batch = [
        MetricDatum(LATENCY, T0, "Milliseconds", Aggregate.of_values(second)),
        MetricDatum(LATENCY, T0, "Milliseconds", Aggregate.of_values(third)),
    ]
    await store.add(batch)
    assert batch[0].aggregate.sample_count == 100  # the caller's data is left as it was
    (minute,) = await store.minutes(LATENCY, T0, T0 + MINUTE_MS, sketches=True)
    assert minute.aggregate == Aggregate(201, sum(first) + sum(second) + 500, 1.0, 500.0)
    (point,) = datapoints([minute], start_ms=T0, period_ms=MINUTE_MS)
    assert point.statistic("p50") == pytest.approx(101, rel=0.01)
    assert point.statistic("p100") == 500.0
    # Without sketches read, percentiles are unknown rather than wrong.
    (plain,) = await store.minutes(LATENCY, T0, T0 + MINUTE_MS)
    assert plain.aggregate.sketch is None


@pytest.mark.anyio
async def test_a_statistic_set_leaves_its_minute_without_percentiles(store: MetricStore) -> None:
    await store.add([MetricDatum(LATENCY, T0, "Milliseconds", Aggregate.of_values([1.0, 2.0]))])
    await store.add([MetricDatum(LATENCY, T0, "Milliseconds", Aggregate.of_statistics(2, 10.0, 1.0, 9.0))])
    await store.add([MetricDatum(LATENCY, T0, "Milliseconds", Aggregate.of_values([3.0]))])
    (minute,) = await store.minutes(LATENCY, T0, T0 + MINUTE_MS, sketches=True)
    assert minute.aggregate == Aggregate(5, 16.0, 1.0, 9.0)
    assert minute.aggregate.percentile(0.5) is None


def test_buffered_samples_keep_a_sketch() -> None:
    buffer = MetricBuffer()
    for value in range(1, 1001):
        buffer.record(LATENCY, float(value), "Microseconds", T0)
    (drained,) = buffer.drain()
    assert drained.aggregate.percentile(0.99) == pytest.approx(990, rel=0.01)


@pytest.mark.anyio
async def test_endpoint_model_latency_gets_percentiles(store: MetricStore) -> None:
    metrics = InvocationMetrics(MetricBuffer())
    latencies = np.random.default_rng(3).gamma(2.0, 5_000.0, 2_000)
    for n, latency in enumerate(latencies):
        metrics.record("us-east-1", "ep", "a", status=200, model_us=float(latency), overhead_us=50.0, time_ms=T0 + n * 45)
    await store.add(metrics.buffer.drain())  # what DataPlane.flush_metrics does
    minutes = await store.minutes(LATENCY, T0, T0 + 5 * MINUTE_MS, sketches=True)
    (point,) = datapoints(minutes, start_ms=T0, period_ms=5 * MINUTE_MS)
    assert point.statistic("SampleCount") == 2_000
    for name, q in (("p50", 50), ("p99", 99)):
        assert point.statistic(name) == pytest.approx(np.percentile(latencies, q, method="lower"), rel=0.01)
