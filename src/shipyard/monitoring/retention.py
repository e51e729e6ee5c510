"""Metric retention as CloudWatch has it: minutes for a while, then 5-minute rows, then hours.

CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days and 1-hour data 455 days.
:func:`downsample` merges the stored rows older than a tier's age into rows of the next
tier's period (counts, sums, extremes and percentile sketches all merge, so every statistic
of the longer period stays exact, percentiles within the sketch's accuracy), and deletes
hour rows past the last tier's age, logging how many. :class:`MetricRetention` runs it in
the background.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from shipyard.compute.ticker import Ticker
from shipyard.monitoring.histogram import Sketch
from shipyard.monitoring.metric_store import (
    Aggregate,
    MetricDatum,
    MetricKey,
    lock_rows,
    merge_rows,
    parse_dimensions,
)
from shipyard.store.database import Database
from shipyard.store.tables import metric_data

log = logging.getLogger("shipyard.monitoring.retention")

DAY_MS = 86_400_000
#: Rows one transaction downsamples at most (the rest follow in further transactions).
BATCH = 20_000


@dataclass(frozen=True)
class Tier:
    """Rows of ``period_s`` are kept ``days``; older ones become rows of ``next_period_s``
    (None: they are deleted)."""

    period_s: int
    days: float
    next_period_s: int | None


def tiers(minute_days: float = 15, five_minute_days: float = 63, hour_days: float = 455) -> tuple[Tier, ...]:
    """CloudWatch's schedule, with each tier's age configurable."""
    return (Tier(60, minute_days, 300), Tier(300, five_minute_days, 3600), Tier(3600, hour_days, None))


def downsample(conn: Connection, tier: Tier, now_ms: int, *, limit: int = BATCH) -> int:
    """Merge (or, for the last tier, delete) up to ``limit`` rows of ``tier`` that are past
    its age, in the caller's transaction; returns how many rows it took."""
    lock_rows(conn)
    cutoff = now_ms - int(tier.days * DAY_MS)
    if tier.next_period_s is None:
        expired = conn.execute(
            delete(metric_data).where(metric_data.c.period_s == tier.period_s, metric_data.c.timestamp_ms < cutoff)
        ).rowcount
        if expired:
            log.info("deleted %d metric rows of %d s older than %s days", expired, tier.period_s, tier.days)
        return 0
    step_ms = tier.next_period_s * 1000
    cutoff -= cutoff % step_ms  # whole target periods only
    rows = conn.execute(
        select(metric_data)
        .where(metric_data.c.period_s == tier.period_s, metric_data.c.timestamp_ms < cutoff)
        .order_by(metric_data.c.timestamp_ms, metric_data.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    merged: dict[tuple[str, str, str, str, int], MetricDatum] = {}
    for row in rows:
        start = row.timestamp_ms - row.timestamp_ms % step_ms
        aggregate = Aggregate(
            row.sample_count,
            row.sum,
            row.minimum,
            row.maximum,
            Sketch.from_json(row.histogram) if row.histogram else None,
        )
        slot = (row.region, row.namespace, row.metric_name, row.dimensions, start)
        found = merged.get(slot)
        if found is None:
            key = MetricKey(row.region, row.namespace, row.metric_name, parse_dimensions(row.dimensions))
            merged[slot] = MetricDatum(key, start, row.unit, aggregate, tier.next_period_s)
        else:
            found.aggregate.merge(aggregate)
    ids = [row.id for row in rows]
    for first in range(0, len(ids), 1000):
        conn.execute(delete(metric_data).where(metric_data.c.id.in_(ids[first : first + 1000])))
    merge_rows(conn, list(merged.values()))
    return len(rows)


class MetricRetention:
    """Downsamples the metric store at start and every ``interval`` seconds."""

    def __init__(self, database: Database, schedule: Sequence[Tier], *, interval: float = 3600.0) -> None:
        self._database = database
        self._schedule = tuple(schedule)
        self._ticker = Ticker(self.run, lambda: False, "shipyard-metric-retention", idle_interval=interval)

    def start(self) -> None:
        self._ticker.start()
        self._ticker.wake()

    async def close(self) -> None:
        await self._ticker.stop()

    async def run(self, now_ms: int | None = None) -> None:
        """Bring every tier up to date (several transactions when there is much to do)."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        for tier in self._schedule:
            while await self._database.write(lambda conn, tier=tier: downsample(conn, tier, now)) >= BATCH:
                pass
