"""CloudWatch's statistics of a period, from the stored rows (minutes or downsampled
periods) that fall in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.monitoring.extended_statistics import extended_statistic
from shipyard.monitoring.metric_store import MINUTE_MS, Aggregate, MetricDatum

#: The statistics ``Statistics`` may name, as CloudWatch spells them.
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
#: Periods under a minute that CloudWatch accepts (the data is per minute: they read minutes).
SHORT_PERIODS = (1, 5, 10, 30)


def is_period(seconds: int) -> bool:
    """Whether CloudWatch accepts ``seconds`` as a Period: 1, 5, 10, 30 or a multiple of 60."""
    return seconds in SHORT_PERIODS or (seconds > 0 and seconds % 60 == 0)


def is_statistic(name: str) -> bool:
    """Whether ``name`` is one of :data:`STATISTICS` or an extended statistic (``p99``,
    ``tm90``, ``IQM``, ``PR(:300)``...: see :mod:`shipyard.monitoring.extended_statistics`)."""
    return name in STATISTICS or extended_statistic(name) is not None


def needs_sketch(name: str) -> bool:
    """Whether statistic ``name`` is computed from the samples' sketches (every extended
    statistic is), so its periods must be read with them."""
    return name not in STATISTICS


@dataclass(frozen=True)
class Datapoint:
    """The aggregate of one period."""

    #: The period's start, epoch milliseconds.
    timestamp_ms: int
    unit: str
    aggregate: Aggregate

    def statistic(self, name: str) -> float | None:
        """The value of statistic ``name``: one of :data:`STATISTICS`, or an extended
        statistic such as ``"p99.9"`` or ``"tm90"`` (see :func:`is_statistic`).

        A percentile is estimated within 1 % (relative) of the samples' true percentile.
        Extended statistics are None where the period has samples without a sketch
        (``StatisticValues`` sets, or minutes read without ``sketches=True``). Other names
        raise ``KeyError``.
        """
        aggregate = self.aggregate
        if name == "Average":
            return aggregate.sum / aggregate.sample_count
        extended = extended_statistic(name)
        if extended is not None:
            return extended.value(aggregate)
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
    """One datapoint per period of ``period_ms`` from :func:`aligned_start` that has data, oldest first.

    A stored row longer than ``period_ms`` (downsampled data) is a datapoint of its own,
    at its own start; one that begins before the first period counts in the first period.
    """
    origin = aligned_start(start_ms)
    periods: dict[int, Datapoint] = {}
    for minute in minutes:
        if minute.period_s * 1000 > period_ms:
            begins = minute.timestamp_ms
        else:
            begins = origin + max(minute.timestamp_ms - origin, 0) // period_ms * period_ms
        found = periods.get(begins)
        if found is None:
            periods[begins] = Datapoint(begins, minute.unit, minute.aggregate.copy())
        else:
            found.aggregate.merge(minute.aggregate)
    return [periods[begins] for begins in sorted(periods)]
