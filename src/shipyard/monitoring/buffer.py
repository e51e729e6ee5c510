"""Metric samples summarized in memory, per metric and minute, until they are stored.

Recording sits on hot paths (every ``InvokeEndpoint`` records several metrics), so it is a
dict lookup and a few float operations; the rows are written later, together, by whoever
drains the buffer into a :class:`~shipyard.monitoring.metric_store.MetricStore`.
"""

from __future__ import annotations

from shipyard.monitoring.metric_store import (
    MINUTE_MS,
    Aggregate,
    MetricDatum,
    MetricKey,
)


class MetricBuffer:
    """Per-minute aggregates of recorded samples, not yet stored."""

    def __init__(self) -> None:
        self._minutes: dict[tuple[MetricKey, int], tuple[str, Aggregate]] = {}

    def __len__(self) -> int:
        return len(self._minutes)

    def record(self, key: MetricKey, value: float, unit: str, time_ms: int) -> None:
        """Add one sample of ``key`` taken at ``time_ms`` (epoch milliseconds)."""
        slot = (key, time_ms - time_ms % MINUTE_MS)
        found = self._minutes.get(slot)
        if found is None:
            self._minutes[slot] = (unit, Aggregate.of(value))
        else:
            found[1].add(value)

    def drain(self) -> list[MetricDatum]:
        """Everything recorded since the last drain; the buffer is empty afterwards."""
        minutes, self._minutes = self._minutes, {}
        return [MetricDatum(key, minute, unit, aggregate) for (key, minute), (unit, aggregate) in minutes.items()]

    def restore(self, data: list[MetricDatum]) -> None:
        """Put drained ``data`` back (their write failed), merged with what was recorded since."""
        for datum in data:
            slot = (datum.key, datum.timestamp_ms)
            found = self._minutes.get(slot)
            if found is None:
                self._minutes[slot] = (datum.unit, datum.aggregate)
            else:
                found[1].merge(datum.aggregate)
