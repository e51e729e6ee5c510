"""CloudWatch's statistics of a period, from the per-minute aggregates that fall in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.monitoring.metric_store import MINUTE_MS, Aggregate, MetricDatum

#: The statistics ``Statistics`` may name, as CloudWatch spells them.
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass(frozen=True)
class Datapoint:
    """The aggregate of one period."""

    #: The period's start, epoch milliseconds.
    timestamp_ms: int
    unit: str
    aggregate: Aggregate

    def statistic(self, name: str) -> float:
        """The value of statistic ``name`` (one of :data:`STATISTICS`)."""
        aggregate = self.aggregate
        if name == "Average":
            return aggregate.sum / aggregate.sample_count
        return {
            "SampleCount": aggregate.sample_count,
            "Sum": aggregate.sum,
            "Minimum": aggregate.minimum,
            "Maximum": aggregate.maximum,
        }[name]


def aligned_start(start_ms: int) -> int:
    """The first period's start: the start time rounded down to the minute, as CloudWatch does."""
    return start_ms - start_ms % MINUTE_MS


def datapoints(minutes: Iterable[MetricDatum], *, start_ms: int, period_ms: int) -> list[Datapoint]:
    """One datapoint per period of ``period_ms`` from :func:`aligned_start` that has data, oldest first."""
    origin = aligned_start(start_ms)
    periods: dict[int, Datapoint] = {}
    for minute in minutes:
        begins = origin + (minute.timestamp_ms - origin) // period_ms * period_ms
        found = periods.get(begins)
        if found is None:
            value = minute.aggregate
            periods[begins] = Datapoint(
                begins, minute.unit, Aggregate(value.sample_count, value.sum, value.minimum, value.maximum)
            )
        else:
            found.aggregate.merge(minute.aggregate)
    return [periods[begins] for begins in sorted(periods)]
