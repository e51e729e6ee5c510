"""Monitoring: CloudWatch-style metrics of what the server runs (endpoint invocations first).

Samples are summarized in memory per metric and minute (:class:`MetricBuffer`), merged into
table ``metric_data`` (:class:`MetricStore`), and read back as CloudWatch's statistics
(:mod:`~shipyard.monitoring.statistics`) through the CloudWatch API.
"""

from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.metric_store import (
    MINUTE_MS,
    Aggregate,
    Dimensions,
    MetricDatum,
    MetricKey,
    MetricStore,
    canonical,
)
from shipyard.monitoring.statistics import (
    STATISTICS,
    Datapoint,
    aligned_start,
    datapoints,
)

__all__ = [
    "MINUTE_MS",
    "STATISTICS",
    "Aggregate",
    "Datapoint",
    "Dimensions",
    "MetricBuffer",
    "MetricDatum",
    "MetricKey",
    "MetricStore",
    "aligned_start",
    "canonical",
    "datapoints",
]
