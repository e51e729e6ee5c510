"""CloudWatch-style metric aggregates in SQL: one row per metric, dimension set and minute.

A metric is named by its region, namespace, name and dimensions (``EndpointName``,
``VariantName``...). Each row of table ``metric_data`` holds what CloudWatch keeps of one
minute of it: the sample count, sum, minimum and maximum, from which every standard
statistic of any longer period follows (see :mod:`shipyard.monitoring.statistics`), and a
percentile sketch of the samples (:mod:`shipyard.monitoring.histogram`) as JSON in column
``histogram``. Old minutes are merged into longer rows (``period_s``) by
:mod:`shipyard.monitoring.retention`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import ColumnElement, Connection, case, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shipyard.monitoring.histogram import Sketch
from shipyard.store.database import Database
from shipyard.store.tables import metric_data

MINUTE_MS = 60_000
#: The longest period a stored row may sum up (downsampled data: see ``monitoring.retention``).
LONGEST_PERIOD_MS = 3_600_000
#: Timestamps per ``IN (...)`` when reading stored sketches.
CHUNK = 1000
#: The PostgreSQL advisory lock that writers of ``metric_data`` hold (any fixed number).
_LOCK = 0x5348_4950_4D44

#: A metric's dimensions: (name, value) pairs sorted by name.
Dimensions = tuple[tuple[str, str], ...]


def canonical(dimensions: Dimensions) -> str:
    """The ``dimensions`` column's form: JSON of the sorted ``[name, value]`` pairs."""
    return json.dumps([list(pair) for pair in sorted(dimensions)], separators=(",", ":"))


def parse_dimensions(text: str) -> Dimensions:
    """The inverse of :func:`canonical`."""
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
    """Samples summarized: count, sum, minimum, maximum, and their percentile sketch.

    ``sketch`` is None where the samples were not seen one by one (a ``StatisticValues``
    set): percentiles are then unknown, for this aggregate and any it is merged into. It
    takes no part in equality.
    """

    sample_count: float
    sum: float
    minimum: float
    maximum: float
    sketch: Sketch | None = field(default=None, compare=False)

    @classmethod
    def of(cls, value: float) -> Aggregate:
        sketch = Sketch()
        sketch.add(value)
        return cls(1.0, value, value, value, sketch)

    @classmethod
    def of_values(cls, values: Sequence[float] | np.ndarray, counts: Sequence[float] | np.ndarray | None = None) -> Aggregate:
        """The aggregate of ``values``, each seen once or ``counts`` times (some count > 0)."""
        array = np.asarray(values, dtype=float)
        weights = np.ones_like(array) if counts is None else np.asarray(counts, dtype=float)
        seen = array[weights > 0]
        return cls(
            float(weights.sum()),
            float(np.dot(array, weights)),
            float(seen.min()),
            float(seen.max()),
            Sketch.of(array, weights),
        )

    @classmethod
    def of_statistics(cls, sample_count: float, total: float, minimum: float, maximum: float) -> Aggregate:
        """A ``StatisticValues`` set; as in CloudWatch it has percentiles only when all its
        samples are equal (``Minimum == Maximum`` and ``Sum == Minimum * SampleCount``)."""
        sketch = None
        if minimum == maximum and math.isclose(total, minimum * sample_count, rel_tol=1e-12, abs_tol=1e-12):
            sketch = Sketch()
            sketch.add(minimum, sample_count)
        return cls(sample_count, total, minimum, maximum, sketch)

    def add(self, value: float) -> None:
        self.sample_count += 1
        self.sum += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if self.sketch is not None:
            self.sketch.add(value)

    def merge(self, other: Aggregate) -> None:
        self.sample_count += other.sample_count
        self.sum += other.sum
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        if self.sketch is not None and other.sketch is not None:
            self.sketch.merge(other.sketch)
        else:
            self.sketch = None

    def copy(self) -> Aggregate:
        """An independent copy (merging into it leaves this one as it is)."""
        sketch = self.sketch.copy() if self.sketch is not None else None
        return Aggregate(self.sample_count, self.sum, self.minimum, self.maximum, sketch)

    def percentile(self, q: float) -> float | None:
        """The ``q`` (0..1) quantile of the samples, None where it is unknown (see above)."""
        if self.sketch is None:
            return None
        if q <= 0 or q >= 1:  # the extremes are known exactly
            return self.minimum if q <= 0 else self.maximum
        found = self.sketch.quantile(q)
        return None if found is None else min(max(found, self.minimum), self.maximum)


@dataclass(frozen=True)
class MetricDatum:
    """One stored period (a minute unless downsampled) of one metric."""

    key: MetricKey
    #: The period's start, epoch milliseconds.
    timestamp_ms: int
    unit: str
    aggregate: Aggregate
    #: The period's length: 60 s, or longer once downsampled (see ``monitoring.retention``).
    period_s: int = 60


class MetricStore:
    """Reads and merges per-minute aggregates in table ``metric_data``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def database(self) -> Database:
        return self._database

    async def add(self, data: Sequence[MetricDatum]) -> None:
        """Merge ``data`` into the stored rows in one transaction: counts and sums add up,
        extremes widen, sketches merge."""
        if data:
            await self._database.write(lambda conn: merge_rows(conn, data))

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
            dimensions = parse_dimensions(row.dimensions)
            names = dict(dimensions)
            if all(name in names and value in (None, names[name]) for name, value in dimension_filters):
                found.append(MetricKey(region, row.namespace, row.metric_name, dimensions))
        found.sort(key=lambda key: (key.namespace, key.metric_name, key.dimensions))
        return found

    async def periods(
        self, key: MetricKey, start_ms: int, end_ms: int, period_ms: int, unit: str | None = None
    ) -> list[MetricDatum]:
        """What :meth:`minutes` reads, already merged per period of ``period_ms`` from
        ``start_ms`` rounded down to the minute, by the database (no sketches): one row per
        period with data, at the period's start. Rows longer than ``period_ms`` stay rows
        of their own. Feeding these to ``statistics.datapoints`` with the same arguments
        gives the same datapoints as the minutes would, at a fraction of the cost."""
        origin = start_ms - start_ms % MINUTE_MS
        c = metric_data.c
        begins = case(
            (c.period_s * 1000 > period_ms, c.timestamp_ms),
            (c.timestamp_ms < origin, origin),
            else_=origin + (c.timestamp_ms - origin) // period_ms * period_ms,
        ).label("begins")
        query = (
            select(
                begins,
                func.min(c.unit).label("unit"),
                func.sum(c.sample_count).label("sample_count"),
                func.sum(c.sum).label("sum"),
                func.min(c.minimum).label("minimum"),
                func.max(c.maximum).label("maximum"),
                func.max(c.period_s).label("period_s"),
            )
            .where(*_series(key), *_overlapping(start_ms, end_ms))
            .group_by(begins)
            .order_by(begins)
        )
        if unit is not None:
            query = query.where(c.unit == unit)
        rows = await self._database.read(lambda conn: conn.execute(query).all())
        return [
            MetricDatum(
                key,
                int(row.begins),
                row.unit,
                Aggregate(row.sample_count, row.sum, row.minimum, row.maximum),
                max(row.period_s, period_ms // 1000),
            )
            for row in rows
        ]

    async def minutes(
        self, key: MetricKey, start_ms: int, end_ms: int, unit: str | None = None, *, sketches: bool = False
    ) -> list[MetricDatum]:
        """The stored rows of ``key`` that overlap [start_ms, end_ms) and begin before
        ``end_ms``, oldest first; only ``unit``'s if given.

        Rows are minutes, or longer periods once downsampled (``period_s``). Percentile
        sketches are read only with ``sketches`` (they cost time to decode); without,
        every aggregate's ``sketch`` is None.
        """
        columns = [c for c in metric_data.c if sketches or c.name != "histogram"]
        query = (
            select(*columns)
            .where(*_series(key), *_overlapping(start_ms, end_ms))
            .order_by(metric_data.c.timestamp_ms)
        )
        if unit is not None:
            query = query.where(metric_data.c.unit == unit)
        rows = await self._database.read(lambda conn: conn.execute(query).all())
        return [
            MetricDatum(
                key,
                row.timestamp_ms,
                row.unit,
                Aggregate(
                    row.sample_count,
                    row.sum,
                    row.minimum,
                    row.maximum,
                    Sketch.from_json(row.histogram) if sketches and row.histogram else None,
                ),
                row.period_s,
            )
            for row in rows
        ]


def _series(key: MetricKey) -> tuple[ColumnElement[bool], ...]:
    c = metric_data.c
    return (
        c.region == key.region,
        c.namespace == key.namespace,
        c.metric_name == key.metric_name,
        c.dimensions == canonical(key.dimensions),
    )


def _overlapping(start_ms: int, end_ms: int) -> tuple[ColumnElement[bool], ...]:
    """Rows that begin before ``end_ms`` and end after ``start_ms``."""
    c = metric_data.c
    return (c.timestamp_ms > start_ms - LONGEST_PERIOD_MS, c.timestamp_ms + c.period_s * 1000 > start_ms, c.timestamp_ms < end_ms)


def merge_rows(conn: Connection, data: Sequence[MetricDatum]) -> None:
    """Merge ``data`` into ``metric_data`` within the caller's transaction with one
    ``INSERT ... ON CONFLICT DO UPDATE`` statement, executed for all rows at once.

    Aggregates merge in SQL; sketches (JSON) merge here, so on PostgreSQL, where writers
    run concurrently, the merge holds a transaction lock that every writer of
    ``metric_data`` takes (:func:`lock_rows`).
    """
    combined: dict[tuple[MetricKey, int], MetricDatum] = {}
    for datum in data:
        slot = (datum.key, datum.timestamp_ms)
        found = combined.get(slot)
        if found is None:
            combined[slot] = MetricDatum(datum.key, datum.timestamp_ms, datum.unit, datum.aggregate.copy(), datum.period_s)
        else:
            found.aggregate.merge(datum.aggregate)
            if datum.period_s > found.period_s:
                combined[slot] = MetricDatum(found.key, found.timestamp_ms, found.unit, found.aggregate, datum.period_s)
    lock_rows(conn)
    stored = _stored_sketches(conn, [d for d in combined.values() if d.aggregate.sketch is not None])
    rows = []
    for (key, timestamp_ms), datum in combined.items():
        sketch = datum.aggregate.sketch
        if sketch is not None and (key, timestamp_ms) in stored:
            before = stored[(key, timestamp_ms)]
            if before is None:
                sketch = None
            else:
                before.merge(sketch)
                sketch = before
        aggregate = datum.aggregate
        rows.append(
            {
                "region": key.region,
                "namespace": key.namespace,
                "metric_name": key.metric_name,
                "dimensions": canonical(key.dimensions),
                "timestamp_ms": timestamp_ms,
                "sample_count": aggregate.sample_count,
                "sum": aggregate.sum,
                "minimum": aggregate.minimum,
                "maximum": aggregate.maximum,
                "unit": datum.unit,
                "histogram": sketch.to_json() if sketch is not None else None,
                "period_s": datum.period_s,
            }
        )
    postgresql = conn.dialect.name == "postgresql"
    insert = postgresql_insert if postgresql else sqlite_insert
    least, greatest = (func.least, func.greatest) if postgresql else (func.min, func.max)
    statement = insert(metric_data)
    new, old = statement.excluded, metric_data.c
    statement = statement.on_conflict_do_update(
        index_elements=[old.region, old.namespace, old.metric_name, old.dimensions, old.timestamp_ms],
        set_={
            "sample_count": old.sample_count + new.sample_count,
            "sum": old.sum + new.sum,
            "minimum": least(old.minimum, new.minimum),
            "maximum": greatest(old.maximum, new.maximum),
            "histogram": new.histogram,
            "period_s": greatest(old.period_s, new.period_s),
        },
    )
    if rows:
        conn.execute(statement, rows)  # one statement, executed for every row (executemany)


def lock_rows(conn: Connection) -> None:
    """Serialize writers of ``metric_data`` until the transaction ends (PostgreSQL; SQLite
    has one writer already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_LOCK)))


def _stored_sketches(conn: Connection, data: Sequence[MetricDatum]) -> dict[tuple[MetricKey, int], Sketch | None]:
    """The stored sketches of the rows ``data`` will merge into (None: the row has samples
    without one, so the merged row has none either)."""
    series: dict[MetricKey, list[int]] = {}
    for datum in data:
        series.setdefault(datum.key, []).append(datum.timestamp_ms)
    found: dict[tuple[MetricKey, int], Sketch | None] = {}
    for key, times in series.items():
        for first in range(0, len(times), CHUNK):
            rows = conn.execute(
                select(metric_data.c.timestamp_ms, metric_data.c.sample_count, metric_data.c.histogram).where(
                    *_series(key), metric_data.c.timestamp_ms.in_(times[first : first + CHUNK])
                )
            )
            for row in rows:
                if row.histogram is not None:
                    found[(key, row.timestamp_ms)] = Sketch.from_json(row.histogram)
                elif row.sample_count > 0:
                    found[(key, row.timestamp_ms)] = None
    return found
