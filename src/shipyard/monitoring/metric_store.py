"""CloudWatch-style metric aggregates in SQL: one row per metric, dimension set and minute.

A metric is named by its region, namespace, name and dimensions (``EndpointName``,
``VariantName``...). Each row of table ``metric_data`` holds what CloudWatch keeps of one
minute of it: the sample count, sum, minimum and maximum, from which every standard
statistic of any longer period follows (see :mod:`shipyard.monitoring.statistics`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from shipyard.store.database import Database
from shipyard.store.tables import metric_data

MINUTE_MS = 60_000

#: A metric's dimensions: (name, value) pairs sorted by name.
Dimensions = tuple[tuple[str, str], ...]


def canonical(dimensions: Dimensions) -> str:
    """The ``dimensions`` column's form: JSON of the sorted ``[name, value]`` pairs."""
    return json.dumps([list(pair) for pair in sorted(dimensions)], separators=(",", ":"))


def _parse(text: str) -> Dimensions:
    return tuple((name, value) for name, value in json.loads(text))


@dataclass(frozen=True)
class MetricKey:
    """One metric: what ``ListMetrics`` lists."""

    region: str
    namespace: str
    metric_name: str
    dimensions: Dimensions


@dataclass
class Aggregate:
    """Samples summarized: count, sum, minimum, maximum."""

    sample_count: float
    sum: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, value: float) -> Aggregate:
        return cls(1.0, value, value, value)

    def add(self, value: float) -> None:
        self.sample_count += 1
        self.sum += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)

    def merge(self, other: Aggregate) -> None:
        self.sample_count += other.sample_count
        self.sum += other.sum
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)


@dataclass(frozen=True)
class MetricDatum:
    """One minute of one metric."""

    key: MetricKey
    #: The minute's start, epoch milliseconds.
    timestamp_ms: int
    unit: str
    aggregate: Aggregate


class MetricStore:
    """Reads and merges per-minute aggregates in table ``metric_data``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, data: Sequence[MetricDatum]) -> None:
        """Merge ``data`` into the stored minutes: counts and sums add up, extremes widen."""
        if not data:
            return

        def merge(conn: Connection) -> None:
            for datum in data:
                _merge(conn, datum)

        await self._database.write(merge)

    async def metrics(
        self,
        region: str,
        *,
        namespace: str | None = None,
        metric_name: str | None = None,
        dimension_filters: Sequence[tuple[str, str | None]] = (),
        since_ms: int | None = None,
    ) -> list[MetricKey]:
        """The metrics with data, ordered by namespace, name and dimensions.

        Each of ``dimension_filters`` (name, value or None for any value) must be among a
        metric's dimensions; ``since_ms`` keeps metrics with data from then on.
        """
        query = select(metric_data.c.namespace, metric_data.c.metric_name, metric_data.c.dimensions).where(
            metric_data.c.region == region
        )
        if namespace is not None:
            query = query.where(metric_data.c.namespace == namespace)
        if metric_name is not None:
            query = query.where(metric_data.c.metric_name == metric_name)
        if since_ms is not None:
            query = query.where(metric_data.c.timestamp_ms >= since_ms)
        query = query.distinct()

        rows = await self._database.read(lambda conn: conn.execute(query).all())
        found = []
        for row in rows:
            dimensions = _parse(row.dimensions)
            names = dict(dimensions)
            if all(name in names and value in (None, names[name]) for name, value in dimension_filters):
                found.append(MetricKey(region, row.namespace, row.metric_name, dimensions))
        found.sort(key=lambda key: (key.namespace, key.metric_name, key.dimensions))
        return found

    async def minutes(self, key: MetricKey, start_ms: int, end_ms: int, unit: str | None = None) -> list[MetricDatum]:
        """The stored minutes of ``key`` in [start_ms, end_ms), oldest first; only ``unit``'s if given."""
        query = (
            select(metric_data)
            .where(
                metric_data.c.region == key.region,
                metric_data.c.namespace == key.namespace,
                metric_data.c.metric_name == key.metric_name,
                metric_data.c.dimensions == canonical(key.dimensions),
                metric_data.c.timestamp_ms >= start_ms,
                metric_data.c.timestamp_ms < end_ms,
            )
            .order_by(metric_data.c.timestamp_ms)
        )
        if unit is not None:
            query = query.where(metric_data.c.unit == unit)
        rows = await self._database.read(lambda conn: conn.execute(query).all())
        return [
            MetricDatum(key, row.timestamp_ms, row.unit, Aggregate(row.sample_count, row.sum, row.minimum, row.maximum))
            for row in rows
        ]


def _merge(conn: Connection, datum: MetricDatum) -> None:
    key, new = datum.key, datum.aggregate
    where = (
        metric_data.c.region == key.region,
        metric_data.c.namespace == key.namespace,
        metric_data.c.metric_name == key.metric_name,
        metric_data.c.dimensions == canonical(key.dimensions),
        metric_data.c.timestamp_ms == datum.timestamp_ms,
    )
    row = conn.execute(
        select(
            metric_data.c.id,
            metric_data.c.sample_count,
            metric_data.c.sum,
            metric_data.c.minimum,
            metric_data.c.maximum,
        )
        .where(*where)
        .with_for_update()
    ).first()
    if row is None:
        conn.execute(
            insert(metric_data).values(
                region=key.region,
                namespace=key.namespace,
                metric_name=key.metric_name,
                dimensions=canonical(key.dimensions),
                timestamp_ms=datum.timestamp_ms,
                sample_count=new.sample_count,
                sum=new.sum,
                minimum=new.minimum,
                maximum=new.maximum,
                unit=datum.unit,
            )
        )
        return
    merged = Aggregate(row.sample_count, row.sum, row.minimum, row.maximum)
    merged.merge(new)
    conn.execute(
        update(metric_data)
        .where(metric_data.c.id == row.id)
        .values(sample_count=merged.sample_count, sum=merged.sum, minimum=merged.minimum, maximum=merged.maximum)
    )
