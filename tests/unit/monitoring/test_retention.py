"""Downsampling on a real migrated database (SQLite and PostgreSQL): minutes become 5-minute
rows, those become hours, hours expire; every statistic survives the merge."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from shipyard.monitoring.histogram import RELATIVE_ACCURACY
from shipyard.monitoring.metric_store import (
    Aggregate,
    MetricDatum,
    MetricKey,
    MetricStore,
)
from shipyard.monitoring.retention import DAY_MS, MetricRetention, downsample, tiers
from shipyard.monitoring.statistics import datapoints
from shipyard.store.database import Database
from shipyard.store.tables import metric_data

NOW = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000  # a whole hour
KEY = MetricKey("us-east-1", "Shop", "Latency", (("Host", "a"),))
OTHER = MetricKey("us-east-1", "Shop", "Latency", (("Host", "b"),))


def minutes_of(key: MetricKey, start_ms: int, count: int, seed: int) -> tuple[list[MetricDatum], np.ndarray]:
    rng = np.random.default_rng(seed)
    data, everything = [], []
    for n in range(count):
        values = rng.lognormal(3, 1, 20)
        everything.append(values)
        data.append(MetricDatum(key, start_ms + n * 60_000, "Milliseconds", Aggregate.of_values(values.tolist())))
    return data, np.concatenate(everything)


async def rows(database: Database) -> list:
    query = select(metric_data).order_by(metric_data.c.dimensions, metric_data.c.timestamp_ms)
    return await database.read(lambda conn: conn.execute(query).all())


@pytest.mark.anyio
async def test_old_minutes_become_five_minute_rows_with_the_same_statistics(database: Database) -> None:
    store = MetricStore(database)
    old_start = NOW - 16 * DAY_MS  # 30 minutes, 16 days ago: six 5-minute periods
    old, old_values = minutes_of(KEY, old_start, 30, seed=1)
    recent, _ = minutes_of(KEY, NOW - DAY_MS, 10, seed=2)
    statistic_set = MetricDatum(OTHER, old_start + 60_000, "Count", Aggregate.of_statistics(3, 30.0, 5.0, 15.0))
    await store.add([*old, *recent, statistic_set])

    await MetricRetention(database, tiers()).run(NOW)

    stored = await rows(database)
    five_minute = [row for row in stored if row.dimensions == '[["Host","a"]]' and row.period_s == 300]
    assert [row.timestamp_ms for row in five_minute] == [old_start + n * 300_000 for n in range(6)]
    assert sum(row.sample_count for row in five_minute) == 600
    assert sum(row.period_s == 60 for row in stored) == 10  # the recent minutes, untouched
    (moved,) = [row for row in stored if row.dimensions == '[["Host","b"]]']
    assert (moved.period_s, moved.timestamp_ms, moved.sample_count, moved.histogram) == (300, old_start, 3, None)

    # Reading the downsampled range: a 30-minute period sums the rows exactly; percentiles
    # stay within the sketch's accuracy of the raw samples' order statistics.
    read = await store.minutes(KEY, old_start, old_start + 30 * 60_000, sketches=True)
    (point,) = datapoints(read, start_ms=old_start, period_ms=30 * 60_000)
    assert point.statistic("SampleCount") == 600
    assert point.statistic("Sum") == pytest.approx(old_values.sum())
    assert point.statistic("Minimum") == old_values.min() and point.statistic("Maximum") == old_values.max()
    exact = np.percentile(old_values, 99, method="lower")
    assert point.statistic("p99") == pytest.approx(exact, rel=RELATIVE_ACCURACY)
    # A period shorter than a row's gives the row at its own start.
    per_minute = datapoints(read, start_ms=old_start, period_ms=60_000)
    assert [p.timestamp_ms for p in per_minute] == [row.timestamp_ms for row in five_minute]


@pytest.mark.anyio
@pytest.mark.parametrize("period_s", [60, 120, 300, 420, 3600])
async def test_periods_merged_by_the_database_equal_datapoints_of_the_rows(database: Database, period_s: int) -> None:
    store = MetricStore(database)
    old_start = NOW - 16 * DAY_MS
    old, _ = minutes_of(KEY, old_start, 40, seed=4)
    await store.add(old)
    await MetricRetention(database, tiers(minute_days=16 - 20 / 1440)).run(NOW)  # the first 20 minutes move
    await store.add([MetricDatum(KEY, old_start + 7 * 60_000, "Milliseconds", Aggregate.of(1e6))])  # late, 1 minute
    assert {row.period_s for row in await rows(database)} == {60, 300}
    start, end = old_start + 90_000, old_start + 45 * 60_000
    expected = datapoints(await store.minutes(KEY, start, end), start_ms=start, period_ms=period_s * 1000)
    merged = datapoints(await store.periods(KEY, start, end, period_s * 1000), start_ms=start, period_ms=period_s * 1000)
    assert [(p.timestamp_ms, p.unit) for p in merged] == [(p.timestamp_ms, p.unit) for p in expected]
    for ours, theirs in zip(merged, expected, strict=True):
        assert ours.aggregate.sample_count == theirs.aggregate.sample_count
        assert ours.aggregate.sum == pytest.approx(theirs.aggregate.sum)
        assert (ours.aggregate.minimum, ours.aggregate.maximum) == (theirs.aggregate.minimum, theirs.aggregate.maximum)


@pytest.mark.anyio
async def test_chunked_passes_merge_into_the_same_rows_as_one_pass(database: Database) -> None:
    store = MetricStore(database)
    old_start = NOW - 20 * DAY_MS
    data, values = minutes_of(KEY, old_start, 17, seed=3)
    await store.add(data)
    minute_tier = tiers()[0]
    taken = [await database.write(lambda conn: downsample(conn, minute_tier, NOW, limit=4)) for _ in range(6)]
    assert taken == [4, 4, 4, 4, 1, 0]
    stored = await rows(database)
    assert [(row.timestamp_ms, row.period_s, row.sample_count) for row in stored] == [
        (old_start + n * 300_000, 300, count) for n, count in enumerate((100, 100, 100, 40))
    ]
    assert sum(row.sum for row in stored) == pytest.approx(values.sum())


@pytest.mark.anyio
async def test_tiers_cascade_to_hours_and_expire_with_settings(database: Database) -> None:
    store = MetricStore(database)
    await store.add(
        [
            MetricDatum(KEY, NOW - 100 * DAY_MS + n * 60_000, "Count", Aggregate.of(float(n)))  # 100 days ago
            for n in range(120)
        ]
        + [MetricDatum(OTHER, NOW - 500 * DAY_MS, "Count", Aggregate.of(1.0))]  # past every tier
    )
    await MetricRetention(database, tiers(minute_days=15, five_minute_days=63, hour_days=455)).run(NOW)
    stored = await rows(database)
    assert [(row.dimensions, row.period_s, row.sample_count) for row in stored] == [
        ('[["Host","a"]]', 3600, 60),
        ('[["Host","a"]]', 3600, 60),
    ]
    assert sum(row.sum for row in stored) == sum(range(120))
    # Late data for a downsampled hour merges into it.
    await store.add([MetricDatum(KEY, stored[0].timestamp_ms, "Count", Aggregate.of(1000.0))])
    first = (await rows(database))[0]
    assert (first.sample_count, first.maximum, first.period_s) == (61, 1000.0, 3600)
